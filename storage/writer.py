"""The one writer: a run's dedup decisions and all its rows, in one transaction.

An entry counts as seen only once its article row is committed, together with
its feed's new conditional-GET state, so a run killed at any point leaves
nothing half-stored: the next run fetches what is missing. Analysis of what
was stored is the next step (storage/analysis.py), in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import duckdb

from analysis.dedup import Signature, compare
from extractors.normalize import storable
from extractors.seeds import Seed
from newsmon.health import newly_disabled, next_state
from newsmon.records import (
    Article,
    BackfillProgress,
    PageResult,
    RunRecords,
    RunReport,
    StoredArticle,
    Verdict,
)
from storage import articles, runs, search, sources
from storage.db import insert_columns, transaction


class DuplicateFinder:
    """Finds the original an article copies, among stored articles and this batch.

    Checks run in order of cost: same canonical URL, same normalized text
    (content hash), then near-duplicate by MinHash/LSH (see extractors/dedup.py).
    Lookups are batched up front: four indexed queries per run, whatever its size.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, batch: list[Article]) -> None:
        self._by_url = articles.originals_by_canonical_url(conn, [a.canonical_url for a in batch])
        self._by_hash = articles.originals_by_content_hash(conn, [a.content_hash for a in batch])
        self._bands = {a.content_hash: a.signature.bands() for a in batch}
        wanted = sorted({band for bands in self._bands.values() for band in bands})
        self._buckets = articles.lsh_neighbours(conn, wanted)
        candidates = sorted({i for ids in self._buckets.values() for i in ids})
        self._signatures: dict[int, tuple[Signature, int]] = articles.signatures(conn, candidates)

    def find(self, article: Article) -> Verdict | None:
        if article.canonical_url in self._by_url:
            return Verdict("url", self._by_url[article.canonical_url], 1.0)
        if article.content_hash in self._by_hash:
            return Verdict("exact", self._by_hash[article.content_hash], 1.0)
        best: Verdict | None = None
        for candidate in {
            i for band in self._bands[article.content_hash] for i in self._buckets.get(band, ())
        }:
            other, original = self._signatures[candidate]
            similarity = compare(article.signature, other)
            if similarity.is_near_duplicate and (
                best is None or similarity.score > best.similarity
            ):
                best = Verdict("near", original, similarity.score)
        return best

    def remember(self, article_id: int, article: Article, verdict: Verdict | None) -> None:
        original = verdict.original_id if verdict else article_id
        self._by_url.setdefault(article.canonical_url, original)
        self._by_hash.setdefault(article.content_hash, original)
        self._signatures[article_id] = (article.signature, original)
        for band in self._bands[article.content_hash]:
            self._buckets.setdefault(band, []).append(article_id)


