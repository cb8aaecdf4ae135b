"""Statements on the articles table and its fingerprints (article_signatures, lsh_buckets)."""

from __future__ import annotations

import hashlib

from analysis.dedup import Signature
from storage.db import Conn, insert_columns


def article_id_for(key: str) -> int:
    """Deterministic positive 63-bit id from an article's URL (or 'seed:<name>')."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> 1


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
    for table in (
        "lsh_buckets",
        "article_signatures",
        "search_terms",
        "figures",
        "developments",
        "article_vectors",
        "sentence_vectors",
        "articles",
    ):
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


def article_counts(conn: Conn) -> dict[str, int]:
    row = conn.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'ok'),
               count(*) FILTER (WHERE is_seed),
               count(*) FILTER (WHERE status = 'ok' AND duplicate_of IS NULL AND NOT is_seed),
               count(*) FILTER (WHERE duplicate_kind = 'url'),
               count(*) FILTER (WHERE duplicate_kind = 'exact'),
               count(*) FILTER (WHERE duplicate_kind = 'near'),
               count(*) FILTER (WHERE duplicate_kind = 'translation'),
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
        "translations",
        "pages_without_text",
        "off_topic_articles",
        "analysis_failed",
    )
    return dict(zip(keys, row or (0,) * len(keys), strict=True))


def recanonicalize_urls(conn: Conn) -> int:
    """Rewrite stored entry and canonical URLs in the present canonical form; their ids stay.

    Migration 006's rows (storage/db.py runs it in the migration's transaction). A URL
    whose new form is stored already (as another row's URL) keeps its old form: that row
    is the same page, and the seen-check finds either.
    """
    from extractors.normalize import canonical_url  # the URL rules; status never migrates

    rows = conn.execute(
        "SELECT article_id, url, canonical_url FROM articles WHERE url IS NOT NULL "
        "ORDER BY fetched_at, article_id"
    ).fetchall()
    taken = {url for _, url, _ in rows}
    changes: dict[str, list[object]] = {"article_id": [], "url": [], "canonical_url": []}
    for article_id, url, canonical in rows:
        new_url = canonical_url(url)
        new_canonical = canonical_url(canonical) if canonical else canonical
        if new_url != url and new_url in taken:
            new_url = url
        if (new_url, new_canonical) == (url, canonical):
            continue
        taken.add(new_url)
        changes["article_id"].append(article_id)
        changes["url"].append(new_url)
        changes["canonical_url"].append(new_canonical)
    if changes["article_id"]:
        conn.execute(
            "CREATE TEMP TABLE recanonicalized "
            "(article_id BIGINT, url VARCHAR, canonical_url VARCHAR)"
        )
        insert_columns(conn, "recanonicalized", changes)
        conn.execute(
            "UPDATE articles SET url = r.url, canonical_url = r.canonical_url "
            "FROM recanonicalized r WHERE articles.article_id = r.article_id"
        )
        conn.execute("DROP TABLE recanonicalized")
    return len(changes["article_id"])
