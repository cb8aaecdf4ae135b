"""The poll-feeds flow: seeds in, feeds polled, new pages extracted, deduplicated, stored,
analysed; each step a task, the work itself in plain functions elsewhere."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import unmapped

from analysis.topic import Topic
from extractors import collect
from extractors.robots import origin_of
from extractors.seeds import Seed, load_seeds
from flows import as_is
from newsmon.errors import DatabaseError, DatabaseLockedError, RunFailedError
from newsmon.feedlist import load_feeds, load_topic
from newsmon.records import (
    Feed,
    FeedPoll,
    FeedState,
    PageBatch,
    PendingEntry,
    RobotsTxt,
    RunRecords,
    RunReport,
)
from newsmon.report import feed_table, markdown_summary, one_line_summary, run_failure
from newsmon.runlock import RunLockedError, run_lock
from newsmon.settings import Settings
from storage import search, sources, spool
from storage.analysis import analyse_run
from storage.db import connect, open_database
from storage.entries import new_entries
from storage.snapshot import export
from storage.spool import spool_dir
from storage.writer import store_run, store_seeds

# Prefect ships these loggers to the run logs (logging.extra_loggers) but leaves
# their level at the root's WARNING: the one-line-per-feed INFO records would be lost.
for _name in ("extractors", "storage"):
    logging.getLogger(_name).setLevel(logging.INFO)

# Inputs are lists of records; hashing them for a cache key would cost more than the work:
# every task here is @task(cache_policy=NO_CACHE).


@task(cache_policy=NO_CACHE)
def catch_up_spool(settings: Settings) -> list[RunReport]:
    """Store the runs earlier polls had to spool, oldest first."""
    folder = spool_dir(settings.db_path)
    if not spool.pending(folder):
        return []
    try:
        with open_database(settings) as conn:
            return spool.ingest(conn, folder, settings.feed_backoff)
    except DatabaseLockedError as exc:
        get_run_logger().warning("%s; the spooled runs wait for the next run", exc)
        return []


@task(cache_policy=NO_CACHE)
def prepare_database(
    settings: Settings, feeds: list[Feed], seeds: list[Seed]
) -> dict[str, FeedState]:
    """Migrate, load the seeds, register the feeds (marking removed ones); returns their states.

    A database that stays locked is not fatal: the run polls every feed from scratch
    and spools what it gathers.
    """
    logger = get_run_logger()
    try:
        with open_database(settings) as conn:
            store_seeds(conn, seeds, datetime.now(UTC))
            for name in sources.sync_feeds(
                conn, [(feed.url, feed.name) for feed in feeds], datetime.now(UTC)
            ):
                logger.info("feed %s is no longer in the feeds file: marked removed", name)
            return sources.feed_states(conn)
    except DatabaseLockedError as exc:
        logger.warning("%s; polling every feed without its stored state", exc)
        return {}


@task(cache_policy=NO_CACHE)
def poll(feeds: list[Feed], states: dict[str, FeedState], settings: Settings) -> list[FeedPoll]:
    return collect.poll_all(feeds, states, settings)


@task(cache_policy=NO_CACHE)
def select_new_entries(
    polls: list[FeedPoll], topic: Topic, settings: Settings
) -> tuple[list[PendingEntry], PageBatch, dict[str, RobotsTxt]]:
    """The entries to fetch, those skipped as clearly off topic (stored without their
    page, so they are not looked at again), and the robots.txt rules of their sites."""
    try:
        with connect(settings.db_path, read_only=True, wait=settings.lock_wait) as conn:
            entries = new_entries(conn, polls)
            robots = sources.robots_rules(conn, sorted({origin_of(e.link) for e in entries}))
    except DatabaseLockedError as exc:
        get_run_logger().warning("%s; fetching every entry's page", exc)
        entries, robots = new_entries(None, polls), {}
    wanted, skipped = collect.skip_off_topic(entries, topic)
    return wanted, skipped, robots


@task(cache_policy=NO_CACHE)
def fetch_and_extract(
    entries: list[PendingEntry], robots: dict[str, RobotsTxt], settings: Settings
) -> PageBatch:
    return collect.fetch_all(entries, robots, settings)


@task(cache_policy=NO_CACHE)
def store(records: RunRecords, settings: Settings) -> RunReport:
    """Write the run in one transaction, or spool it when the database stays locked.

    Any other failure of the writer spools the run too, then fails the task: the
    records are safe, and the error needs a person, not a retry.
    """
    try:
        with open_database(settings) as conn:
            return store_run(conn, records, settings.feed_backoff)
    except DatabaseLockedError as exc:
        path = _spool(records, settings)
        message = f"{exc}; this run's records are spooled to {path} for the next run to store"
        get_run_logger().warning(message)
        return replace(records.report, spooled=True, errors=[*records.report.errors, message])
    except Exception as exc:
        path = _spool(records, settings)
        raise DatabaseError(
            f"Could not store the run in {settings.db_path} ({type(exc).__name__}: {exc}); "
            f"its records are kept in {path} and stored by the next run that can"
        ) from exc


def _spool(records: RunRecords, settings: Settings) -> Path:
    """Keep the run's records on disk, marked as spooled, for the next run to store."""
    marked = replace(records, report=replace(records.report, spooled=True))
    return spool.write(marked, spool_dir(settings.db_path))


