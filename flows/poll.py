"""The poll-feeds flow: seeds in, feeds polled, new pages extracted, deduplicated, stored."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from extractors import collect
from extractors.collect import FeedPoll, FeedState, PageResult, PendingEntry
from extractors.seeds import load_seeds
from newsmon.feedlist import Feed, load_feeds
from newsmon.report import markdown_summary, one_line_summary
from newsmon.settings import Settings
from storage import queries
from storage.db import connect, migrate
from storage.entries import new_entries
from storage.writer import RunReport, store_run, store_seeds

# Prefect ships these loggers to the run logs (logging.extra_loggers) but leaves
# their level at the root's WARNING: the one-line-per-feed INFO records would be lost.
for _name in ("extractors", "storage"):
    logging.getLogger(_name).setLevel(logging.INFO)

# Inputs are lists of records; hashing them for a cache key would cost more than the work.
TASK_OPTIONS = {"cache_policy": NO_CACHE}


@task(**TASK_OPTIONS)
def prepare_database(settings: Settings, feeds: list[Feed]) -> dict[str, FeedState]:
    """Migrate, load the seeds, register the feeds; returns each feed's conditional-GET state."""
    with connect(settings.db_path) as conn:
        migrate(conn)
        store_seeds(conn, load_seeds(settings.seeds_path), datetime.now(UTC))
        queries.sync_feeds(conn, [(feed.url, feed.name) for feed in feeds])
        return queries.feed_states(conn)


@task(**TASK_OPTIONS)
def poll(feeds: list[Feed], states: dict[str, FeedState], settings: Settings) -> list[FeedPoll]:
    return collect.poll_all(feeds, states, settings)


@task(**TASK_OPTIONS)
def select_new_entries(polls: list[FeedPoll], settings: Settings) -> list[PendingEntry]:
    with connect(settings.db_path) as conn:
        return new_entries(conn, polls)


@task(**TASK_OPTIONS)
def fetch_and_extract(entries: list[PendingEntry], settings: Settings) -> list[PageResult]:
    return collect.fetch_all(entries, settings)


@task(**TASK_OPTIONS)
def store(
    report: RunReport, polls: list[FeedPoll], pages: list[PageResult], settings: Settings
) -> RunReport:
    with connect(settings.db_path) as conn:
        return store_run(conn, report, polls, pages)


@flow(name="poll-feeds", task_runner=ThreadPoolTaskRunner(max_workers=4))
def poll_feeds(
    feeds_file: str | None = None, db_path: str | None = None, seeds_dir: str | None = None
) -> RunReport:
    """Poll every feed once and store what is new; defaults come from NEWSMON_* settings."""
    logger = get_run_logger()
    settings = Settings.from_env().replace(
        feeds_path=Path(feeds_file) if feeds_file else None,
        db_path=Path(db_path) if db_path else None,
        seeds_path=Path(seeds_dir) if seeds_dir else None,
    )
    started_at = datetime.now(UTC)
    feeds = load_feeds(settings.feeds_path)

    states = prepare_database(settings, feeds)
    polls = poll(feeds, states, settings)
    entries = select_new_entries(polls, settings)
    pages = fetch_and_extract(entries, settings)
    report = store(
        RunReport(
            run_id=flow_run.get_id() or str(uuid.uuid4()),
            started_at=started_at,
            finished_at=datetime.now(UTC),
            entries_seen=sum(len(p.items) for p in polls),
        ),
        polls,
        pages,
        settings,
    )

    logger.info(one_line_summary(report))
    create_markdown_artifact(
        key="poll-summary", markdown=markdown_summary(report), description="What this poll stored"
    )
    return report
