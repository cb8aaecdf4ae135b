"""Full-text search over stored articles, on an index the writer keeps (search_terms).

DuckDB's own `fts` extension is built for DuckDB 1.5 and does not load in the DuckDB 2.0
that newsmon writes with; its index is also rebuilt whole, not kept up to date. So the
writer indexes each article's words in the transaction that stores it, and keeps the
table sorted by term (schema/010_search.sql says why); the search reads only the row
groups that can hold the query's words. Every word must occur (AND); a "quoted phrase"
must occur as written; results are ranked by BM25.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from newsmon.errors import ConfigError
from storage.db import Conn, transaction

COMPACT_FRACTION = 0.1  # sort again when the rows appended since reach this share of the sorted
COMPACT_MIN_ROWS = 1_000_000  # ... and at least this many (a small index reads fast anyway)
BM25_K1 = 1.2
SNIPPET_CHARS = 200
MAX_WORDS = 60  # each word is a bit of a BIGINT in the query
PREFIX_FROM = 4  # letters from which a query word also finds the longer words it begins


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: int
    title: str | None
    url: str | None
    outlet: str
    language: str | None
    published_at: datetime
    story_id: int | None
    duplicate_kind: str | None
    score: float
    snippet: str


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    outlet: str | None = None  # as article_outlets names it, case-insensitive
    language: str | None = None
    story_id: int | None = None
    originals_only: bool = False


def index_articles(conn: Conn, article_ids: list[int]) -> int:
    """Add these stored articles' words to the index; returns the rows added."""
    if not article_ids:
        return 0
    row = conn.execute(
        """
        INSERT INTO search_terms
        SELECT term, article_id, least(count(*), 65535)::USMALLINT
        FROM (
            SELECT article_id, unnest(search_tokens(coalesce(title, '') || ' ' || text)) AS term
            FROM articles
            WHERE article_id = ANY($1) AND text IS NOT NULL
        )
        GROUP BY ALL
        ORDER BY term, article_id
        """,
        [article_ids],
    ).fetchone()
    return int(row[0]) if row else 0


def compact_if_due(conn: Conn, now: datetime, force: bool = False) -> bool:
    """Sort search_terms again when enough rows were appended since it was last sorted;
    True if it did. A rewrite of the table: seconds at 100k articles, minutes at 1M."""
    total, sorted_rows = conn.execute(
        "SELECT (SELECT count(*) FROM search_terms), (SELECT sorted_rows FROM search_index)"
    ).fetchone() or (0, 0)
    appended = total - sorted_rows
    if not force and appended < max(COMPACT_MIN_ROWS, COMPACT_FRACTION * sorted_rows):
        return False
    with transaction(conn):
        conn.execute(
            "CREATE TABLE search_terms_sorted (term VARCHAR NOT NULL, article_id BIGINT NOT NULL, "
            "tf USMALLINT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO search_terms_sorted SELECT * FROM search_terms ORDER BY term, article_id"
        )
        conn.execute("DROP TABLE search_terms")
        conn.execute("ALTER TABLE search_terms_sorted RENAME TO search_terms")
        conn.execute("UPDATE search_index SET sorted_rows = $1, compacted_at = $2", [total, now])
    return True


def search(conn: Conn, query: str, filters: Filters = Filters(), limit: int = 20) -> list[Hit]:
    """The stored articles that hold every word of `query` (and each "quoted phrase"),
    best first."""
    phrases = [" ".join(p.split()) for p in re.findall(r'"([^"]+)"', query) if p.strip()]
    terms: list[str] = conn.execute(
        "SELECT list_distinct(search_tokens($1))", [query.replace('"', " ")]
    ).fetchone()[0]  # type: ignore[index]
    if not terms:
        raise ConfigError(f"{query!r} holds no word to search for; give one or more words")
    if len(terms) > MAX_WORDS:
        raise ConfigError(f"a search takes at most {MAX_WORDS} words; {len(terms)} were given")
    matches = [_match(term) for term in terms]
    counts = [_count(conn, match) for match in matches]
    if not all(counts):
        return []  # a word no article holds: nothing holds them all
    (documents,) = conn.execute(
        "SELECT count(*) FROM articles WHERE text IS NOT NULL"
    ).fetchone() or (1,)
    ranked = _ranked(conn, matches, counts, documents, filters, None if phrases else limit)
    best = _with_phrases(conn, ranked, phrases, limit) if phrases else ranked.fetchall()
    if not best:
        return []
    rows = conn.execute(
        """
        SELECT a.article_id, a.title, a.url, o.outlet, a.language,
               coalesce(a.published_at, a.fetched_at), a.story_id, a.duplicate_kind, a.text
        FROM articles AS a JOIN article_outlets AS o USING (article_id)
        WHERE a.article_id = ANY($1)
        """,
        [[article_id for article_id, _ in best]],
    ).fetchall()
    found = {row[0]: row for row in rows}
    hits = []
    for article_id, score in best:
        if article_id in found:  # always, unless the article was deleted meanwhile
            _, title, url, outlet, language, published_at, story, kind, text = found[article_id]
            hits.append(
                Hit(
                    article_id, title, url, outlet, language, published_at, story, kind,
                    score, snippet(text, terms, phrases),
                )
            )  # fmt: skip
    return hits


