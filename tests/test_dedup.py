"""Fingerprints on real text: the seeds and the sample site's copies of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.dedup import BANDS, compare, content_hash, signature
from extractors.article import extract_article
from extractors.seeds import load_seeds
from newsmon.records import Article

ROOT = Path(__file__).resolve().parent.parent
SEEDS = {seed.name: seed for seed in load_seeds(ROOT / "seeds")}
SEED_000 = SEEDS["000_cbb868c4a7457886.txt"]
SEED_003 = SEEDS["003_620d9e211269476d.txt"]


def page_text(relative: str) -> str:
    path = ROOT / "samples" / "site" / relative
    article = extract_article(path.read_bytes(), f"http://site.example/{relative}")
    assert isinstance(article, Article)
    return article.text


def test_seeds_load_with_title_url_and_without_the_shortlink_line() -> None:
    assert SEED_000.title and SEED_000.title.startswith("Qatari, US and Egyptian negotiators")
    assert SEED_000.url is None
    assert not SEED_000.text.startswith("Qatari, US and Egyptian negotiators set up")
    assert SEED_003.url == "https://daysofpalestine.ps/?p=68409"
    assert "Shortlink" not in SEED_003.text and SEED_003.title is None


def test_content_hash_ignores_case_punctuation_and_spacing() -> None:
    assert content_hash("Aid trucks, crossed!  Today.") == content_hash("aid trucks crossed today")
    assert content_hash("aid trucks crossed today") != content_hash("aid trucks crossed tomorrow")


@pytest.mark.parametrize(
    ("page", "seed"),
    [
        ("harbor-times/2025/01/cairo-center.html", SEED_000),  # dateline, credits, words swapped
        ("gulf-observer/news/cairo-hub-brief.html", SEED_000),  # cut to six paragraphs
        ("gulf-observer/news/qatar-phase-two-talks.html", SEED_003),  # new headline and credits
    ],
)
def test_copies_of_seeds_are_near_duplicates(page: str, seed) -> None:
    similarity = compare(signature(page_text(page)), seed.signature)
    assert similarity.is_near_duplicate, similarity


def test_truncated_copy_is_caught_by_containment_not_jaccard() -> None:
    similarity = compare(
        signature(page_text("gulf-observer/news/cairo-hub-brief.html")), SEED_000.signature
    )
    assert similarity.jaccard < 0.5 <= 0.8 <= similarity.containment


@pytest.mark.parametrize(
    "page",
    [
        "gulf-observer/news/cairo-truce-room.html",  # the seed 000 story in other words
        "harbor-times/2025/01/aid-convoys-expand.html",  # same topic, other facts
        "harbor-times/2025/01/rafah-aid-ar.html",
    ],
)
def test_same_story_in_other_words_is_not_a_duplicate(page: str) -> None:
    fingerprint = signature(page_text(page))
    for seed in SEEDS.values():
        similarity = compare(fingerprint, seed.signature)
        assert not similarity.is_near_duplicate, (seed.name, similarity)
        assert similarity.jaccard < 0.15 and similarity.containment < 0.3


def test_edits_keep_the_estimate_close_to_the_truth() -> None:
    text = SEED_000.text
    edited = re.sub(r"\bceasefire\b", "truce", text)  # a word swapped throughout
    dropped = "\n".join(p for i, p in enumerate(text.split("\n")) if i != 3)
    for variant in (edited, dropped, "GAZA (AP) - " + text + "\nAssociated Press contributed."):
        assert compare(signature(variant), SEED_000.signature).is_near_duplicate


def test_near_duplicates_share_a_band_and_unrelated_texts_do_not() -> None:
    copy = signature(page_text("harbor-times/2025/01/cairo-center.html"))
    assert set(copy.bands()) & set(SEED_000.signature.bands())
    assert not set(SEED_003.signature.bands()) & set(SEED_000.signature.bands())
    assert len(copy.bands()) == BANDS


def test_too_short_texts_have_no_signature() -> None:
    assert signature("Gaza") is None
    assert signature("three words here") is not None
