"""The backfill flow: a web archive (WARC) or a list of URLs, through the same extraction,
deduplication and storage as a poll, a batch at a time, resuming where the last run stopped."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from rich.progress import Progress

from analysis.topic import Topic
from extractors import collect
from extractors.archive import Batch, Format, batches, detect_format
from extractors.normalize import canonical_url
from extractors.robots import origin_of
from extractors.seeds import load_seeds
from flows import as_is
from newsmon.feedlist import load_topic
from newsmon.records import (
    BackfillProgress,
    FeedItem,
    PageBatch,
    PendingEntry,
    RobotsTxt,
    RunRecords,
    RunReport,
)
from newsmon.runlock import run_lock
from newsmon.settings import Settings
from storage import runs, sources
from storage.analysis import analyse_pending
from storage.db import open_database
from storage.writer import store_backfill, store_seeds


@dataclass(slots=True)
class BackfillReport:
    source: str
    records: int = 0  # read in this run
    articles_new: int = 0
    duplicates: int = 0
    pages_rejected: int = 0
    pages_failed: int = 0
    skipped: int = 0  # damaged stretches of an archive, or lines of a URL list, left out
    finished: bool = False

    def summary(self) -> str:
        state = "done" if self.finished else "stopped early; run it again to go on"
        skipped = (
            f", {self.skipped} damaged or unusable parts skipped (see backfill_skips)"
            if self.skipped
            else ""
        )
        return (
            f"backfill of {self.source}: {self.records} records read, {self.articles_new} new "
            f"articles, {self.duplicates} duplicates, {self.pages_rejected} pages without text, "
            f"{self.pages_failed} left to retry{skipped} ({state})."
        )


@task(cache_policy=NO_CACHE)
def extract_batch(batch: Batch, robots: dict[str, RobotsTxt], settings: Settings) -> PageBatch:
    """Fetch a URL list's pages (robots.txt obeyed, the stored rules first, as a poll does),
    or extract an archive's responses."""
    if batch.urls:
        entries = [_entry(url) for url in batch.urls]
        with open_database(settings) as conn:
            stored = sources.robots_rules(conn, sorted({origin_of(e.link) for e in entries}))
        return collect.fetch_all(entries, {**stored, **robots}, settings)
    pages = collect.extract_captured([(_entry(f.url), f) for f in batch.captured], settings)
    return PageBatch(pages, [])


@task(cache_policy=NO_CACHE)
def store_batch(records: RunRecords, progress: BackfillProgress, settings: Settings) -> RunReport:
    with open_database(settings) as conn:
        return store_backfill(conn, records, progress)


@task(cache_policy=NO_CACHE)
def analyse(topic: Topic, settings: Settings) -> None:
    """Relevance, stories, facts and developments of the batch just stored."""
    with open_database(settings) as conn:
        analyse_pending(conn, topic, datetime.now(UTC), embedder=collect.pool_embedder(settings))


@flow(name="backfill", task_runner=cast(TaskRunner[Any], ThreadPoolTaskRunner(max_workers=2)))
def backfill(
    path: str,
    db_path: str | None = None,
    batch_size: int = 200,
    max_records: int | None = None,
    show_progress: bool = False,
) -> BackfillReport:
    """Store the articles in `path` (WARC or ARC, plain or gzip, or one URL per line).

    Each batch is stored with the file position reached, so a run that stops
    (killed, or after `max_records`) is resumed by the next one on the same file.
    An archive's pages are read from the archive: nothing is fetched from the network.
    """
    settings = Settings.from_env().replace(db_path=Path(db_path) if db_path else None)
    settings.check_ready()  # the seeds are the baseline here too
    source = Path(path).resolve()
    kind = detect_format(source)  # refuses what is neither, before anything is stored
    run_id = flow_run.get_id() or str(uuid.uuid4())
    with run_lock(settings.db_path, f"backfill run {run_id}"):
        report = backfill_source(source, kind, settings, run_id, batch_size, max_records,
                                 show_progress)  # fmt: skip
    get_run_logger().info(report.summary())
    return report


def backfill_source(
    source: Path,
    kind: Format,
    settings: Settings,
    run_id: str,
    batch_size: int,
    max_records: int | None,
    show_progress: bool,
) -> BackfillReport:
    """The backfill's story: seeds in, then batch by batch extract, store (with the position
    reached) and analyse, until the source ends or `max_records` are read."""
    logger = get_run_logger()
    key = f"{source} ({source.stat().st_size} bytes)"
    report = BackfillReport(str(source))
    seeds = load_seeds(settings.seeds_path)
    topic = load_topic(settings.feeds_path, [seed.text for seed in seeds])
    with open_database(settings) as conn:
        store_seeds(conn, seeds, datetime.now(UTC))
        position, read, stored, report.finished = runs.backfill_progress(conn, key)
    if report.finished:
        logger.info("%s was backfilled completely already", source)
        return report
    if position:
        logger.info("resuming %s at %s %d", source, _unit(kind), position)

    robots: dict[str, RobotsTxt] = {}  # fetched in this run
    with _progress_bar(show_progress, source, kind) as bar:
        for batch in batches(source, kind, position, batch_size):
            pages = extract_batch(as_is(batch), robots, settings)
            robots.update({r.origin: r for r in pages.robots})
            now = datetime.now(UTC)
            stored_batch = store_batch(
                as_is(RunRecords(RunReport(run_id, now, now), [], pages, topic)),
                BackfillProgress(
                    key, batch.end, read + batch.read, stored, False, tuple(batch.skipped)
                ),
                settings,
            )
            analyse(topic, settings)
            for skip in batch.skipped:
                logger.warning("%s: skipped %d from %s %d: %s", source.name, skip.length,
                               _unit(kind), skip.offset, skip.reason)  # fmt: skip
            report.skipped += len(batch.skipped)
            read += batch.read
            stored += stored_batch.articles_new + stored_batch.duplicates
            report.records += batch.read
            report.articles_new += stored_batch.articles_new
            report.duplicates += stored_batch.duplicates
            report.pages_rejected += stored_batch.pages_rejected
            report.pages_failed += stored_batch.pages_failed
            logger.info("%s: %d records read, position %d", source.name, read, batch.end)
            if bar is not None:
                bar.update(bar.task_ids[0], completed=batch.end)
            if max_records is not None and report.records >= max_records:
                break
        else:
            with open_database(settings) as conn:
                runs.save_backfill_progress(
                    conn, BackfillProgress(key, _size(source, kind), read, stored, finished=True)
                )
            report.finished = True
    return report


def _entry(url: str) -> PendingEntry:
    return PendingEntry(None, canonical_url(url), url, FeedItem(url, None, None, None, None, None))


def _unit(kind: Format) -> str:
    """What positions in `kind` count: bytes of an archive, lines of a URL list."""
    return "byte" if kind == "archive" else "line"


def _size(source: Path, kind: Format) -> int:
    """Where the end of `source` is, in the unit batches count in (bytes, or lines)."""
    if kind == "archive":
        return source.stat().st_size
    with source.open("rb") as lines:
        return sum(1 for _ in lines)


def _progress_bar(show: bool, source: Path, kind: Format) -> Progress | nullcontext[None]:
    if not show:
        return nullcontext()
    bar = Progress(transient=False)
    bar.add_task(f"backfill {source.name}", total=_size(source, kind))
    return bar
