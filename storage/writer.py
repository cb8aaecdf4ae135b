"""The one writer: a run's dedup decisions and all its rows, in one transaction.

An entry counts as seen only once its article row is committed, together with
its feed's new conditional-GET state, so a run killed at any point leaves
nothing half-stored: the next run fetches what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from extractors.archive import Skip
from extractors.article import Article
from extractors.collect import FeedPoll, PageBatch, PageResult
from extractors.dedup import Signature, compare
from extractors.normalize import storable
from extractors.seeds import Seed
from extractors.topic import Topic
from storage import queries
from storage.analysis import analyse_pending
from storage.db import transaction

URL, EXACT, NEAR = "url", "exact", "near"
MAX_FEED_BACKOFF = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # 'url', 'exact' or 'near'
    original_id: int
    similarity: float


@dataclass(frozen=True, slots=True)
class StoredArticle:
    article_id: int
    url: str
    title: str | None
    feed_url: str | None  # None for a backfilled page
    duplicate_kind: str | None = None
    duplicate_of: int | None = None
    similarity: float | None = None


@dataclass(slots=True)
class RunReport:
    """What one poll did, for the CLI, the Prefect artifact and poll_runs."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    feeds_polled: int = 0
    feeds_failed: int = 0
    feeds_unchanged: int = 0
    feeds_skipped: int = 0  # backing off or disabled
    entries_seen: int = 0
    articles_new: int = 0
    duplicates: int = 0
    pages_rejected: int = 0
    pages_failed: int = 0
    off_topic: int = 0  # entries skipped before fetching: clearly off topic
    developments: int = 0
    stored: list[StoredArticle] = field(default_factory=list)
    originals: dict[int, str] = field(default_factory=dict)  # id -> seed name or URL, for display
    errors: list[str] = field(default_factory=list)
    spooled: bool = False  # stored from the spool by a later run
    feeds_total: int = 0  # in the feeds file
    feeds_waiting: list[str] = field(default_factory=list)  # why each skipped feed waits

    def as_row(self) -> dict[str, object]:
        return {
            "id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "feeds_polled": self.feeds_polled,
            "feeds_failed": self.feeds_failed,
            "entries_seen": self.entries_seen,
            "articles_new": self.articles_new,
            "duplicates": self.duplicates,
            "pages_rejected": self.pages_rejected,
            "pages_failed": self.pages_failed,
            "feeds_skipped": self.feeds_skipped,
            "spooled": self.spooled,
            "off_topic": self.off_topic,
            "developments": self.developments,
        }


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    source: str  # absolute path and size of the file
    position: int  # where the next batch starts
    records: int  # read so far, in all runs
    stored: int  # articles stored so far, in all runs
    finished: bool
    skipped: tuple[Skip, ...] = ()  # damaged stretches met in this batch


@dataclass(slots=True)
class RunRecords:
    """Everything one poll gathered: what store_run writes, and what the spool keeps."""

    report: RunReport
    polls: list[FeedPoll]
    batch: PageBatch
    topic: Topic = Topic()  # what relevance and developments are measured against


