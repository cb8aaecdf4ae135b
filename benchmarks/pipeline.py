"""1. Pipeline vs bare extraction: a full poll of N pages, against trafilatura alone.

The limit is `trafilatura.extract` on the same bytes in a process pool over every
core, measured in the same run. The pipeline adds fetching over HTTP, decoding,
fingerprints, deduplication, DuckDB and Prefect. Politeness is off (one local
host, no delay): it is a deliberate throttle, not a cost.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import SiteProcess, emit, peak_rss_mb, warm_up_prefect, write_site


def bare_extraction(bodies: list[bytes], workers: int) -> float:
    """Seconds for trafilatura.extract over `bodies` in a fresh spawn pool, start-up included."""
    import trafilatura

    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        texts = list(pool.map(trafilatura.extract, bodies, chunksize=4))
    elapsed = time.perf_counter() - started
    assert all(texts), "every synthetic page has text"
    return elapsed


def per_page_cpu(bodies: list[bytes]) -> tuple[float, float]:
    """ms per page on one core: the pipeline's extraction step, and bare trafilatura.extract."""
    import trafilatura

    from extractors.article import extract_article

    def timed(extract: object) -> float:
        started = time.process_time()
        for number, body in enumerate(bodies):
            extract(body, number)
        return round((time.process_time() - started) / len(bodies) * 1000, 2)

    ours = timed(lambda body, n: extract_article(body, f"http://bench/{n}.html", "text/html"))
    return ours, timed(lambda body, n: trafilatura.extract(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=500)
    args = parser.parse_args()
    workers = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bodies = write_site(folder / "site", args.pages)
        limit = min(bare_extraction(bodies, workers) for _ in range(2))

        os.environ.update(
            NEWSMON_ALLOW_PRIVATE_HOSTS="127.0.0.1/32",
            NEWSMON_HOST_DELAY="0",
            NEWSMON_PER_HOST="10",
            NEWSMON_SNAPSHOT="false",
        )
        from flows.poll import poll_feeds

        with SiteProcess(folder / "site") as site:
            base = site.base_url
            feeds = folder / "feeds.toml"
            feeds.write_text(f'[[feeds]]\nurl = "{base}/news/rss.xml"\nname = "bench"\n')
            warm_up_prefect()
            started = time.perf_counter()
            report = poll_feeds(feeds_file=str(feeds), db_path=str(folder / "bench.duckdb"))
            pipeline = time.perf_counter() - started
            assert report.articles_new == args.pages, report
            # The same poll again finds nothing new: what a run costs whatever its size.
            started = time.perf_counter()
            poll_feeds(feeds_file=str(feeds), db_path=str(folder / "bench.duckdb"))
            fixed = time.perf_counter() - started
        ours_ms, bare_ms = per_page_cpu(bodies[:60])

    emit(
        "pipeline_vs_bare_extraction",
        pages=args.pages,
        page_kb=round(sum(map(len, bodies)) / len(bodies) / 1024, 1),
        cores=workers,
        bare_articles_per_s=round(args.pages / limit, 1),
        bare_ms_per_page_per_core=round(limit * workers / args.pages * 1000, 2),
        pipeline_articles_per_s=round(args.pages / pipeline, 1),
        ratio=round(limit / pipeline, 3),
        target_ratio=0.8,
        run_fixed_cost_s=round(fixed, 2),
        ratio_without_fixed_cost=round(limit / (pipeline - fixed), 3),
        extract_article_ms=ours_ms,
        trafilatura_extract_ms=bare_ms,
        local_server_cpu_s=site.cpu_seconds,
        peak_rss_mb=peak_rss_mb(),
    )


if __name__ == "__main__":
    main()
