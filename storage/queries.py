"""Every SQL statement the pipeline runs, one function each."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from extractors.collect import FeedState
from extractors.dedup import Signature
from extractors.robots import RobotsTxt

if TYPE_CHECKING:
    from storage.writer import BackfillProgress

Conn = duckdb.DuckDBPyConnection


def article_id_for(key: str) -> int:
    """Deterministic positive 63-bit id from an article's URL (or 'seed:<name>')."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def insert_columns(conn: Conn, table: str, columns: Mapping[str, Sequence[Any]]) -> int:
    """Bulk insert: one statement, each column passed as a list and unnested.

    Much cheaper than executemany (which does a few hundred rows a second).
    """
    names = list(columns)
    rows = len(columns[names[0]]) if names else 0
    if rows == 0:
        return 0
    select = ", ".join(f"unnest(${i + 1})" for i in range(len(names)))
    conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {select}",
        [list(columns[name]) for name in names],
    )
    return rows


# --- feeds -----------------------------------------------------------------------------


def sync_feeds(conn: Conn, feeds: Iterable[tuple[str, str]], now: datetime) -> list[str]:
    """Add the feeds file's (url, name) pairs and refresh their names; feeds no longer in the
    file are marked removed (kept for history). Returns the names of those just removed."""
    listed = list(feeds)
    for url, name in listed:
        conn.execute(
            "INSERT INTO feeds (url, name, current_url) VALUES ($1, $2, $1) "
            "ON CONFLICT (url) DO UPDATE SET name = excluded.name, removed_at = NULL",
            [url, name],
        )
    rows = conn.execute(
        "UPDATE feeds SET removed_at = $2 WHERE removed_at IS NULL AND NOT (url = ANY($1)) "
        "RETURNING name",
        [[url for url, _ in listed], now],
    ).fetchall()
    return [row[0] for row in rows]


def feed_states(conn: Conn) -> dict[str, FeedState]:
    rows = conn.execute(
        "SELECT url, etag, last_modified, body_hash, current_url, consecutive_failures, "
        "next_poll_at, disabled_reason, last_error FROM feeds WHERE removed_at IS NULL"
    ).fetchall()
    return {url: FeedState(*state) for url, *state in rows}


def enable_feed(conn: Conn, url: str) -> bool:
    """Clear a feed's backoff and disabled state; False when no such feed is stored."""
    row = conn.execute(
        "UPDATE feeds SET disabled_at = NULL, disabled_reason = NULL, next_poll_at = NULL "
        "WHERE url = $1 OR current_url = $1 RETURNING url",
        [url],
    ).fetchone()
    return row is not None


def record_feed_poll(
    conn: Conn,
    url: str,
    *,
    polled_at: datetime,
    status: int | None,
    title: str | None,
    error: str | None,
    state: FeedState | None,
    next_poll_at: datetime | None,
    moved_to: str | None,
    disabled_reason: str | None,
) -> None:
    """Health after one poll; `state` is None when the conditional-GET state must not move."""
    conn.execute(
        """
        UPDATE feeds SET
            last_polled_at = $polled_at,
            last_status = $status,
            title = coalesce($title, title),
            last_error = $error,
            consecutive_failures =
                CASE WHEN $error IS NULL THEN 0 ELSE consecutive_failures + 1 END,
            last_success_at = CASE WHEN $error IS NULL THEN $polled_at ELSE last_success_at END,
            next_poll_at = $next_poll_at,
            current_url = coalesce($moved_to, current_url),
            disabled_at = CASE WHEN $disabled_reason IS NULL THEN disabled_at ELSE $polled_at END,
            disabled_reason = coalesce($disabled_reason, disabled_reason),
            etag = CASE WHEN $keep THEN etag ELSE $etag END,
            last_modified = CASE WHEN $keep THEN last_modified ELSE $last_modified END,
            body_hash = CASE WHEN $keep THEN body_hash ELSE $body_hash END
        WHERE url = $url
        """,
        {
            "url": url,
            "polled_at": polled_at,
            "status": status,
            "title": title,
            "error": error,
            "next_poll_at": next_poll_at,
            "moved_to": moved_to,
            "disabled_reason": disabled_reason,
            "keep": state is None,
            "etag": state.etag if state else None,
            "last_modified": state.last_modified if state else None,
            "body_hash": state.body_hash if state else None,
        },
    )