class DuplicateFinder:
    """Finds the original an article copies, among stored articles and this batch.

    Checks run in order of cost: same canonical URL, same normalized text
    (content hash), then near-duplicate by MinHash/LSH (see extractors/dedup.py).
    Lookups are batched up front: four indexed queries per run, whatever its size.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, articles: list[Article]) -> None:
        self._by_url = queries.originals_by_canonical_url(conn, [a.canonical_url for a in articles])
        self._by_hash = queries.originals_by_content_hash(conn, [a.content_hash for a in articles])
        self._bands = {a.content_hash: a.signature.bands() for a in articles}
        wanted = sorted({band for bands in self._bands.values() for band in bands})
        self._buckets = queries.lsh_neighbours(conn, wanted)
        candidates = sorted({i for ids in self._buckets.values() for i in ids})
        self._signatures: dict[int, tuple[Signature, int]] = queries.signatures(conn, candidates)

    def find(self, article: Article) -> Verdict | None:
        if article.canonical_url in self._by_url:
            return Verdict(URL, self._by_url[article.canonical_url], 1.0)
        if article.content_hash in self._by_hash:
            return Verdict(EXACT, self._by_hash[article.content_hash], 1.0)
        best: Verdict | None = None
        for candidate in {
            i for band in self._bands[article.content_hash] for i in self._buckets.get(band, ())
        }:
            other, original = self._signatures[candidate]
            similarity = compare(article.signature, other)
            if similarity.is_near_duplicate and (
                best is None or similarity.score > best.similarity
            ):
                best = Verdict(NEAR, original, similarity.score)
        return best

    def remember(self, article_id: int, article: Article, verdict: Verdict | None) -> None:
        original = verdict.original_id if verdict else article_id
        self._by_url.setdefault(article.canonical_url, original)
        self._by_hash.setdefault(article.content_hash, original)
        self._signatures[article_id] = (article.signature, original)
        for band in self._bands[article.content_hash]:
            self._buckets.setdefault(band, []).append(article_id)


def store_seeds(
    conn: duckdb.DuckDBPyConnection, seeds: list[Seed], topic: Topic, now: datetime
) -> list[str]:
    """Insert new seeds, replace changed ones, and analyse them: their facts are the
    baseline of novelty. Returns the names written. Idempotent."""
    stored = queries.seed_hashes(conn)
    changed = [s for s in seeds if stored.get(s.name) != s.content_hash]
    if not changed:
        return []
    with transaction(conn):
        ids = [queries.article_id_for(f"seed:{s.name}") for s in changed]
        queries.delete_articles(
            conn, [i for i, s in zip(ids, changed, strict=True) if s.name in stored]
        )
        queries.insert_columns(
            conn,
            "articles",
            {
                "article_id": ids,
                "url": [s.url for s in changed],
                "canonical_url": [s.url for s in changed],
                "title": [s.title for s in changed],
                "fetched_at": [now] * len(changed),
                "text": [s.text for s in changed],
                "content_hash": [s.content_hash for s in changed],
                "is_seed": [True] * len(changed),
                "seed_name": [s.name for s in changed],
            },
        )
        queries.insert_signatures(
            conn, {i: s.signature for i, s in zip(ids, changed, strict=True) if s.signature}
        )
        analyse_pending(conn, topic, now)
    return [s.name for s in changed]


def store_run(
    conn: duckdb.DuckDBPyConnection, records: RunRecords, feed_backoff: float
) -> RunReport:
    """Deduplicate and store the pages, update feed health, record the run: one transaction.

    Storing the same records twice (a spool file ingested again after a crash)
    changes nothing the second time.
    """
    report = records.report
    with transaction(conn):
        if queries.run_recorded(conn, report.run_id):
            return report
        retry_feeds = _store_pages(conn, records)
        _analyse(conn, records)
        queries.save_robots_rules(conn, records.batch.robots)
        _store_feed_health(conn, records, retry_feeds, feed_backoff)
        queries.record_run(conn, report.as_row())
    return report


def store_backfill(
    conn: duckdb.DuckDBPyConnection, records: RunRecords, progress: BackfillProgress
) -> RunReport:
    """Store one backfill batch and where the source got to, in one transaction."""
    with transaction(conn):
        _store_pages(conn, records)
        _analyse(conn, records)
        queries.save_robots_rules(conn, records.batch.robots)
        queries.save_backfill_progress(conn, progress)
    return records.report


def _analyse(conn: duckdb.DuckDBPyConnection, records: RunRecords) -> None:
    """Analyse what is pending; the run's report gets its developments and any failures."""
    analysis = analyse_pending(conn, records.topic, records.report.finished_at)
    records.report.developments = analysis.developments
    records.report.errors.extend(analysis.failed)


