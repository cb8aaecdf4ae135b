"""5. Backfill: a WARC.gz of N synthetic news pages, at two sizes: throughput and peak memory.

Memory should stay flat whatever the file's size: the backfill holds one batch.
Each size runs in a fresh process, so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import tempfile
import time
from pathlib import Path

from common import (
    article_page,
    emit,
    in_process,
    peak_rss_mb,
    vocabulary,
    warm_up_prefect,
    write_warc_response,
)


def write_warc(path: Path, pages: int) -> None:
    from warcio.warcwriter import WARCWriter

    rng = random.Random(11)
    words = vocabulary()
    with path.open("wb") as file:
        warc = WARCWriter(file, gzip=True)
        for number in range(pages):
            body = article_page(number, rng, words).encode("utf-8")
            write_warc_response(warc, f"https://archive.example/story-{number}.html", body)


def run(warc: Path, db: Path, out: multiprocessing.Queue) -> None:
    os.environ["NEWSMON_SNAPSHOT"] = "false"
    from extractors.collect import close_extraction_pools
    from flows.backfill import backfill

    warm_up_prefect()
    started = time.perf_counter()
    report = backfill(path=str(warc), db_path=str(db))
    close_extraction_pools()
    out.put(
        {
            "seconds": round(time.perf_counter() - started, 1),
            "articles": report.articles_new + report.duplicates,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="500,2000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            warc = Path(tmp) / "crawl.warc.gz"
            write_warc(warc, size)
            figures = in_process(run, warc, Path(tmp) / "b.duckdb")
            emit(
                "backfill",
                pages=size,
                warc_mb=round(warc.stat().st_size / 1024 / 1024, 1),
                articles_per_s=round(figures["articles"] / figures["seconds"], 1),
                **figures,
            )


if __name__ == "__main__":
    main()