# --- what is already stored ---------------------------------------------------------------


def stored_urls(conn: Conn, urls: list[str]) -> set[str]:
    """The subset of `urls` stored as an entry URL or as a canonical URL."""
    if not urls:
        return set()
    rows = conn.execute(
        "SELECT url FROM articles WHERE url = ANY($1) "
        "UNION SELECT canonical_url FROM articles WHERE canonical_url = ANY($1)",
        [urls],
    ).fetchall()
    return {row[0] for row in rows}


def stored_guids(conn: Conn, feed_url: str, guids: list[str]) -> set[str]:
    if not guids:
        return set()
    rows = conn.execute(
        "SELECT guid FROM articles WHERE feed_url = $1 AND guid = ANY($2)", [feed_url, guids]
    ).fetchall()
    return {row[0] for row in rows}


def originals_by_canonical_url(conn: Conn, urls: list[str]) -> dict[str, int]:
    return _originals_by(conn, "canonical_url", urls)


def originals_by_content_hash(conn: Conn, hashes: list[str]) -> dict[str, int]:
    return _originals_by(conn, "content_hash", hashes)


def _originals_by(conn: Conn, column: str, values: list[str]) -> dict[str, int]:
    """value -> article_id of the original first stored with it."""
    if not values:
        return {}
    rows = conn.execute(
        f"SELECT {column}, arg_min(article_id, fetched_at) FROM articles "
        f"WHERE {column} = ANY($1) AND duplicate_of IS NULL GROUP BY {column}",
        [values],
    ).fetchall()
    return {value: article_id for value, article_id in rows}


def lsh_neighbours(conn: Conn, buckets: list[int]) -> dict[int, list[int]]:
    """bucket -> article ids stored in it (an index lookup per bucket, not a scan)."""
    if not buckets:
        return {}
    found: dict[int, list[int]] = {}
    for bucket, article_id in conn.execute(
        "SELECT bucket, article_id FROM lsh_buckets WHERE bucket = ANY($1)", [buckets]
    ).fetchall():
        found.setdefault(bucket, []).append(article_id)
    return found


def signatures(conn: Conn, article_ids: list[int]) -> dict[int, tuple[Signature, int]]:
    """article_id -> (signature, id of its original: itself unless it is a copy)."""
    if not article_ids:
        return {}
    rows = conn.execute(
        "SELECT s.article_id, s.shingles, s.minhash, coalesce(a.duplicate_of, a.article_id) "
        "FROM article_signatures AS s JOIN articles AS a USING (article_id) "
        "WHERE s.article_id = ANY($1)",
        [article_ids],
    ).fetchall()
    return {
        article_id: (Signature(tuple(minhash), shingles), original)
        for article_id, shingles, minhash, original in rows
    }


def seed_hashes(conn: Conn) -> dict[str, str]:
    """seed_name -> content_hash of the seeds stored."""
    return dict(
        conn.execute("SELECT seed_name, content_hash FROM articles WHERE is_seed").fetchall()
    )


def delete_articles(conn: Conn, article_ids: list[int]) -> None:
    """Remove articles and what was derived from them; the facts they stated first stay known."""
    for table in ("lsh_buckets", "article_signatures", "figures", "developments", "articles"):
        conn.execute(f"DELETE FROM {table} WHERE article_id = ANY($1)", [article_ids])


