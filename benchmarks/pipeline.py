"""1. Pipeline vs bare extraction: a full poll of N pages, against trafilatura alone.

The limit is `trafilatura.extract` on the same bytes in a process pool over every
core, measured in the same run. The pipeline adds fetching over HTTP, decoding,
fingerprints, deduplication, DuckDB and Prefect. Politeness is off (one local
host, no delay): it is a deliberate throttle, not a cost.

Synthetic pages by default; `--real [FOLDER]` serves real news pages instead
(`*.html.gz`, by default ../shared/eval/pages-dev/, never copied into the project),
polled with the default topic (a general feed: most pages are not about the story, so
analysis is skipped for them) and with a topic every page is relevant to (the cost of
analysis shows), each with and without the meaning layer (NEWSMON_EMBEDDER=none: what
the meaning layer costs). Every entry is fetched in each (skip_off_topic off). Each
run goes into a store that has had its first run (the seeds stored and embedded), as a
scheduled run finds it. A one-page run of each (pipeline and bare) gives what a run
costs whatever its size, so the per-page ratio shows apart from the fixed costs of a run.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import (
    EVAL,
    POLITENESS_OFF,
    SiteProcess,
    emit,
    paired_ms,
    peak_rss_mb,
    timed_poll,
    topic_table,
    warm_up_prefect,
    write_feed,
    write_site,
)


def bare_extraction(bodies: list[bytes], workers: int) -> float:
    """Seconds for trafilatura.extract over `bodies` in a fresh spawn pool, start-up included."""
    import trafilatura

    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        texts = list(pool.map(trafilatura.extract, bodies, chunksize=4))
    elapsed = time.perf_counter() - started
    assert sum(map(bool, texts)) >= len(texts) * 0.9, "nearly every page has text"
    return elapsed


def per_page_cpu(bodies: list[bytes]) -> tuple[float, float]:
    """ms per page on one core: the pipeline's extraction step, and bare trafilatura.extract."""
    import trafilatura

    from extractors.article import extract_article

    return paired_ms(
        lambda body, url: extract_article(body, url, "text/html"),
        lambda body, url: trafilatura.extract(body),
        [(body, f"http://bench/{n}.html") for n, body in enumerate(bodies)],
    )


def write_real_site(pages: Path, folder: Path) -> list[bytes]:
    """The real pages under folder/news/, decompressed, and an RSS feed listing them all."""
    import gzip

    news = folder / "news"
    news.mkdir(parents=True)
    bodies = []
    for number, page in enumerate(sorted(pages.glob("*.html.gz"))):
        body = gzip.decompress(page.read_bytes())
        (news / f"page-{number}.html").write_bytes(body)
        bodies.append(body)
    write_feed(news, [f"page-{number}" for number in range(len(bodies))])
    write_feed(news, ["page-0"], "one.xml")
    write_feed(news, ["page-1"], "next.xml")
    return bodies