def _match(term: str) -> tuple[str, list[object]]:
    """The condition on search_terms for one query word: a range of the sorted terms (a word
    of four letters or more also finds the longer words it begins: crossing, crossings), so
    DuckDB skips the row groups that cannot hold it."""
    if len(term) >= PREFIX_FROM:
        return "term >= ? AND term < ?", [term, term + "\U0010ffff"]
    return "term = ?", [term]


def _count(conn: Conn, match: tuple[str, list[object]]) -> int:
    row = conn.execute(f"SELECT count(*) FROM search_terms WHERE {match[0]}", match[1]).fetchone()
    return int(row[0]) if row else 0


def _ranked(
    conn: Conn,
    matches: list[tuple[str, list[object]]],
    counts: list[int],
    documents: int,
    filters: Filters,
    limit: int | None,
) -> Conn:
    """The result of (article_id, score) of the articles that hold every word and pass the
    filters, best first, newest first among equals (the first `limit`, if given). BM25
    without its length part: that would read the text of every match, and a word such as
    "gaza" matches most of the store."""
    branches: list[str] = []
    params: list[object] = []
    for (condition, values), count in zip(matches, counts, strict=True):
        weight = math.log(1 + (documents - count + 0.5) / (count + 0.5))
        branches.append(
            f"SELECT {len(branches)} AS k, article_id, "
            f"{weight!r}::DOUBLE * tf * {BM25_K1 + 1} / (tf + {BM25_K1}) AS score "
            f"FROM search_terms WHERE {condition}"
        )
        params += values
    # Each word is a bit: an article is kept when it has them all (bit_or, cheaper than a
    # count of distinct words; a word can match several terms: crossing, crossings).
    every_word = (
        f"HAVING bit_or(1::BIGINT << k) = {2 ** len(matches) - 1}" if len(matches) > 1 else ""
    )
    where, values = _where(filters)
    outlets = "JOIN article_outlets AS o USING (article_id)" if filters.outlet else ""
    return conn.execute(
        f"""
        WITH scored AS (
            SELECT article_id, sum(score) AS score
            FROM ({" UNION ALL ".join(branches)})
            GROUP BY article_id {every_word}
        )
        SELECT s.article_id, s.score
        FROM scored AS s JOIN articles AS a USING (article_id) {outlets}
        WHERE {where}
        ORDER BY s.score DESC, coalesce(a.published_at, a.fetched_at) DESC, s.article_id
        {f"LIMIT {int(limit)}" if limit is not None else ""}
        """,
        params + values,
    )


def _where(filters: Filters) -> tuple[str, list[object]]:
    conditions: list[str] = ["TRUE"]
    values: list[object] = []
    if filters.since:
        conditions.append("coalesce(a.published_at, a.fetched_at) >= ?")
        values.append(filters.since)
    if filters.until:
        conditions.append("coalesce(a.published_at, a.fetched_at) < ?")
        values.append(filters.until)
    if filters.outlet:
        conditions.append("lower(o.outlet) = lower(?)")
        values.append(filters.outlet)
    if filters.language:
        conditions.append("a.language = ?")
        values.append(filters.language.lower())
    if filters.story_id is not None:  # a story merged into it counts as part of it
        conditions.append(
            "a.story_id IN (SELECT story_id FROM stories WHERE ? IN (story_id, merged_into))"
        )
        values.append(filters.story_id)
    if filters.originals_only:
        conditions.append("a.duplicate_of IS NULL")
    return " AND ".join(conditions), values


def _with_phrases(
    conn: Conn, ranked: Conn, phrases: list[str], limit: int
) -> list[tuple[int, float]]:
    """The ranked articles whose text holds each phrase as written, checked a block at a
    time from the best down until `limit` are found: the text is read for those only."""
    kept: list[tuple[int, float]] = []
    checker = conn.cursor()  # `ranked` stays open on `conn` meanwhile
    while len(kept) < limit and (part := ranked.fetchmany(max(limit * 10, 200))):
        holding = {
            row[0]
            for row in checker.execute(
                "SELECT article_id FROM articles WHERE article_id = ANY(?) AND "
                + " AND ".join(
                    "strip_accents(lower(coalesce(title, '') || ' ' || text)) "
                    "LIKE '%' || strip_accents(lower(?)) || '%'"
                    for _ in phrases
                ),
                [[article_id for article_id, _ in part], *phrases],
            ).fetchall()
        }
        kept += [item for item in part if item[0] in holding]
    return kept[:limit]


def snippet(text: str, terms: list[str], phrases: list[str]) -> str:
    """About SNIPPET_CHARS of the text around the first place it says a searched word."""
    folded = text.lower()
    places = [folded.find(w.lower()) for w in [*phrases, *terms]]
    first = min((p for p in places if p >= 0), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    end = start + SNIPPET_CHARS
    if end < len(text):
        end = text.rfind(" ", start, end) if " " in text[start:end] else end
    excerpt = " ".join(text[start:end].split())
    return ("…" if start else "") + excerpt + ("…" if end < len(text) else "")
