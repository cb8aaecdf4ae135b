"""Facts, relevance and the feeds file's [topic] table: pure functions, text in, facts out."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.facts import analyse, figures, names
from analysis.text import split_sentences
from analysis.topic import build_topic
from newsmon.errors import FeedsFileError
from newsmon.feedlist import load_topic

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
# The story's spellings of one name live in the feeds file's [topic.aliases].
ALIASES = load_topic(ROOT / "feeds.toml", []).aliases


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("More than 900 aid trucks and 12,500 liters of fuel from Qatar have crossed.",
         [("aid_trucks", 900, None), ("fuel", 12500, "liters")]),
        ("Gaza medics said that eight people had been hit by Israeli fire.", [("people", 8, None)]),
        ("Officials discussed resettling 2 million Palestinians.", [("palestinians", 2e6, None)]),
        ("Egyptian officials said 40,000 liters of diesel entered on Tuesday.",
         [("diesel", 40000, "liters")]),
        ("Prices rose 12% in a week, and twenty-five bakeries reopened.",
         [("bakeries", 25, None)]),
        ("The truce began on Jan 19 2025 and will last six weeks.", []),
        ("The two sides met in November 2023 for 48 hours.", []),
        ("Two of the three pipelines were repaired; F-16 jets flew over.",
         [("pipelines", 3, None)]),
        # The same metrics in the story's other languages: one series per metric.
        ("دخلت 1800 شاحنة مساعدات إلى قطاع غزة منذ بدء الهدنة.", [("aid_trucks", 1800, None)]),
        ("نقلت ١٨٠٠ شاحنة المساعدات عبر المعبر.", [("aid_trucks", 1800, None)]),
        ("נכנסו 4,200 משאיות סיוע לרצועה.", [("aid_trucks", 4200, None)]),
        ("Plus de 1 800 camions d’aide sont entrés ; 74 camions hier.",
         [("aid_trucks", 1800, None), ("trucks", 74, None)]),
        ("أفرجت حماس عن 33 رهينة مقابل 1900 أسير فلسطيني.",
         [("hostages", 33, None), ("prisoners", 1900, None)]),
        ("שוחררו 33 חטופים ו-1,900 אסירים.", [("hostages", 33, None), ("prisoners", 1900, None)]),
        ("قتل 3 في القصف والتقى الوسطاء في 2025.", []),  # counts nothing listed
        ("Le 19 janvier, 3 otages ont été libérés.", [("hostages", 3, None)]),
    ],
)  # fmt: skip
def test_figures_say_what_they_count(sentence: str, expected: list[tuple[object, ...]]) -> None:
    assert [(f.metric, f.value, f.unit) for f in figures(sentence)] == expected


def test_a_figure_in_a_caseless_language_is_a_fact_of_its_sentence() -> None:
    (sentence,) = analyse("נכנסו 4,200 משאיות סיוע לרצועה.")
    assert sentence.caseless and "aid_trucks=4200" in {fact.text for fact in sentence.facts}


def test_sentences_split_in_three_scripts_without_breaking_abbreviations() -> None:
    text = (
        "U.S. envoy Steve Witkoff arrived on Jan. 20. He met Mr. Ansari in Doha! Was it enough?\n"
        "عبرت الشاحنات معبر رفح. وقال مسؤولون إن التفتيش أسرع؟ نعم.\n"
        "משפחות החטופים מחכות. הדיונים נמשכים."
    )
    assert split_sentences(text) == [
        "U.S. envoy Steve Witkoff arrived on Jan. 20.",
        "He met Mr. Ansari in Doha!",
        "Was it enough?",
        "عبرت الشاحنات معبر رفح.",
        "وقال مسؤولون إن التفتيش أسرع؟",
        "نعم.",
        "משפחות החטופים מחכות.",
        "הדיונים נמשכים.",
    ]


def test_names_fold_spellings_and_skip_sentence_openers() -> None:
    found = names(
        "Qatari, U.S. and Egyptian negotiators met Majed al-Ansari in Doha's centre.",
        aliases=ALIASES,
    )
    assert found == ["qatar", "united states", "egypt", "majed ansari", "qatar"]
    assert names("Staffed day and night, the room takes complaints.", aliases=ALIASES) == []


def test_a_rewrite_states_the_same_facts_and_news_states_new_ones() -> None:
    seed = analyse(
        "Qatari and Egyptian mediators opened a centre in Cairo. 900 aid trucks crossed.", ALIASES
    )
    rewrite = analyse("Egypt and Qatar set up a room in the Egyptian capital, Cairo.", ALIASES)
    news = analyse("The UN said 1,800 aid trucks crossed at Kerem Shalom.", ALIASES)
    known = {fact for sentence in seed for fact in sentence.facts}
    assert all(fact in known for sentence in rewrite for fact in sentence.facts)
    new = {fact.text for sentence in news for fact in sentence.facts} - {f.text for f in known}
    assert new == {"aid_trucks=1800", "united nations", "kerem shalom"}


def test_relevance_separates_the_story_from_other_news() -> None:
    topic = build_topic([p.read_text(encoding="utf-8") for p in SEEDS], ["gaza", "غزة"])
    on_topic = "Mediators in Cairo said the ceasefire deal between Israel and Hamas holds."
    football = "Real Madrid beat Bayern Munich 3-1 in the Champions League on Tuesday night."
    assert topic.relevance(on_topic) > 0.15 > topic.relevance(football)
    assert topic.relevance("قوافل المساعدات تعبر إلى غزة") == 0.5  # one keyword, in Arabic
    assert topic.clearly_off_topic("Champions League: Madrid beat Bayern in a thriller", "")
    assert not topic.clearly_off_topic("Ceasefire talks resume in Geneva", "")  # shares a word
    assert not topic.clearly_off_topic("משפחות החטופים מחכות לשלב הבא של ההסכם", "")  # script


def test_the_default_feeds_file_reads_gaza_in_arabic_hebrew_and_persian_spelling() -> None:
    topic = load_topic(ROOT / "feeds.toml", [])
    for sentence in ("وقف إطلاق النار في غزة", "הפסקת האש בעזה", "آتش‌بس در غزه برقرار شد"):
        assert topic.relevance(sentence) >= topic.min_relevance, sentence
    assert topic.relevance("بازی فوتبال در دوحه") < topic.min_relevance  # football in Doha


def test_topic_table_is_checked_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text('[[feeds]]\nurl = "https://a.example/rss"\n\n[topic]\nmin_relevance = 3\n')
    with pytest.raises(FeedsFileError, match=r"feeds.toml:5: min_relevance must be a number"):
        load_topic(path, [])
    path.write_text('[topic]\nkeyword = ["gaza"]\n')
    with pytest.raises(FeedsFileError, match="unknown key 'keyword' in \\[topic\\]"):
        load_topic(path, [])
    path.write_text('[topic]\nkeywords = ["Gaza", "غزة"]\nskip_off_topic = false\n')
    topic = load_topic(path, ["ceasefire talks"])
    assert topic.keywords == ("gaza", "غزة") and not topic.skip_off_topic
    assert topic.min_relevance == 0.15 and "ceasefire" in topic.profile