def synthetic(pages: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bodies = write_site(folder / "site", pages)
        limit = min(bare_extraction(bodies, workers) for _ in range(2))
        with SiteProcess(folder / "site") as site:
            warm_up_prefect()
            pipeline, report = timed_poll(folder, site.base_url, "bench.duckdb")
            assert report.articles_new == pages, report  # type: ignore[attr-defined]
            # The same poll again finds nothing new: what a run costs whatever its size.
            fixed, _ = timed_poll(folder, site.base_url, "bench.duckdb")
        ours_ms, bare_ms = per_page_cpu(bodies[:60])

    emit(
        "pipeline_vs_bare_extraction",
        pages=pages,
        page_kb=round(sum(map(len, bodies)) / len(bodies) / 1024, 1),
        cores=workers,
        bare_articles_per_s=round(pages / limit, 1),
        bare_ms_per_page_per_core=round(limit * workers / pages * 1000, 2),
        pipeline_articles_per_s=round(pages / pipeline, 1),
        ratio=round(limit / pipeline, 3),
        target_ratio=0.8,
        run_fixed_cost_s=round(fixed, 2),
        ratio_without_fixed_cost=round(limit / (pipeline - fixed), 3),
        extract_article_ms=ours_ms,
        trafilatura_extract_ms=bare_ms,
        local_server_cpu_s=site.cpu_seconds,
        peak_rss_mb=peak_rss_mb(),
    )


def real(pages: Path, workers: int) -> None:
    """The real pages, with the default topic and with every page relevant, each with and
    without the meaning layer."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bodies = write_real_site(pages, folder / "site")
        polled = bodies[1:]  # page-0 is stored before, with the seeds
        limit = min(bare_extraction(polled, workers) for _ in range(2))
        bare_fixed = min(bare_extraction(bodies[:1], workers) for _ in range(2))
        figures: dict[str, dict[str, float]] = {}
        with SiteProcess(folder / "site") as site:
            warm_up_prefect()
            default = topic_table(skip_off_topic=False)
            every_page = topic_table(skip_off_topic=False, min_relevance=0.0)
            for name, topic, embedder in (
                # Every entry is fetched in each: the topic decides only what is analysed.
                ("default_topic", default, None),
                ("every_page_relevant", every_page, None),
                # The same without the meaning layer: what it costs.
                ("default_topic_without_meaning", default, "none"),
                ("every_page_relevant_without_meaning", every_page, "none"),
            ):
                with embedder_setting(embedder):
                    fixed, seconds, report = scheduled_runs(folder, site.base_url, name, topic)
                figures[name] = {
                    "pipeline_articles_per_s": round(len(polled) / seconds, 1),
                    "ratio": round(limit / seconds, 3),
                    "run_fixed_cost_s": round(fixed, 2),
                    "per_page_ratio": round((limit - bare_fixed) / (seconds - fixed), 3),
                    "stored_ok": report.articles_new + report.duplicates,  # type: ignore[attr-defined]
                    "relevant": _relevant(folder / f"{name}.duckdb"),
                    "developments": report.developments,  # type: ignore[attr-defined]
                }
        ours_ms, bare_ms = per_page_cpu(bodies)
    emit(
        "pipeline_vs_bare_extraction_real_pages",
        pages=len(polled),
        page_kb=round(sum(map(len, polled)) / len(polled) / 1024, 1),
        cores=workers,
        bare_articles_per_s=round(len(polled) / limit, 1),
        bare_fixed_cost_s=round(bare_fixed, 2),
        **figures,
        target_ratio_default_topic=0.8,
        extract_article_ms=ours_ms,
        trafilatura_extract_ms=bare_ms,
        peak_rss_mb=peak_rss_mb(),
    )


def scheduled_runs(folder: Path, base: str, name: str, topic: str) -> tuple[float, float, object]:
    """Seconds of a one-page run and of the run of every other page, each into a copy of
    a store that has had its first run (seeds stored and analysed, page-0): as a scheduled
    run finds it. And the report of the run of every page."""
    first = folder / f"{name}-first.duckdb"
    timed_poll(folder, base, first.name, topic, "one.xml")
    shutil.copy(first, folder / f"{name}-one.duckdb")
    fixed, _ = timed_poll(folder, base, f"{name}-one.duckdb", topic, "next.xml")
    shutil.copy(first, folder / f"{name}.duckdb")
    seconds, report = timed_poll(folder, base, f"{name}.duckdb", topic)
    return fixed, seconds, report


@contextlib.contextmanager
def embedder_setting(spec: str | None) -> Iterator[None]:
    """NEWSMON_EMBEDDER set to `spec` (None: as it was) for the runs inside."""
    before = os.environ.get("NEWSMON_EMBEDDER")
    if spec is not None:
        os.environ["NEWSMON_EMBEDDER"] = spec
    try:
        yield
    finally:
        os.environ.pop("NEWSMON_EMBEDDER", None)
        if before is not None:
            os.environ["NEWSMON_EMBEDDER"] = before


def _relevant(database: Path) -> int:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM articles WHERE story_id IS NOT NULL AND NOT is_seed"
        ).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=500, help="synthetic pages")
    parser.add_argument(
        "--real",
        type=Path,
        nargs="?",
        const=EVAL / "pages-dev",
        help="serve the real pages (*.html.gz) in this folder instead (default: %(const)s)",
    )
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    os.environ.update(POLITENESS_OFF)
    if args.real is None:
        synthetic(args.pages, workers)
    elif not any(args.real.glob("*.html.gz")):
        print(f"pipeline on real pages: skipped, no *.html.gz pages in {args.real}")
    else:
        real(args.real, workers)


if __name__ == "__main__":
    main()