@task(cache_policy=NO_CACHE)
def analyse(report: RunReport, topic: Topic, settings: Settings) -> RunReport:
    """Relevance, stories, facts and developments of what is stored and not analysed yet;
    then the search index is sorted again if enough was appended since (storage/search.py).

    A spooled run is analysed when it is stored; a locked database leaves the articles
    for the next run's analysis, which picks up everything pending.
    """
    if report.spooled:
        return report
    try:
        with open_database(settings) as conn:
            analysed = analyse_run(conn, report, topic, collect.pool_embedder(settings))
            if search.compact_if_due(conn, datetime.now(UTC)):
                get_run_logger().info("the search index was sorted again (storage/search.py)")
            return analysed
    except DatabaseLockedError as exc:
        message = f"{exc}; the stored articles are analysed by the next run"
        get_run_logger().warning(message)
        return replace(report, errors=[*report.errors, message])


@task(cache_policy=NO_CACHE)
def refresh_snapshot(report: RunReport, settings: Settings) -> RunReport:
    """The analysts' Parquet snapshot, as of this run; a problem is reported, never fatal
    (the run is stored already)."""
    if not settings.snapshot or report.spooled:
        return report
    try:
        with connect(settings.db_path, read_only=True, wait=settings.lock_wait) as conn:
            export(conn, settings.db_path, report.run_id)
    except (OSError, DatabaseError, duckdb.Error) as exc:
        message = f"the Parquet snapshot was not refreshed ({type(exc).__name__}: {exc})"
        get_run_logger().warning(message)
        return replace(report, errors=[*report.errors, message])
    return report


def _task_runner() -> TaskRunner[Any]:
    """Threads, or the Dask cluster NEWSMON_DASK_ADDRESS names. Read when this module is
    imported: Prefect fixes a flow's task runner when the flow is defined."""
    address = Settings.from_env().dask_address.strip()
    if address:
        from prefect_dask.task_runners import DaskTaskRunner

        return DaskTaskRunner(address=address)
    return ThreadPoolTaskRunner(max_workers=4)


@flow(name="poll-feeds", task_runner=_task_runner())
def poll_feeds(
    feeds_file: str | None = None,
    db_path: str | None = None,
    seeds_dir: str | None = None,
    force: bool = False,
) -> RunReport | None:
    """Poll every due feed once and store what is new; defaults come from NEWSMON_* settings.

    `force` polls feeds that are backing off or disabled too. Returns None when
    another run still holds the database: this one is skipped. Ends Failed (raises
    RunFailedError, carrying the report) when no feed worked or the run was not stored.
    """
    settings = Settings.from_env().replace(
        feeds_path=Path(feeds_file) if feeds_file else None,
        db_path=Path(db_path) if db_path else None,
        seeds_path=Path(seeds_dir) if seeds_dir else None,
    )
    run_id = flow_run.get_id() or str(uuid.uuid4())
    try:
        with run_lock(settings.db_path, f"poll-feeds run {run_id}"):
            report, polls = poll_and_store(settings, run_id, force)
    except RunLockedError as exc:
        get_run_logger().warning(str(exc))
        return None

    publish(report, polls)
    return report


