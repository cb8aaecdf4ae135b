"""6. Novelty at scale: analysing new articles against 10k, 100k and 1M known facts.

Each size gets a store whose `facts` table holds that many facts (random keys,
as the pipeline stores them), then 200 new relevant articles are analysed the way
the analysis step does it (`analyse_pending`: relevance, sentences and facts, one indexed
lookup of the batch's facts, developments, figures, stories), on a connection
opened afresh, as every run's is. The baseline, in
the same run, is the pure part alone: `analyse()` over the same texts, no database.
If the lookup were a scan, the time per article would grow with the store.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, article_text, emit, peak_rss_mb, vocabulary

ARTICLES = 200


def texts(count: int) -> list[str]:
    """Relevant articles: the seeds' words, a named place and a new figure in each."""
    rng = random.Random(11)
    words = vocabulary()
    out = []
    for n in range(count):
        paragraphs = article_text(rng, words, paragraphs=6)
        paragraphs.append(
            f"Officials in Gaza said {n + 10} aid trucks crossed at Kerem Shalom {n}."
        )
        out.append("\n".join(paragraphs))
    return out


def analysed_store(db_path: Path, known: int, articles: list[str]) -> float:
    """Seconds for analyse_pending over `articles` in a store that knows `known` facts."""
    from analysis.topic import build_topic
    from storage.analysis import analyse_pending
    from storage.db import connect, insert_columns, migrate

    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    topic = build_topic(seeds, ["gaza"])
    now = datetime.now(UTC)
    with connect(db_path) as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO facts SELECT hash(i) >> 1, 'name', 'fact ' || i, i, now() "
            "FROM range($1) t(i)",
            [known],
        )
        conn.execute("CHECKPOINT")
    with connect(db_path) as conn:  # a new connection, as each run is: the index loads cold
        insert_columns(
            conn,
            "articles",
            {
                "article_id": list(range(10**9, 10**9 + len(articles))),
                "url": [f"https://bench.example/{n}" for n in range(len(articles))],
                "fetched_at": [now] * len(articles),
                "text": articles,
                "title": [f"Aid update {n}" for n in range(len(articles))],
            },
        )
        started = time.perf_counter()
        result = analyse_pending(conn, topic, now)  # in its own transaction
        elapsed = time.perf_counter() - started
    assert result.relevant == len(articles) and result.developments > 0, result
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()

    from analysis.facts import analyse

    articles = texts(ARTICLES)
    started = time.perf_counter()
    for text in articles:
        analyse(text)
    bare = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            elapsed = analysed_store(Path(tmp) / f"facts-{size}.duckdb", size, articles)
            emit(
                "novelty_at_scale",
                known_facts=size,
                articles=ARTICLES,
                ms_per_article=round(elapsed / ARTICLES * 1000, 2),
                bare_analyse_ms_per_article=round(bare / ARTICLES * 1000, 2),
                ratio=round(elapsed / bare, 2),
                peak_rss_mb=peak_rss_mb(),
            )


if __name__ == "__main__":
    main()
