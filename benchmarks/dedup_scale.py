"""2. Dedup at scale: a near-duplicate lookup against 10k, 100k and 1M stored articles.

The store is filled in bulk with SQL: every article gets a row, a MinHash
signature and its 42 LSH band keys, as the pipeline stores them (random values:
they are nobody's duplicate). Among them sit 100 real texts whose edited copies
(a paragraph dropped, a sentence added, words swapped) are then looked up, along
with 100 texts that match nothing. Each lookup is what the writer does for a new
article: URL, content hash, LSH buckets, candidate signatures, comparison.
The store is built in one process and searched in another, so the lookup's
memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import article_text, emit, in_process, peak_rss_mb, vocabulary

PLANTED = 100
FRESH = 100


def texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary()
    return ["\n".join(article_text(rng, words)) for _ in range(count)]


def edited(text: str, rng: random.Random) -> str:
    """A syndicated copy: wire credit added, one paragraph dropped, a few words swapped."""
    paragraphs = text.split("\n")
    del paragraphs[rng.randrange(len(paragraphs))]
    words = "\n".join(paragraphs).split(" ")
    for _ in range(5):
        words[rng.randrange(len(words))] = "reportedly"
    return "GAZA CITY (Wire) - " + " ".join(words) + "\nReporting by the wire desk."


def as_article(text: str, url: str) -> Any:
    from analysis.dedup import content_hash, signature
    from newsmon.records import Article

    return Article(url, None, None, None, "en", None, text, content_hash(text), signature(text), "")


def build(db_path: Path, size: int, out: multiprocessing.Queue) -> None:
    from storage.articles import article_id_for, insert_signatures
    from storage.db import connect, insert_columns, migrate

    started = time.perf_counter()
    with connect(db_path) as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO articles (article_id, url, canonical_url, feed_url, fetched_at, status, "
            "content_hash) SELECT i, 'https://bench.example/' || i, 'https://bench.example/' || i, "
            "'https://bench.example/rss', now(), 'ok', md5(i::VARCHAR) FROM range($1) t(i)",
            [size - PLANTED],
        )
        conn.execute(
            "INSERT INTO article_signatures SELECT i, 300, "
            "list_transform(range(126), lambda x: (hash(i, x) % 4294967296)::UINTEGER) "
            "FROM range($1) t(i)",
            [size - PLANTED],
        )
        conn.execute(
            "INSERT INTO lsh_buckets SELECT (hash(i, b) >> 1)::BIGINT, i "
            "FROM range($1) t(i), range(42) s(b)",
            [size - PLANTED],
        )
        planted = [
            as_article(t, f"https://planted.example/{n}") for n, t in enumerate(texts(1, PLANTED))
        ]
        ids = [article_id_for(a.canonical_url) for a in planted]
        insert_columns(
            conn,
            "articles",
            {
                "article_id": ids,
                "url": [a.canonical_url for a in planted],
                "canonical_url": [a.canonical_url for a in planted],
                "fetched_at": [time.strftime("%Y-%m-%d %H:%M:%S+00")] * PLANTED,
                "text": [a.text for a in planted],
                "content_hash": [a.content_hash for a in planted],
            },
        )
        insert_signatures(conn, {i: a.signature for i, a in zip(ids, planted, strict=True)})
        conn.execute("CHECKPOINT")
    out.put(
        {"build_s": round(time.perf_counter() - started, 1), "build_peak_rss_mb": peak_rss_mb()}
    )


def lookup(db_path: Path, out: multiprocessing.Queue) -> None:
    """Each article looked up alone (twice: cold, then with the index pages in memory),
    then all of them at once, as the writer does with one run's articles."""
    from storage.db import connect
    from storage.writer import DuplicateFinder

    rng = random.Random(3)
    copies = [
        as_article(edited(t, rng), f"https://copy.example/{n}")
        for n, t in enumerate(texts(1, PLANTED))
    ]
    fresh = [as_article(t, f"https://fresh.example/{n}") for n, t in enumerate(texts(2, FRESH))]
    articles = copies + fresh
    rng.shuffle(articles)
    figures: dict[str, object] = {}
    with connect(db_path, read_only=True) as conn:
        for label in ("cold", "warm"):
            timings: list[float] = []
            found = 0
            for article in articles:
                started = time.perf_counter()
                verdict = DuplicateFinder(conn, [article]).find(article)
                timings.append((time.perf_counter() - started) * 1000)
                found += verdict is not None and article.canonical_url.startswith("https://copy.")
            timings.sort()
            figures[f"{label}_median_ms"] = round(statistics.median(timings), 2)
            figures[f"{label}_p95_ms"] = round(timings[int(len(timings) * 0.95) - 1], 2)
        figures["copies_found"] = f"{found}/{PLANTED}"
        started = time.perf_counter()
        finder = DuplicateFinder(conn, articles)
        assert sum(finder.find(a) is not None for a in articles) == found
        figures["batched_ms_per_article"] = round(
            (time.perf_counter() - started) * 1000 / len(articles), 3
        )
    out.put({**figures, "lookup_peak_rss_mb": peak_rss_mb()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "scale.duckdb"
            built = in_process(build, db_path, size)
            searched = in_process(lookup, db_path)
            file_mb = round(db_path.stat().st_size / 1024 / 1024)
        emit(
            "dedup_at_scale",
            stored=size,
            **searched,
            **built,
            db_file_mb=file_mb,
            target_p95_ms=10,
            target_peak_rss_mb=2048,
        )


if __name__ == "__main__":
    main()
