"""The benchmarks still run and report sane figures, at small sizes (`make bench`: full size)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # each benchmark at a small size, in a subprocess


def bench(script: str, *args: str) -> list[dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.pop("PREFECT_API_URL", None)
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_pipeline_benchmark() -> None:
    (figures,) = bench("pipeline.py", "--pages", "40")
    assert figures["pages"] == 40 and 0 < figures["ratio"] < 2
    assert figures["extract_article_ms"] > 0 and figures["bare_articles_per_s"] > 0


def test_dedup_benchmark_finds_every_copy() -> None:
    (figures,) = bench("dedup_scale.py", "--sizes", "2000")
    assert figures["copies_found"] == "100/100"
    assert 0 < figures["warm_p95_ms"] < 1000


def test_polling_benchmark() -> None:
    (figures,) = bench("polling.py", "--feeds", "12", "--hosts", "3", "--pages", "6")
    assert figures["second_poll_not_modified"] == 12 and figures["first_poll_pages"] == 6


def test_storage_benchmark_times_every_readme_query() -> None:
    insert, queries = bench("storage.py", "--articles", "300", "--analyst-rows", "2000")
    assert insert["writer_articles_per_s"] > 0 and insert["developments"] > 0
    assert len(queries["query_ms"]) == 10  # every query of docs/queries/


def test_backfill_benchmark() -> None:
    (figures,) = bench("backfill.py", "--sizes", "30")
    assert figures["pages"] == 30 and figures["articles"] >= 25 and figures["peak_rss_mb"] > 0


def test_novelty_benchmark() -> None:
    small, large = bench("novelty.py", "--sizes", "1000", "20000")
    assert small["articles"] == large["articles"] == 200
    assert small["ms_per_article"] > 0 and large["ms_per_article"] > 0


def test_hostile_inputs_benchmark() -> None:
    baseline, bomb, warc, lz4 = bench("hostile.py", "--cases", "1")
    assert baseline["exit_code"] == bomb["exit_code"] == 0 and bomb["good_feed_stored"]
    assert bomb["peak_mb"] < 2 * baseline["peak_mb"]  # the bomb was not expanded
    assert warc["exit_code"] == 0 and warc["stored"] == 39 and warc["skipped"] >= 1
    assert lz4["exit_code"] == 2


def labelled_pages(folder: Path) -> Path:
    """Two sample-site pages as the labelled real pages are laid out, with their truth."""
    pages = {
        "harbor-times/2025/01/aid-convoys-expand.html": ("Lina Haddad", "2025-01-22"),
        "gulf-observer/news/cairo-truce-room.html": ("Omar Said", "2025-01-21"),
    }
    truth = []
    for number, (relative, (author, day)) in enumerate(pages.items()):
        body = (ROOT / "samples/site" / relative).read_bytes()
        (folder / f"page-{number}.html.gz").write_bytes(gzip.compress(body))
        truth.append(
            {
                "file": f"page-{number}.html.gz",
                "url": f"https://site.example/{relative}",
                "title": "",
                "authors": [author] if author else [],
                "publishing_date": day,
                "body_text": "",
            }
        )
    (folder / "ground-truth.json").write_text(json.dumps(truth))
    return folder


def test_extraction_benchmark_scores_newsmon_and_trafilatura(tmp_path: Path) -> None:
    (figures,) = bench("extraction.py", "--pages", str(labelled_pages(tmp_path)))
    assert figures["pages"] == 2
    for side in ("newsmon", "trafilatura"):
        assert set(figures[side]) >= {"body_f1", "date_right_day", "author_right"}
    assert figures["newsmon"]["author_right"] == figures["newsmon"]["date_right_day"] == 1.0
    assert figures["extract_article_ms"] > 0 and figures["speed_ratio"] > 0


def test_pipeline_benchmark_on_real_pages(tmp_path: Path) -> None:
    (figures,) = bench("pipeline.py", "--real", str(labelled_pages(tmp_path)))
    assert figures["pages"] == 2
    assert figures["default_topic"]["stored_ok"] == 2
    assert figures["every_page_relevant"]["relevant"] == 2  # min_relevance 0: all of them


@pytest.mark.parametrize("script", ["extraction.py", "pipeline.py"])
def test_benchmarks_of_labelled_pages_say_when_there_are_none(script: str, tmp_path: Path) -> None:
    option = "--pages" if script == "extraction.py" else "--real"
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", option, str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0 and "skipped" in result.stdout
