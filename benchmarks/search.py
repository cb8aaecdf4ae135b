"""10. Search: `newsmon search` on a store of 1M articles, p50/p95 per kind of query.

The store is built in the real schema (migrations applied), with the index the writer
keeps: each article's distinct words (200 by default, as a 3,000-character article has),
drawn from a Zipf-like vocabulary of 300,000 words, plus the story's words at the rates a
Gaza feed gives them ("gaza" in 60 % of articles, "rafah" in 5 %, "kerem" in 0.5 % ...).
The index is appended in batches, as poll runs append it, then sorted by the writer's
compaction. Baseline in the same run: the same queries on the index as appended (not
sorted), where every query reads the whole table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import emit, peak_rss_mb

PLANTED = {  # word: share of articles that say it
    "gaza": 0.6,
    "ceasefire": 0.3,
    "hostages": 0.1,
    "rafah": 0.05,
    "crossing": 0.03,
    "kerem": 0.005,
    "netzarim": 0.001,
}
QUERIES = {
    "one common word": [("gaza", {})],
    "two words": [("rafah crossing", {}), ("ceasefire hostages", {})],
    "rare word": [("kerem", {}), ("netzarim", {})],
    "filtered": [
        ("rafah", {"language": "ar"}),
        ("ceasefire", {"outlet": "outlet 7"}),
        ("hostages", {"since": datetime(2026, 6, 1, tzinfo=UTC)}),
    ],
    "phrase": [('"rafah crossing"', {})],
}


def build(db_path: Path, articles: int, words: int, batch: int) -> float:
    """The store, appended `batch` articles at a time; returns the seconds it took."""
    from storage.db import connect, migrate

    started = time.perf_counter()
    with connect(db_path) as conn:
        migrate(conn)
        for first in range(0, articles, batch):
            last = min(articles, first + batch)
            planted = ", ".join(  # by a hash, not at random: the same articles every run
                f"CASE WHEN hash(n, '{word}') % 100000 < {round(share * 100000)} THEN '{word}' END"
                for word, share in PLANTED.items()
            )
            conn.execute(
                f"""
                INSERT INTO articles (article_id, url, canonical_url, title, site_name, language,
                                      published_at, fetched_at, status, text, is_seed, story_id)
                SELECT n, 'https://outlet' || n % 50 || '.example/' || n,
                       'https://outlet' || n % 50 || '.example/' || n, 'Report ' || n,
                       'outlet ' || n % 50, ['en', 'ar', 'he', 'fr'][n % 4 + 1],
                       TIMESTAMPTZ '2025-01-01' + INTERVAL (n % 700) DAY,
                       TIMESTAMPTZ '2025-01-01' + INTERVAL (n % 700) DAY, 'ok',
                       concat_ws(' ', 'report', {planted}, 'end'),
                       false, n % 50000
                FROM range({first}, {last}) AS r(n)
                """
            )
            conn.execute(
                f"""
                INSERT INTO search_terms
                SELECT term, article_id, 1 FROM (
                    SELECT DISTINCT article_id, term FROM (
                        SELECT n AS article_id,
                               'w' || floor(pow(random(), 3) * 300000)::INTEGER AS term
                        FROM range({first}, {last}) AS r(n), range({words}) AS w(i)
                        UNION ALL
                        SELECT article_id, unnest(search_tokens(text)) FROM articles
                        WHERE article_id >= {first} AND article_id < {last}
                    )
                ) ORDER BY term, article_id
                """
            )
    return time.perf_counter() - started


def timed_queries(db_path: Path, rounds: int) -> dict[str, dict[str, float]]:
    """p50 and p95 ms of `search()` per kind of query, on a read-only connection as the
    command opens it, after one warm-up of each."""
    from storage.db import connect
    from storage.search import Filters, search

    figures: dict[str, dict[str, float]] = {}
    with connect(db_path, read_only=True) as conn:
        for kind, queries in QUERIES.items():
            times = []
            for query, filters in queries:
                found = search(conn, query, Filters(**filters))  # type: ignore[arg-type]
                assert found or kind == "phrase", f"{query!r} found nothing"
                for _ in range(rounds):
                    started = time.perf_counter()
                    search(conn, query, Filters(**filters))  # type: ignore[arg-type]
                    times.append((time.perf_counter() - started) * 1000)
            times.sort()
            figures[kind] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=200, help="distinct words an article")
    parser.add_argument("--batch", type=int, default=50_000, help="articles a poll run appends")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="build the store here, and keep it")
    args = parser.parse_args()

    from storage.db import connect
    from storage.search import compact_if_due

    with tempfile.TemporaryDirectory() as folder:
        db_path = args.keep or Path(folder) / "search.duckdb"
        db_path.unlink(missing_ok=True)
        build_s = build(db_path, args.articles, args.words, args.batch)
        appended = timed_queries(db_path, max(1, args.rounds // 2))
        started = time.perf_counter()
        with connect(db_path) as conn:
            compact_if_due(conn, datetime.now(UTC), force=True)
            rows = conn.execute("SELECT count(*) FROM search_terms").fetchone()[0]  # type: ignore[index]
        compact_s = time.perf_counter() - started
        sorted_ = timed_queries(db_path, args.rounds)
        emit(
            "10 search",
            articles=args.articles,
            index_rows=rows,
            file_mb=round(db_path.stat().st_size / 2**20),
            build_s=round(build_s, 1),
            compact_s=round(compact_s, 1),
            p95_ms=max(f["p95_ms"] for f in sorted_.values()),
            sorted=sorted_,
            appended_baseline=appended,
            peak_rss_mb=peak_rss_mb(),
        )


if __name__ == "__main__":
    main()
