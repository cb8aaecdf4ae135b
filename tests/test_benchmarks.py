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


def test_said_benchmark_reads_each_story_and_the_seeds() -> None:
    (figures,) = bench("said.py", "--sizes", "3000")
    assert figures["stored_sentences"] == 3000 and figures["stories"] == 200
    assert 0 < figures["p50_ms_per_story"] <= figures["p95_ms_per_story"] < 1000


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
    assert figures["pages"] == 1  # the other was stored by the store's first run
    assert figures["default_topic"]["stored_ok"] == 1
    for setting in ("every_page_relevant", "every_page_relevant_without_meaning"):
        assert figures[setting]["relevant"] == 2  # min_relevance 0: both, the first run's too


AID_EN = (
    "Aid convoys reach Gaza as the truce holds\n\n"
    "Forty trucks carrying flour, medicine and fuel crossed into Gaza on Tuesday, the third day "
    "of the truce, officials at the Kerem Shalom crossing said.\n\n"
    "The United Nations said it hoped to raise the number to 200 trucks a day next week."
)
AID_FR = (
    "Les convois d'aide arrivent à Gaza tandis que la trêve tient\n\n"
    "Quarante camions transportant de la farine, des médicaments et du carburant sont entrés "
    "mardi dans Gaza, troisième jour de la trêve, ont indiqué les responsables du point de "
    "passage de Kerem Shalom.\n\n"
    "Les Nations unies espèrent porter ce nombre à 200 camions par jour la semaine prochaine."
)
HARBOUR_EN = (
    "Harbour city opens its new ferry terminal\n\n"
    "The ferry terminal on the north quay opened on Monday after three years of building work, "
    "and the first boats to the islands left at dawn with 600 passengers on board."
)
HARBOUR_DE = (
    "Hafenstadt eröffnet ihr neues Fährterminal\n\n"
    "Das Fährterminal am Nordkai wurde am Montag nach drei Jahren Bauzeit eröffnet, und die "
    "ersten Schiffe zu den Inseln legten im Morgengrauen mit 600 Fahrgästen an Bord ab."
)


def signal_data(folder: Path) -> Path:
    """Translations and judged pairs written here, in the labelled files' formats."""
    texts = [("aid", "en", True, AID_EN), ("aid", "fr", False, AID_FR)]
    texts += [("harbour", "en", True, HARBOUR_EN), ("harbour", "de", False, HARBOUR_DE)]
    wmt = [
        {
            "article_id": f"{c}|{lang}",
            "cluster_id": c,
            "lang": lang,
            "is_original": first,
            "group": "handwritten",
            "text": text,
        }
        for c, lang, first, text in texts
    ]
    aid, harbour = (t.replace("\n\n", "  ", 1).replace("\n\n", " ") for t in (AID_EN, HARBOUR_EN))
    copy = aid.replace("on Tuesday", "on Tuesday morning") + " Lorries queued for hours."
    pairs = [
        {
            "pair_id": "1_2",
            "lang1": "en",
            "lang2": "en",
            "text1": aid,
            "text2": copy,
            "Overall": 1.0,
        },
        {
            "pair_id": "1_3",
            "lang1": "en",
            "lang2": "en",
            "text1": aid,
            "text2": harbour,
            "Overall": 4.0,
        },
        {
            "pair_id": "3_4",
            "lang1": "en",
            "lang2": "de",
            "text1": harbour,
            "text2": HARBOUR_DE.replace("\n\n", "  "),
            "Overall": 2.5,
        },
    ]
    for name, records in (("wmt21-news-translations", wmt), ("semeval2022-pairs-dev", pairs)):
        lines = "".join(json.dumps(record) + "\n" for record in records)
        (folder / f"{name}.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    return folder


def test_signal_benchmark_reports_translations_and_judged_pairs(tmp_path: Path) -> None:
    translations, pairs = bench("signal_quality.py", "--data", str(signal_data(tmp_path)))
    assert translations["originals"] == translations["translations"] == 2
    assert set(translations["per_language_pair"]) == {"en->fr", "en->de"}
    assert 0 <= translations["recognised"] <= 1
    assert translations["developments_per_original"] > 0  # the originals' facts are new
    assert pairs["pairs"] == 3 and pairs["very_similar"] == pairs["very_dissimilar"] == 1
    assert pairs["very_similar_in_one_story"] == 1.0  # a light edit: a near-duplicate
    assert pairs["very_dissimilar_merged"] == 0.0
    assert pairs["spearman"] is not None and pairs["spearman"] > 0  # the copy scores highest


@pytest.mark.parametrize("script", ["extraction.py", "pipeline.py", "signal_quality.py"])
def test_benchmarks_of_labelled_data_say_when_there_is_none(script: str, tmp_path: Path) -> None:
    option = {"extraction.py": "--pages", "pipeline.py": "--real"}.get(script, "--data")
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", option, str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0 and "skipped" in result.stdout


def test_search_benchmark_times_every_kind_of_query() -> None:
    (figures,) = bench("search.py", "--articles", "5000", "--batch", "1000", "--rounds", "2")
    assert figures["articles"] == 5000 and figures["index_rows"] > 5000 * 150
    kinds = {"one common word", "two words", "rare word", "filtered", "phrase"}
    assert set(figures["sorted"]) == set(figures["appended_baseline"]) == kinds
    assert 0 < figures["p95_ms"] < 5000