def insert_signatures(conn: Conn, fingerprints: dict[int, Signature]) -> None:
    ids = list(fingerprints)
    insert_columns(
        conn,
        "article_signatures",
        {
            "article_id": ids,
            "shingles": [fingerprints[i].shingles for i in ids],
            "minhash": [list(fingerprints[i].minhash) for i in ids],
        },
    )
    buckets = [(bucket, i) for i in ids for bucket in fingerprints[i].bands()]
    insert_columns(
        conn,
        "lsh_buckets",
        {"bucket": [b for b, _ in buckets], "article_id": [i for _, i in buckets]},
    )


def robots_rules(conn: Conn, origins: list[str]) -> dict[str, RobotsTxt]:
    if not origins:
        return {}
    rows = conn.execute(
        "SELECT origin, fetched_at, status, body FROM robots_txt WHERE origin = ANY($1)",
        [origins],
    ).fetchall()
    return {row[0]: RobotsTxt(*row) for row in rows}


def save_robots_rules(conn: Conn, rules: list[RobotsTxt]) -> None:
    for r in rules:
        conn.execute(
            "INSERT OR REPLACE INTO robots_txt (origin, fetched_at, status, body) "
            "VALUES (?, ?, ?, ?)",
            [r.origin, r.fetched_at, r.status, r.body],
        )


def backfill_progress(conn: Conn, source: str) -> tuple[int, int, int, bool]:
    """(position, records, stored, finished) of a backfill source; zeros when it is new."""
    row = conn.execute(
        "SELECT position, records, stored, finished_at IS NOT NULL FROM backfill_progress "
        "WHERE source = ?",
        [source],
    ).fetchone()
    return (row[0], row[1], row[2], row[3]) if row else (0, 0, 0, False)


def save_backfill_progress(conn: Conn, progress: BackfillProgress) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO backfill_progress "
        "(source, position, records, stored, finished_at, updated_at) "
        "VALUES (?, ?, ?, ?, CASE WHEN ? THEN now() END, now())",
        [progress.source, progress.position, progress.records, progress.stored, progress.finished],
    )
    for skip in progress.skipped:
        conn.execute(
            'INSERT OR REPLACE INTO backfill_skips (source, "offset", length, reason, skipped_at) '
            "VALUES (?, ?, ?, ?, now())",
            [progress.source, skip.offset, skip.length, skip.reason],
        )


def run_recorded(conn: Conn, run_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM poll_runs WHERE id = ?", [run_id]).fetchone()
    return row is not None


def record_run(conn: Conn, row: dict[str, Any]) -> None:
    names = list(row)
    conn.execute(
        f"INSERT INTO poll_runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [row[name] for name in names],
    )


# --- for people ---------------------------------------------------------------------------


def feed_health(conn: Conn, include_removed: bool = False) -> list[dict[str, Any]]:
    where = "" if include_removed else " WHERE health <> 'removed'"
    cursor = conn.execute(f"SELECT * FROM feed_health{where}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def article_counts(conn: Conn) -> dict[str, int]:
    row = conn.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'ok'),
               count(*) FILTER (WHERE is_seed),
               count(*) FILTER (WHERE status = 'ok' AND duplicate_of IS NULL AND NOT is_seed),
               count(*) FILTER (WHERE duplicate_kind = 'url'),
               count(*) FILTER (WHERE duplicate_kind = 'exact'),
               count(*) FILTER (WHERE duplicate_kind = 'near'),
               count(*) FILTER (WHERE status <> 'ok'),
               count(*) FILTER (WHERE status = 'ok' AND relevance IS NOT NULL AND story_id IS NULL
                                AND duplicate_of IS NULL AND NOT is_seed),
               count(*) FILTER (WHERE analysis_error IS NOT NULL)
        FROM articles
        """
    ).fetchone()
    keys = (
        "articles",
        "seeds",
        "originals",
        "url_duplicates",
        "exact_duplicates",
        "near_duplicates",
        "pages_without_text",
        "off_topic_articles",
        "analysis_failed",
    )
    return dict(zip(keys, row or (0,) * len(keys), strict=True))


def digest_status(conn: Conn) -> dict[str, Any]:
    """Developments waiting for a digest, the last digest, and deliveries that need a look."""
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM developments AS d WHERE NOT EXISTS (
                    SELECT 1 FROM digest_items AS i WHERE i.development_id = d.development_id)),
               (SELECT max(created_at) FROM digests),
               (SELECT count(*) FROM deliveries WHERE status = 'failed'),
               (SELECT count(*) FROM deliveries WHERE status = 'unconfirmed'),
               (SELECT count(*) FROM deliveries WHERE status = 'abandoned')
        """
    ).fetchone()
    keys = (
        "undelivered_developments",
        "last_digest_at",
        "failed_deliveries",
        "unconfirmed",
        "abandoned_deliveries",
    )
    return dict(zip(keys, row or (0, None, 0, 0, 0), strict=True))


