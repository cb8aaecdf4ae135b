"""4. Storage: rows/s for storing extracted articles, and the analysts' example queries on 1M rows.

Inserts go through the writer (`store_run`: dedup, articles, signatures, LSH
keys, feed health, poll_runs, one transaction per batch of 500) and the analysis
step after it (relevance, facts, developments, figures, stories), from articles extracted
once beforehand, so the figure is storage alone. The synthetic texts use the
seeds' words, so they are relevant and fully analysed. Baselines, in the same
run: DuckDB's own bulk insert of the same article rows from Python lists, and
the writer with an empty topic (nothing relevant: no analysis beyond relevance).

The queries are the files of docs/queries/, so the figures are those of the
queries analysts copy, on a store of 1M articles (10 % copies of others).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from common import ROOT, article_text, emit, peak_rss_mb, vocabulary


def extracted(count: int) -> list[object]:
    from analysis.dedup import content_hash, signature
    from newsmon.records import Article

    rng = random.Random(5)
    words = vocabulary()
    articles = []
    for n in range(count):
        text = "\n".join(article_text(rng, words, paragraphs=6))
        articles.append(
            Article(
                f"https://bench.example/{n}", f"Title {n}", "Staff", "Bench", "en",
                datetime.now(UTC), text, content_hash(text), signature(text), "utf-8",
            )
        )  # fmt: skip
    return articles


def store_batches(db_path: Path, articles: list[object], batch: int, topic: object) -> float:
    """Seconds for store_run and the analysis step over `articles`, `batch` at a time."""
    from newsmon.records import (
        Feed,
        FeedItem,
        FeedPoll,
        PageBatch,
        PageResult,
        PendingEntry,
        RunRecords,
        RunReport,
    )
    from storage import sources
    from storage.analysis import analyse_run
    from storage.db import connect, migrate
    from storage.writer import store_run

    feed = Feed("https://bench.example/rss", "bench")
    elapsed = 0.0
    with connect(db_path) as conn:
        migrate(conn)
        sources.sync_feeds(conn, [(feed.url, feed.name)], datetime.now(UTC))
        for start in range(0, len(articles), batch):
            pages = [
                PageResult(
                    PendingEntry(
                        feed.url, a.canonical_url, a.canonical_url,
                        FeedItem(a.canonical_url, None, None, None, None, None),
                    ),
                    "ok",
                    article=a,
                )
                for a in articles[start : start + batch]
            ]  # fmt: skip
            now = datetime.now(UTC)
            records = RunRecords(
                RunReport(f"run-{start}", now, now),
                [FeedPoll(feed, 200)],
                PageBatch(pages, []),
                topic,
            )
            started = time.perf_counter()
            analyse_run(conn, store_run(conn, records, 300), records.topic)
            elapsed += time.perf_counter() - started
    return elapsed


def bare_insert(db_path: Path, articles: list[object], batch: int) -> float:
    """Seconds for DuckDB to bulk insert the same article rows alone (no dedup, no index keys)."""
    import duckdb

    elapsed = 0.0
    with duckdb.connect(str(db_path)) as conn:
        conn.execute(
            "CREATE TABLE articles (article_id BIGINT PRIMARY KEY, url VARCHAR, title VARCHAR, "
            "text VARCHAR, content_hash VARCHAR)"
        )
        for start in range(0, len(articles), batch):
            chunk = articles[start : start + batch]
            columns = [
                list(range(start, start + len(chunk))),
                [a.canonical_url for a in chunk],
                [a.title for a in chunk],
                [a.text for a in chunk],
                [a.content_hash for a in chunk],
            ]
            started = time.perf_counter()
            conn.execute(
                "INSERT INTO articles SELECT unnest($1), unnest($2), unnest($3), unnest($4), "
                "unnest($5)",
                columns,
            )
            elapsed += time.perf_counter() - started
    return elapsed


def analyst_queries() -> list[tuple[str, str]]:
    """(comment, SQL) for each example query in docs/queries/, one query a file."""
    found = []
    for path in sorted((ROOT / "docs" / "queries").glob("*.sql")):
        sql = path.read_text(encoding="utf-8").strip()
        comment = re.match(r"-- (.*)", sql)
        found.append((comment.group(1) if comment else path.stem, sql))
    return found


def analyst_store(db_path: Path, size: int) -> None:
    """`size` articles with realistic columns, 10 % of them copies, in the real schema."""
    from storage.db import connect, migrate

    with connect(db_path) as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO feeds (url, name, current_url, last_polled_at) "
            "SELECT 'https://site' || i || '.example/rss', 'Site ' || i, "
            "'https://site' || i || '.example/rss', now() FROM range(200) t(i)"
        )
        conn.execute(
            """
            INSERT INTO articles (article_id, url, canonical_url, feed_url, title, site_name,
                                  language, published_at, fetched_at, status, text, content_hash,
                                  duplicate_of, duplicate_kind, similarity, run_id)
            SELECT i, 'https://site' || (i % 200) || '.example/' || i,
                   'https://site' || (i % 200) || '.example/' || i,
                   'https://site' || (i % 200) || '.example/rss',
                   'Headline number ' || i, 'Site ' || (i % 200), 'en',
                   now() - to_minutes((i % 525600)::BIGINT),
                   now() - to_minutes((i % 525600)::BIGINT),
                   CASE WHEN i % 50 = 0 THEN 'no_text' ELSE 'ok' END,
                   CASE WHEN i % 50 = 0 THEN NULL ELSE repeat('word ', 600) END,
                   md5(i::VARCHAR),
                   CASE WHEN i % 10 = 1 THEN i - 1 END,
                   CASE WHEN i % 10 = 1 THEN 'near' END,
                   CASE WHEN i % 10 = 1 THEN 0.9 END,
                   'run-' || (i // 500)
            FROM range($1) t(i)
            """,
            [size],
        )
        conn.execute(
            "INSERT INTO poll_runs (id, started_at, finished_at, feeds_polled, feeds_failed, "
            "entries_seen, articles_new, duplicates, pages_rejected, pages_failed) "
            "SELECT 'run-' || i, now() - to_minutes(i * 15), now() - to_minutes(i * 15), "
            "200, 1, 600, 450, 50, 10, 0 FROM range($1 // 500) t(i)",
            [size],
        )
        # The developments tables: a fifth of the articles relevant originals, in 2,000
        # stories, two developments, three facts and one figure each, hourly digests.
        conn.execute(
            "INSERT INTO stories (story_id, title, first_seen_at, last_event_at, terms) "
            "SELECT i // 100, 'Story ' || (i // 100), min(now()), NULL, '{}' "
            "FROM range($1) t(i) WHERE i % 100 = 0 GROUP BY ALL",
            [size],
        )
        conn.execute(
            "UPDATE articles SET story_id = article_id // 100, relevance = 0.6 "
            "WHERE article_id % 5 = 0"
        )
        conn.execute(
            "INSERT INTO developments SELECT hash(i, p) >> 1, i, i // 100, p, "
            "'Sentence ' || p || ' of article ' || i, 0.5, ['figure:x=' || i], "
            "now() - to_minutes((i % 525600)::BIGINT), NULL "
            "FROM range(0, $1, 5) t(i), range(2) s(p)",
            [size],
        )
        conn.execute(
            "INSERT INTO facts SELECT hash(i, k) >> 1, 'name', 'name ' || i || k, i, "
            "now() - to_minutes((i % 525600)::BIGINT) FROM range(0, $1, 5) t(i), range(3) s(k)",
            [size],
        )
        conn.execute(
            "INSERT INTO figures SELECT i, 0, 'metric_' || (i % 20), i % 5000, NULL, "
            "'A sentence with a figure', now() - to_minutes((i % 525600)::BIGINT) "
            "FROM range(0, $1, 5) t(i)",
            [size],
        )
        conn.execute(
            "INSERT INTO deliveries (digest_id, channel, channel_label, status, attempts, "
            "last_error, updated_at) SELECT 'digest-' || i, 'channel', 'json://hook', "
            "CASE WHEN i % 100 = 0 THEN 'failed' ELSE 'sent' END, 1, NULL, now() "
            "FROM range(8760) t(i)"
        )
        conn.execute("CHECKPOINT")


def time_queries(db_path: Path) -> dict[str, float]:
    from storage.db import connect

    timings: dict[str, float] = {}
    with connect(db_path, read_only=True) as conn:
        for comment, sql in analyst_queries():
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                conn.execute(sql).fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            timings[comment] = round(statistics.median(runs), 1)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000, help="stored through the writer")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--analyst-rows", type=int, default=1_000_000)
    args = parser.parse_args()

    articles = extracted(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        from analysis.topic import Topic, build_topic

        seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
        stored = store_batches(folder / "writer.duckdb", articles, args.batch, build_topic(seeds))
        unanalysed = store_batches(folder / "plain.duckdb", articles, args.batch, Topic())
        bare = bare_insert(folder / "bare.duckdb", articles, args.batch)
        with duckdb.connect(str(folder / "writer.duckdb"), read_only=True) as conn:
            developments, facts = conn.execute(
                "SELECT (SELECT count(*) FROM developments), (SELECT count(*) FROM facts)"
            ).fetchone()
        emit(
            "storage_insert",
            articles=args.articles,
            batch=args.batch,
            writer_articles_per_s=round(args.articles / stored),
            writer_without_analysis_per_s=round(args.articles / unanalysed),
            analysis_ms_per_article=round((stored - unanalysed) / args.articles * 1000, 2),
            developments=developments,
            facts=facts,
            bare_insert_articles_per_s=round(args.articles / bare),
            ratio=round(bare / stored, 3),
        )
        started = time.perf_counter()
        analyst_store(folder / "analyst.duckdb", args.analyst_rows)
        build_s = time.perf_counter() - started
        emit(
            "analyst_queries",
            rows=args.analyst_rows,
            build_s=round(build_s, 1),
            query_ms=time_queries(folder / "analyst.duckdb"),
            peak_rss_mb=peak_rss_mb(),
        )


if __name__ == "__main__":
    main()
