"""The meaning layer: leads, numbers, the bundled model, and translations told from articles
on the same subject (texts written here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analysis.meaning import (
    LEAD_CHARS,
    E5Small,
    Lead,
    embed_leads,
    find_story_neighbours,
    find_translations,
    lead,
    load_embedder,
    numbers,
)
from extractors.collect import PoolEmbedder, close_extraction_pools
from newsmon.errors import ConfigError
from newsmon.settings import Settings

AID_EN = (
    "Aid convoys reach northern Gaza. A convoy of 74 trucks carrying flour and medicine "
    "reached Jabalia on Tuesday, the first since the truce began, the World Food Programme said."
)
AID_FR = (
    "Les convois d'aide atteignent le nord de Gaza. Un convoi de 74 camions chargés de farine "
    "et de médicaments a atteint mardi Jabaliya, le premier depuis le début de la trêve, a "
    "indiqué le Programme alimentaire mondial."
)
HOSTAGES_FR = (
    "Dix-sept otages libérés à Gaza. Dix-sept otages ont été remis jeudi à la Croix-Rouge à "
    "Khan Younès, et 183 prisonniers palestiniens ont été libérés de la prison d'Ofer."
)
HARBOUR_DE = (
    "Hafenstadt eröffnet ihr neues Fährterminal. Das Terminal am Nordkai wurde am Montag nach "
    "drei Jahren Bauzeit eröffnet; die ersten Schiffe legten mit 600 Fahrgästen ab."
)


def test_the_lead_is_the_headline_once_then_the_text_within_its_budget() -> None:
    assert lead("Aid reaches Gaza", "Aid reaches Gaza\nTrucks crossed.") == (
        "Aid reaches Gaza\nTrucks crossed."
    )
    assert lead("Aid reaches Gaza", "Trucks crossed.") == "Aid reaches Gaza\nTrucks crossed."
    assert len(lead(None, "word " * 500)) == LEAD_CHARS
    # A Japanese character says about as much as a short word: a third as many fit.
    assert len(lead(None, "支援物資" * 200)) == LEAD_CHARS // 3


def test_numbers_are_compared_as_digits_whatever_their_separators_or_width() -> None:
    assert numbers("1,800 trucks, 1.800 camions, １８００台, 3 days, 2025") == ["1800", "2025"]


def vector(*values: float) -> np.ndarray:
    array = np.array(values, dtype=np.float32)
    return array / np.linalg.norm(array)


def test_a_translation_is_the_best_match_in_another_language_by_enough() -> None:
    stored = [
        Lead(1, "en", vector(1, 0.2, 0.1, 0.0), frozenset({"74"})),
        Lead(2, "en", vector(0.1, 1, 0.1, 0.2), frozenset()),
        Lead(3, "en", vector(0.1, 0.1, 1, 0.1), frozenset()),
    ]
    new = [
        Lead(10, "fr", vector(1, 0.25, 0.1, 0.0), frozenset({"74"})),  # article 1, in French
        Lead(11, "fr", vector(0.4, 0.4, 0.4, 0.7), frozenset()),  # near all, close to none
        Lead(12, "en", vector(1, 0.2, 0.1, 0.01), frozenset()),  # same language: not a translation
    ]
    found = find_translations(new, stored)
    assert set(found) == {10} and found[10].original_id == 1 and found[10].score > 0


def test_a_translation_found_in_a_batch_is_no_original_for_the_next() -> None:
    new = [
        Lead(1, "en", vector(1, 0, 0), frozenset()),
        Lead(2, "fr", vector(1, 0.01, 0), frozenset()),
        Lead(3, "de", vector(1, 0, 0.01), frozenset()),
    ]
    found = find_translations(new, [])
    assert {k: t.original_id for k, t in found.items()} == {2: 1, 3: 1}


def test_only_an_article_of_the_same_days_or_a_seed_can_be_the_original() -> None:
    day = datetime(2025, 1, 28, tzinfo=UTC)
    stored = [
        Lead(1, "en", vector(1, 0, 0), frozenset(), day - timedelta(days=10)),
        Lead(2, "en", vector(0, 1, 0), frozenset(), None),  # a seed
    ]
    new = [
        Lead(3, "fr", vector(1, 0.01, 0), frozenset(), day),  # like 1, but ten days later
        Lead(4, "fr", vector(0.01, 1, 0), frozenset(), day),  # like the seed
    ]
    assert {k: t.original_id for k, t in find_translations(new, stored).items()} == {4: 2}


def unrelated_leads(count: int, seed: int = 3) -> list[Lead]:
    """A store of leads about other events: random directions, in two languages."""
    rng = np.random.default_rng(seed)
    return [
        Lead(100 + n, ("en", "ar")[n % 2], vector(*rng.normal(size=24)), frozenset())
        for n in range(count)
    ]


def test_an_article_joins_the_story_of_the_lead_closest_in_meaning_in_any_language() -> None:
    stored = unrelated_leads(60)
    event = stored[7].vector  # an Arabic report of some event
    rng = np.random.default_rng(5)
    same_event_in_english = vector(*(event + 0.35 * rng.normal(size=24) / np.sqrt(24)))
    other_event = vector(*rng.normal(size=24))
    new = [
        Lead(1, "en", same_event_in_english, frozenset()),
        Lead(2, "en", other_event, frozenset()),
        Lead(
            3, "fr", vector(*(same_event_in_english + 0.2 * rng.normal(size=24) / 5)), frozenset()
        ),
    ]
    found = find_story_neighbours(new, stored)
    assert found[1].article_id == stored[7].article_id and found[1].score >= 0.15
    assert 2 not in found  # close to nothing
    assert found[3].article_id in {1, stored[7].article_id}  # an earlier one of the batch too


def test_a_store_of_a_few_leads_pairs_nothing_by_meaning() -> None:
    # Once a few leads lose their language means, everything looks unrelated: CSLS would
    # pair anything with anything if their densities were not floored.
    stored = unrelated_leads(3)
    rng = np.random.default_rng(9)
    assert (
        find_story_neighbours([Lead(1, "he", vector(*rng.normal(size=24)), frozenset())], stored)
        == {}
    )


def test_the_bundled_model_tells_a_translation_from_the_same_subject() -> None:
    model = load_embedder("e5-small")
    assert isinstance(model, E5Small)
    vectors = model.embed([AID_EN, AID_FR, HOSTAGES_FR, HARBOUR_DE])
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    en, fr, hostages, harbour = vectors
    assert en @ fr > en @ hostages > en @ harbour
    texts = {"en": AID_EN, "fr": AID_FR, "fr2": HOSTAGES_FR, "de": HARBOUR_DE}
    leads = [
        Lead(n, language[:2], v, frozenset(numbers(text)))
        for n, ((language, text), v) in enumerate(zip(texts.items(), vectors, strict=True), 1)
    ]
    found = find_translations(leads[1:], leads[:1])
    assert {k: t.original_id for k, t in found.items()} == {2: 1}


def test_the_pool_shares_the_texts_out_and_keeps_their_order() -> None:
    texts = [AID_EN, AID_FR, HOSTAGES_FR, HARBOUR_DE, "Talks resumed."]
    try:
        pooled = PoolEmbedder("e5-small", 2).embed(texts)
    finally:
        close_extraction_pools()
    assert np.allclose(pooled, embed_leads("e5-small", texts), atol=1e-5)


def test_no_embedder_embeds_nothing_and_a_bad_setting_is_refused() -> None:
    assert load_embedder("none") is None
    assert embed_leads("none", ["text"]).shape == (1, 0)
    with pytest.raises(ConfigError, match="NEWSMON_EMBEDDER"):
        Settings.from_env({"NEWSMON_EMBEDDER": "a bigger one"})
    assert Settings.from_env({"NEWSMON_EMBEDDER": "mypkg.models:Bigger"}).embedder == (
        "mypkg.models:Bigger"
    )


def test_the_sentences_meaning_judges_are_the_first_two_within_their_budget() -> None:
    from analysis.meaning import SAID_CHARS, said_parts

    sentences = ["Aid reaches Gaza", "Trucks crossed at dawn.", "x" * 500, "More later."]
    parts = said_parts(sentences, "Aid reaches Gaza")
    assert [p for p, _ in parts] == [1, 2]  # the headline repeated is not one of them
    assert sum(len(text) for _, text in parts) == SAID_CHARS
    assert [p for p, _ in said_parts(sentences, None, seed=True)] == [0, 1, 2, 3]


def test_a_story_has_said_its_own_sentences_and_every_seed_s() -> None:
    from analysis.meaning import StorySaid

    stored = {7: np.stack([vector(1, 0, 0)])}
    said = StorySaid(lambda story: stored.get(story, np.empty((0, 0), dtype=np.float32)))
    assert said.closest(7, np.stack([vector(1, 0, 0)])).tolist() == pytest.approx([1.0])
    assert said.closest(8, np.stack([vector(1, 0, 0)])).tolist() == [-1.0]  # nothing said
    said.add(9, np.stack([vector(0, 1, 0)]), seed=True)
    assert said.closest(8, np.stack([vector(0, 1, 0)])).tolist() == pytest.approx([1.0])
