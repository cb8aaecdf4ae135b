"""The analysis stage alone: stories, novelty and one pass over a batch, with no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analysis import batch
from analysis.batch import Analysis
from analysis.facts import NAME, TERM, Fact, Sentence, analyse
from analysis.novelty import fact_keys, is_development, is_headline, is_known
from analysis.stories import STORY_WINDOW, Story, StoryIndex, story_terms, window_start
from analysis.text import content_words
from analysis.topic import build_topic

NOW = datetime(2026, 12, 2, tzinfo=UTC)
SEED = (
    "Qatari and Egyptian mediators opened a ceasefire coordination centre in Cairo.\n"
    "More than 900 aid trucks crossed into Gaza on the first day of the ceasefire."
)
TOPIC = build_topic([SEED], ["gaza"], aliases={"qatari": "qatar", "egyptian": "egypt"})


def pending(article_id: int, text: str, **more: object) -> tuple[object, ...]:
    """A row as storage/analysis.py reads it from the articles table."""
    values = {"title": None, "is_seed": False, "duplicate_of": None, "event_at": NOW, **more}
    return (article_id, f"https://news.example/{article_id}", values["title"], text,
            values["is_seed"], values["duplicate_of"], values["event_at"], "en")  # fmt: skip


def run(rows: list[tuple[object, ...]], known: set[int] | None = None) -> tuple[Analysis, object]:
    result = Analysis(articles=len(rows))
    articles = batch.read(rows, TOPIC, result)
    findings = batch.develop(articles, TOPIC, known or set(), StoryIndex([]), {}, NOW, result)
    return result, (articles, findings)


def test_a_seed_states_the_baseline_and_a_rewrite_of_it_adds_nothing() -> None:
    rewrite = "Egypt and Qatar mediators opened a ceasefire coordination room in Cairo."
    result, (articles, findings) = run(
        [pending(1, SEED, is_seed=True, event_at=None), pending(2, rewrite)]
    )
    assert result.relevant == 2 and result.developments == 0
    assert articles[1].story_id == articles[0].story_id == 1  # the rewrite joins the seed's story
    assert {"aid_trucks=900", "qatar", "egypt", "cairo"} <= set(findings.facts["text"])


def test_a_new_figure_is_a_development_in_the_story_it_joins() -> None:
    news = "Aid trucks crossed into Gaza after the ceasefire: 1,800 aid trucks, the UN said."
    result, (articles, findings) = run([pending(1, SEED, is_seed=True), pending(2, news)])
    assert result.developments == 1
    assert findings.developments["new_facts"] == [["figure:aid_trucks=1800", "name:un"]]
    assert findings.figures["value"] == [900.0, 1800.0]


def test_copies_take_their_originals_story_and_off_topic_articles_stay_out() -> None:
    football = "Real Madrid beat Bayern Munich in the Champions League final on Tuesday night."
    result, (articles, findings) = run(
        [pending(1, SEED), pending(2, SEED, duplicate_of=1), pending(3, football)]
    )
    copy, other = articles[1], articles[2]
    assert copy.story_id == 1 and not copy.relevant
    assert not other.relevant and other.story_id is None and other.relevance == 0.0
    assert result.stories_opened == 1


def test_one_articles_failure_keeps_none_of_its_rows_and_stops_no_other() -> None:
    result, (articles, findings) = run([pending(1, SEED), pending(2, SEED.upper())])
    articles[0].sentences = [None]  # what a bug would leave
    result = Analysis()
    findings = batch.develop(articles, TOPIC, set(), StoryIndex([]), {}, NOW, result)
    assert list(result.errors) == [1] and "analysis failed (AttributeError" in result.failed[0]
    assert set(findings.facts["article_id"]) == {2}


def test_names_are_known_by_their_last_word_and_caseless_text_needs_many_new_words() -> None:
    trump = Fact(NAME, "donald trump")
    assert is_known(trump, fact_keys([Sentence("Trump", (Fact(NAME, "trump"),), (), False)]))
    assert not is_known(Fact(NAME, "trump"), {Fact(NAME, "donald").key})
    words = tuple(Fact(TERM, w) for w in ("الشاحنات", "عبرت", "معبر", "رفح"))
    sentence = Sentence("...", words, (), caseless=True)
    assert not is_development(sentence, list(words[:1]))  # one word in four: a rewording
    assert is_development(sentence, list(words[:2]))


def test_stories_are_joined_within_the_window_only() -> None:
    facts = analyse(SEED, TOPIC.aliases)
    terms = story_terms(content_words(SEED), facts, frozenset())
    index = StoryIndex([Story(7, terms, NOW)])
    assert index.closest(terms, NOW + STORY_WINDOW).story_id == 7
    assert index.closest(terms, NOW + STORY_WINDOW + timedelta(hours=1)) is None
    assert index.closest({"football": 1.0}, NOW) is None


@pytest.mark.parametrize(
    ("times", "expected"),
    [([], None), ([None], None), ([NOW, NOW - timedelta(days=1)], NOW - timedelta(days=4))],
)
def test_the_stories_a_batch_may_join_start_a_window_before_its_oldest(
    times: list[datetime | None], expected: datetime | None
) -> None:
    assert window_start(times) == expected


def test_aliases_fold_spellings_into_one_name() -> None:
    with_aliases = {f.text for s in analyse("Qatari officials met in Doha.", {"qatari": "qatar"})
                    for f in s.facts}  # fmt: skip
    without = {f.text for s in analyse("Qatari officials met in Doha.") for f in s.facts}
    assert with_aliases == {"qatar", "doha"} and without == {"doha"}


def test_the_language_model_is_cached_uncompressed_and_read_without_a_cache(
    tmp_path, monkeypatch
) -> None:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    from analysis import language

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = language._model(MODEL_DIR / MODEL_FILE)  # decompresses into the cache
    (cached,) = (tmp_path / "cache" / "newsmon").glob("py3langid-*-model.npz")
    again = language._model(MODEL_DIR / MODEL_FILE)  # reads the cached copy
    assert first[2] == again[2] and len(first[2]) > 100  # the same languages
    assert first[0].shape == again[0].shape and cached.stat().st_size > 10_000_000

    cached.write_bytes(cached.read_bytes()[:1000])  # damaged: read as shipped, then redone
    assert language._model(MODEL_DIR / MODEL_FILE)[2] == first[2] and not cached.exists()

    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert language._model(MODEL_DIR / MODEL_FILE)[2] == first[2]  # no cache: read as shipped


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Aid convoys reach Gaza as the truce holds.", True),  # the headline again
        ("AID CONVOYS reach Gaza", True),  # a run of it, case aside
        ("Aid convoys", False),  # two words: a phrase, not the headline
        ("Aid convoys reach Rafah as the truce holds.", False),
        ("Convoys reach Gaza as the truce holds, officials said on Tuesday.", False),
    ],
)
def test_the_headline_or_a_run_of_it_is_recognised_and_nothing_else(
    sentence: str, expected: bool
) -> None:
    assert is_headline(sentence, "Aid convoys reach Gaza as the truce holds") is expected
    assert not is_headline(sentence, None)