def _store_pages(conn: duckdb.DuckDBPyConnection, records: RunRecords) -> set[str | None]:
    """Deduplicate and insert the pages not stored yet; returns the feeds of pages to retry."""
    report = records.report
    already = queries.stored_urls(conn, [p.entry.url for p in records.batch.pages])
    pages: list[PageResult] = []
    for page in records.batch.pages:  # each URL once: an archive may hold it twice
        if page.entry.url not in already:
            already.add(page.entry.url)
            pages.append(page)
    finder = DuplicateFinder(conn, [p.article for p in pages if p.article is not None])
    rows: dict[str, list[object]] = {name: [] for name in _ARTICLE_COLUMNS}
    fingerprints: dict[int, Signature] = {}
    retry_feeds: set[str | None] = set()
    for page in pages:
        entry = page.entry
        if page.retry_later:
            report.pages_failed += 1
            retry_feeds.add(entry.feed_url)
            report.errors.append(page.error or f"{entry.link}: failed")
            continue
        article_id = queries.article_id_for(entry.url)
        article = page.article
        verdict = None
        if article is not None:
            verdict = finder.find(article)
            finder.remember(article_id, article, verdict)
            fingerprints[article_id] = article.signature
            if verdict:
                report.duplicates += 1
            else:
                report.articles_new += 1
            report.stored.append(
                StoredArticle(
                    article_id,
                    entry.url,
                    article.title or entry.item.title,
                    entry.feed_url,
                    verdict.kind if verdict else None,
                    verdict.original_id if verdict else None,
                    verdict.similarity if verdict else None,
                )
            )
        elif page.outcome == "off_topic":
            report.off_topic += 1
        else:
            report.pages_rejected += 1
            report.errors.append(page.error or f"{entry.link}: {page.outcome}")
        _append_row(rows, article_id, page, verdict, report.run_id, report.finished_at)
    queries.insert_columns(conn, "articles", rows)
    queries.insert_signatures(conn, fingerprints)
    report.originals = queries.describe_articles(
        conn, sorted({s.duplicate_of for s in report.stored if s.duplicate_of is not None})
    )
    return retry_feeds


def _store_feed_health(
    conn: duckdb.DuckDBPyConnection,
    records: RunRecords,
    retry_feeds: set[str | None],
    feed_backoff: float,
) -> None:
    polls, now = records.polls, records.report.finished_at
    for poll in polls:
        keep_state = poll.failed or poll.feed.url in retry_feeds
        queries.record_feed_poll(
            conn,
            poll.feed.url,
            polled_at=now,
            status=poll.status,
            title=poll.title,
            error=poll.error,
            state=None if keep_state else poll.state,
            next_poll_at=_backoff_until(poll, now, feed_backoff),
            moved_to=poll.moved_to,
            disabled_reason=_disabled_reason(poll, now),
        )


def _backoff_until(poll: FeedPoll, now: datetime, base: float) -> datetime | None:
    """None for a healthy feed (polled every run); else base * 2^(failures - 1), up to a day."""
    if not poll.failed:
        return None
    pause = timedelta(seconds=base * 2**poll.state.consecutive_failures)
    if poll.retry_after:
        pause = max(pause, timedelta(seconds=poll.retry_after))
    return now + min(pause, MAX_FEED_BACKOFF)


def _disabled_reason(poll: FeedPoll, now: datetime) -> str | None:
    if poll.status != 410:
        return None
    return (
        f"HTTP 410 Gone on {now:%Y-%m-%d}: the publisher removed this feed; delete it from the "
        f"feeds file, or run `newsmon enable {poll.feed.url}` if it comes back"
    )


_ARTICLE_COLUMNS = (
    "article_id",
    "url",
    "canonical_url",
    "feed_url",
    "guid",
    "title",
    "author",
    "site_name",
    "language",
    "published_at",
    "fetched_at",
    "status",
    "text",
    "content_hash",
    "duplicate_of",
    "duplicate_kind",
    "similarity",
    "run_id",
)


def _append_row(
    rows: dict[str, list[object]],
    article_id: int,
    page: PageResult,
    verdict: Verdict | None,
    run_id: str,
    now: datetime,
) -> None:
    entry, item, article = page.entry, page.entry.item, page.article
    values: dict[str, object] = {
        "article_id": article_id,
        "url": entry.url,
        "canonical_url": article.canonical_url if article else entry.url,
        "feed_url": entry.feed_url,
        "guid": item.guid,
        "title": (article.title if article else None) or item.title,
        "author": (article.author if article else None) or item.author,
        "site_name": article.site_name if article else None,
        "language": article.language if article else None,
        "published_at": item.published_at or (article.published_at if article else None),
        "fetched_at": now,
        "status": page.outcome,
        "text": article.text if article else None,
        "content_hash": article.content_hash if article else None,
        "duplicate_of": verdict.original_id if verdict else None,
        "duplicate_kind": verdict.kind if verdict else None,
        "similarity": verdict.similarity if verdict else None,
        "run_id": run_id,
    }
    for name in _ARTICLE_COLUMNS:
        value = values[name]
        rows[name].append(storable(value) if isinstance(value, str) else value)