def publish(report: RunReport, polls: list[FeedPoll]) -> None:
    """The run's summary where operators look: the log, two artifacts, and its final state
    (Failed, through RunFailedError carrying the report, when the run did not do its job)."""
    get_run_logger().info(one_line_summary(report))
    create_markdown_artifact(
        key="poll-summary", markdown=markdown_summary(report), description="What this poll stored"
    )
    create_table_artifact(
        key="poll-feeds", table=feed_table(report, polls), description="Each feed in this poll"
    )
    failure = run_failure(report)
    if failure:
        get_run_logger().error(failure)
        raise RunFailedError(failure, report)


def poll_and_store(
    settings: Settings, run_id: str, force: bool
) -> tuple[RunReport, list[FeedPoll]]:
    """The pipeline's story, one task per step."""
    started_at = datetime.now(UTC)
    settings.check_ready()  # a deployment's worker gets here without the CLI's checks
    collect.start_extraction_pool(settings.extract_workers)
    feeds = load_feeds(settings.feeds_path)
    seeds = load_seeds(settings.seeds_path)
    topic = load_topic(settings.feeds_path, [seed.text for seed in seeds])

    states = prepare_database(settings, feeds, seeds)  # the seeds before any spooled run
    catch_up_spool(settings)
    due, waiting = due_feeds(feeds, states, started_at, force)
    polls = poll(due, states, settings)
    entries, skipped, robots = select_new_entries(as_is(polls), topic, settings)
    batch = collect.merge([skipped, *fetch_and_extract_spread(entries, robots, settings)])
    report = polled(run_id, started_at, feeds, polls, waiting)
    report = store(as_is(RunRecords(report, polls, batch, topic)), settings)
    report = analyse(as_is(report), topic, settings)
    report = refresh_snapshot(as_is(report), settings)
    return report, polls


def due_feeds(
    feeds: list[Feed], states: dict[str, FeedState], now: datetime, force: bool
) -> tuple[list[Feed], list[str]]:
    """The feeds to poll now, and a line for each of the others saying why it waits."""
    due = [f for f in feeds if force or states.get(f.url, FeedState()).is_due(now)]
    waiting = [_why_skipped(f, states[f.url]) for f in feeds if f not in due]
    for line in waiting:
        get_run_logger().info(line)
    return due, waiting


def fetch_and_extract_spread(
    entries: list[PendingEntry], robots: dict[str, RobotsTxt], settings: Settings
) -> list[PageBatch]:
    """The one step worth spreading: on threads, or on Dask workers (NEWSMON_DASK_ADDRESS);
    a host's entries stay in one part, so per-host politeness holds."""
    parts = collect.split_by_host(entries, settings.fan_out)
    futures = fetch_and_extract.map(parts, unmapped(robots), unmapped(settings))
    return [future.result() for future in futures]


def polled(
    run_id: str,
    started_at: datetime,
    feeds: list[Feed],
    polls: list[FeedPoll],
    waiting: list[str],
) -> RunReport:
    """The report of the polling part of a run; the store and analysis steps add theirs."""
    return RunReport(
        run_id=run_id,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        feeds_polled=len(polls),
        feeds_failed=sum(p.failed for p in polls),
        feeds_unchanged=sum(p.not_modified for p in polls),
        entries_seen=sum(len(p.items) for p in polls),
        feeds_skipped=len(feeds) - len(polls),
        feeds_waiting=waiting,
        feeds_total=len(feeds),
        errors=[p.error for p in polls if p.error],
    )


def _why_skipped(feed: Feed, state: FeedState) -> str:
    if state.disabled_reason:
        return f"feed {feed.name}: disabled: {state.disabled_reason}"
    until = f"{state.next_poll_at:%Y-%m-%d %H:%M} UTC"
    error = f" (last error: {state.last_error})" if state.last_error else ""
    return (
        f"feed {feed.name}: backing off after {state.consecutive_failures} failures, "
        f"next try {until}{error}"
    )