def store_seeds(conn: duckdb.DuckDBPyConnection, seeds: list[Seed], now: datetime) -> list[str]:
    """Insert new seeds and replace changed ones (the analysis step then analyses them:
    their facts are the baseline of novelty). Returns the names written. Idempotent."""
    stored = articles.seed_hashes(conn)
    changed = [s for s in seeds if stored.get(s.name) != s.content_hash]
    if not changed:
        return []
    with transaction(conn):
        ids = [articles.article_id_for(f"seed:{s.name}") for s in changed]
        articles.delete_articles(
            conn, [i for i, s in zip(ids, changed, strict=True) if s.name in stored]
        )
        insert_columns(
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
        articles.insert_signatures(
            conn, {i: s.signature for i, s in zip(ids, changed, strict=True) if s.signature}
        )
        search.index_articles(conn, ids)
    return [s.name for s in changed]


def store_run(
    conn: duckdb.DuckDBPyConnection, records: RunRecords, feed_backoff: float
) -> RunReport:
    """Deduplicate and store the pages, update feed health, record the run: one transaction.
    Returns the report with what was stored.

    Storing the same records twice (a spool file ingested again after a crash)
    changes nothing the second time.
    """
    report = records.report
    with transaction(conn):
        if runs.run_recorded(conn, report.run_id):
            return report
        stored = _store_pages(conn, records)
        sources.save_robots_rules(conn, records.batch.robots)
        _store_feed_health(conn, records, stored.retry_feeds, feed_backoff)
        report = stored.applied_to(report)
        runs.record_run(conn, report.as_row())
    return report


def store_backfill(
    conn: duckdb.DuckDBPyConnection, records: RunRecords, progress: BackfillProgress
) -> RunReport:
    """Store one backfill batch and where the source got to, in one transaction."""
    with transaction(conn):
        stored = _store_pages(conn, records)
        sources.save_robots_rules(conn, records.batch.robots)
        runs.save_backfill_progress(conn, progress)
    return stored.applied_to(records.report)


@dataclass(slots=True)
class _Stored:
    """What _store_pages did: the report's counts, and the feeds whose pages wait."""

    articles_new: int = 0
    duplicates: int = 0
    pages_rejected: int = 0
    pages_failed: int = 0
    off_topic: int = 0
    stored: list[StoredArticle] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    originals: dict[int, str] = field(default_factory=dict)
    retry_feeds: set[str | None] = field(default_factory=set)

    def applied_to(self, report: RunReport) -> RunReport:
        return replace(
            report,
            articles_new=report.articles_new + self.articles_new,
            duplicates=report.duplicates + self.duplicates,
            pages_rejected=report.pages_rejected + self.pages_rejected,
            pages_failed=report.pages_failed + self.pages_failed,
            off_topic=report.off_topic + self.off_topic,
            stored=[*report.stored, *self.stored],
            errors=[*report.errors, *self.errors],
            originals={**report.originals, **self.originals},
        )


def _store_pages(conn: duckdb.DuckDBPyConnection, records: RunRecords) -> _Stored:
    """Deduplicate and insert the pages not stored yet."""
    result = _Stored()
    already = articles.stored_urls(conn, [p.entry.url for p in records.batch.pages])
    pages: list[PageResult] = []
    for page in records.batch.pages:  # each URL once: an archive may hold it twice
        if page.entry.url not in already:
            already.add(page.entry.url)
            pages.append(page)
    finder = DuplicateFinder(conn, [p.article for p in pages if p.article is not None])
    rows: dict[str, list[object]] = {name: [] for name in _ARTICLE_COLUMNS}
    fingerprints: dict[int, Signature] = {}
    run_id, now = records.report.run_id, records.report.finished_at
    for page in pages:
        entry = page.entry
        if page.retry_later:
            result.pages_failed += 1
            result.retry_feeds.add(entry.feed_url)
            result.errors.append(page.error or f"{entry.link}: failed")
            continue
        article_id = articles.article_id_for(entry.url)
        article = page.article
        verdict = None
        if article is not None:
            verdict = finder.find(article)
            finder.remember(article_id, article, verdict)
            fingerprints[article_id] = article.signature
            if verdict:
                result.duplicates += 1
            else:
                result.articles_new += 1
            result.stored.append(
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
            result.off_topic += 1
        else:
            result.pages_rejected += 1
            result.errors.append(page.error or f"{entry.link}: {page.outcome}")
        _append_row(rows, article_id, page, verdict, run_id, now)
    insert_columns(conn, "articles", rows)
    articles.insert_signatures(conn, fingerprints)
    search.index_articles(conn, list(fingerprints))  # the pages with text
    result.originals = articles.describe_articles(
        conn, sorted({s.duplicate_of for s in result.stored if s.duplicate_of is not None})
    )
    return result


def _store_feed_health(
    conn: duckdb.DuckDBPyConnection,
    records: RunRecords,
    retry_feeds: set[str | None],
    feed_backoff: float,
) -> None:
    """Each polled feed's next state, from the state stored now (newsmon/health.py)."""
    states = sources.feed_states(conn)
    now = records.report.finished_at
    for poll in records.polls:
        if poll.feed.url not in states:
            continue  # not registered (the database was locked when the run began)
        state = next_state(
            states[poll.feed.url],
            poll,
            now,
            base_backoff=feed_backoff,
            pages_retried=poll.feed.url in retry_feeds,
        )
        sources.record_feed_poll(
            conn,
            poll.feed.url,
            state,
            polled_at=now,
            status=poll.status,
            title=poll.title,
            disabled_now=newly_disabled(poll),
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
    entry, item, article, fields = page.entry, page.entry.item, page.article, page.fields
    values: dict[str, object] = {
        "article_id": article_id,
        "url": entry.url,
        "canonical_url": fields.canonical_url if fields else entry.url,
        "feed_url": entry.feed_url,
        "guid": item.guid,
        "title": (fields.title if fields else None) or item.title,
        "author": (fields.author if fields else None) or item.author,
        "site_name": fields.site_name if fields else None,
        "language": fields.language if fields else None,
        "published_at": item.published_at or (fields.published_at if fields else None),
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