def last_runs(conn: Conn, limit: int = 5) -> list[dict[str, Any]]:
    cursor = conn.execute("SELECT * FROM poll_runs ORDER BY started_at DESC LIMIT ?", [limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def describe_articles(conn: Conn, article_ids: list[int]) -> dict[int, str]:
    """article_id -> 'seed <name>' or its URL, for reports."""
    if not article_ids:
        return {}
    rows = conn.execute(
        "SELECT article_id, CASE WHEN is_seed THEN 'seed ' || seed_name ELSE url END "
        "FROM articles WHERE article_id = ANY($1)",
        [article_ids],
    ).fetchall()
    return dict(rows)


# --- analysis (storage/analysis.py) ------------------------------------------------------


def update_analysis(
    conn: Conn, article_ids: list[int], relevance: list[float | None], story_ids: list[int | None]
) -> None:
    if not article_ids:
        return
    conn.execute(
        "UPDATE articles SET relevance = u.relevance, story_id = u.story_id "
        "FROM (SELECT unnest($1) AS article_id, unnest($2::DOUBLE[]) AS relevance, "
        "unnest($3::BIGINT[]) AS story_id) AS u WHERE articles.article_id = u.article_id",
        [article_ids, relevance, story_ids],
    )


def record_analysis_errors(conn: Conn, errors: dict[int, str]) -> None:
    """Keep why each article's analysis failed on the article; it is not analysed again."""
    if not errors:
        return
    conn.execute(
        "UPDATE articles SET analysis_error = u.error "
        "FROM (SELECT unnest($1::BIGINT[]) AS article_id, unnest($2::VARCHAR[]) AS error) AS u "
        "WHERE articles.article_id = u.article_id",
        [list(errors), list(errors.values())],
    )


def known_fact_keys(conn: Conn, keys: list[int]) -> set[int]:
    if not keys:
        return set()
    rows = conn.execute("SELECT fact_key FROM facts WHERE fact_key = ANY($1)", [keys])
    return {row[0] for row in rows.fetchall()}


def stories_since(conn: Conn, since: datetime | None) -> list[tuple[int, str, datetime | None]]:
    """Stories an article of this batch may join: seed stories, and those active since `since`."""
    return conn.execute(
        "SELECT story_id, terms, last_event_at FROM stories "
        "WHERE $1::TIMESTAMPTZ IS NULL OR last_event_at IS NULL OR last_event_at >= $1 "
        "ORDER BY story_id",
        [since],
    ).fetchall()


def touch_stories(conn: Conn, last_event_at: dict[int, datetime | None]) -> None:
    for story_id, at in last_event_at.items():
        conn.execute("UPDATE stories SET last_event_at = $2 WHERE story_id = $1", [story_id, at])


def story_ids(conn: Conn, article_ids: list[int]) -> dict[int, int | None]:
    if not article_ids:
        return {}
    rows = conn.execute(
        "SELECT article_id, story_id FROM articles WHERE article_id = ANY($1)", [article_ids]
    )
    return dict(rows.fetchall())
