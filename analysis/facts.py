"""What a sentence asserts, reduced to comparable facts: figures, names and quotes.

Novelty is judged on these facts, not on words: a rewrite of a known story in
other words names the same people and places and gives the same figures, so
it adds no new fact, while a report with news brings a new figure, a new name
or a new quote. Sentences in scripts without capital letters (Arabic, Hebrew)
have no detectable names; their content words stand in for facts.

Everything here is pure and cheap (regular expressions), so it runs on every relevant
article as it is stored, inside the writer's transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from analysis.text import (
    FUNCTION_WORDS,
    MONTHS,
    NOT_NAMES,
    NUMBER_WORDS,
    TENS_WORDS,
    TIME_WORDS,
    fold,
    is_caseless,
    split_sentences,
    words,
)

FIGURE, NAME, QUOTE, TERM = "figure", "name", "quote", "term"
NO_ALIASES: Mapping[str, str] = {}


# --- figures ---------------------------------------------------------------------------

_UNITS = {
    "liters": "liters", "litres": "liters", "liter": "liters", "litre": "liters",
    "gallons": "gallons", "tons": "tonnes", "tonnes": "tonnes", "tonne": "tonnes",
    "ton": "tonnes", "kilometres": "km", "kilometers": "km", "km": "km", "miles": "miles",
    "percent": "percent", "per cent": "percent", "%": "percent", "dollars": "usd",
    "$": "usd", "megawatts": "MW", "kilograms": "kg", "kg": "kg",
}  # fmt: skip
_SMALL_NUMBERS = {word: value for value, word in enumerate(NUMBER_WORDS)}
_TENS = dict(zip(TENS_WORDS, range(30, 91, 10), strict=True))
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join([*_SMALL_NUMBERS, *_TENS, "twenty"])
_FIGURE = re.compile(
    r"(?P<currency>\$)?(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
    rf"|(?:{_NUMBER_WORD})(?:-(?:{_NUMBER_WORD}))?)"
    r"(?:\s+(?P<scale>hundred|thousand|million|billion))?"
    r"(?P<percent>%)?"
    r"(?=[\s-]+(?P<rest>(?:[A-Za-z][A-Za-z’'-]*\s*){1,4}))?",
    re.IGNORECASE,
)
# What is counted, as the story's other languages say it: the same metric as in English, so
# that '1,800 trucks', '1800 شاحنة' and '1,800 משאיות' make one series in figure_changes.
# Arabic counts 11 and more with a singular noun, so both numbers are listed.
_METRIC_WORDS = {
    "aid_trucks": (
        "شاحنة مساعدات", "شاحنات مساعدات", "شاحنات المساعدات", "شاحنة المساعدات",
        "משאיות סיוע", "משאיות הסיוע", "משאית סיוע", "camions d'aide", "camions d’aide",
        "camions humanitaires", "camions de l'aide", "camions de l’aide",
    ),
    "trucks": ("شاحنة", "شاحنات", "משאית", "משאיות", "camion", "camions", "lkw", "lastwagen"),
    "hostages": (
        "رهينة", "رهائن", "محتجزا", "محتجزين", "محتجزًا", "חטוף", "חטופים", "חטופות",
        "בני ערובה", "otage", "otages", "geiseln",
    ),
    "prisoners": (
        "أسير", "أسيرا", "أسرى", "سجين", "سجينا", "سجناء", "معتقل", "معتقلا", "معتقلين",
        "אסיר", "אסירים", "prisonnier", "prisonniers", "détenus", "häftlinge",
    ),
    "bakeries": ("مخبز", "مخبزا", "مخابز", "מאפיות", "boulangeries"),
    "people": ("شخص", "شخصا", "أشخاص", "אנשים", "personnes", "menschen"),
}  # fmt: skip
_METRIC_OF = {
    tuple(phrase.split()): metric for metric, phrases in _METRIC_WORDS.items() for phrase in phrases
}
_LONGEST_PHRASE = max(len(words) for words in _METRIC_OF)
_ARABIC_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب")
_NUMBER_THEN_WORDS = re.compile(
    r"(?<![\w.,])(?P<number>\d{1,3}(?:[,٬.\u00a0\u202f ]\d{3})+|\d+)(?![\d.,٫]\d)"
    r"\s+(?P<rest>[^\W\d_](?:[^\W\d]|[’'-])*(?:\s+[^\W\d_](?:[^\W\d]|[’'-])*){0,3})"
)
_ANY_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORD})\b", re.IGNORECASE)  # most sentences have none


@dataclass(frozen=True, slots=True)
class Figure:
    metric: str  # what is counted, as a key: 'aid_trucks', 'fuel'
    value: float
    unit: str | None  # 'liters', 'percent', ...; None for a plain count
    sentence: str

    @property
    def key(self) -> str:
        return f"{self.metric}={self.value:.15g}{self.unit or ''}"


def figures(sentence: str) -> list[Figure]:
    """Quantities in `sentence` with what they count: '900 aid trucks' -> aid_trucks = 900.

    A number that counts nothing nameable (a date, a time span, an age) is left out.
    """
    found: list[Figure] = []
    if not _ANY_NUMBER.search(sentence):
        return found
    for match in _FIGURE.finditer(sentence):
        if _inside_word(sentence, match.start()):
            continue
        value = _number_value(match.group("number"))
        if value is None:
            continue
        if _spelled_small(match.group("number"), value) or _compound(sentence, match):
            continue  # 'two sides', 'six-week': no quantity worth tracking
        if match.group("scale"):
            value *= _SCALES[match.group("scale").lower()]
        after = _words_after(match.group("rest") or "")
        unit = "usd" if match.group("currency") else None
        if match.group("percent"):
            unit = "percent"
        elif after and after[0] in _UNITS:
            unit = _UNITS[after.pop(0)]
        if unit and after[:1] == ["of"]:
            after.pop(0)
            after = after[1:] if after[:1] in (["the"], ["a"]) else after
        noun = _noun(after)
        if not noun or _is_date(match, sentence, noun) or _METRIC_OF.get((noun[0],)):
            continue  # a word of another language ('camions'): counted below
        found.append(Figure("_".join(noun), value, unit, sentence))
    return found + [f for f in _figures_in_other_languages(sentence) if f not in found]


def _figures_in_other_languages(sentence: str) -> list[Figure]:
    """'1800 شاحنة', '1,800 משאיות', '1 800 camions d'aide': a number followed by the words of
    a metric in _METRIC_WORDS (an Arabic word's article or conjunction aside)."""
    found: list[Figure] = []
    for match in _NUMBER_THEN_WORDS.finditer(sentence):
        raw = re.sub(r"\D", "", match.group("number"))
        words = [w.strip("’'-,.").lower() for w in match.group("rest").split()]
        for size in range(min(_LONGEST_PHRASE, len(words)), 0, -1):
            metric = _METRIC_OF.get(tuple(words[:size])) or _METRIC_OF.get(
                (_without_prefix(words[0]), *words[1:size])
            )
            if metric:
                found.append(Figure(metric, float(int(raw)), None, sentence))
                break
    return found


def _without_prefix(word: str) -> str:
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) > len(prefix) + 2:
            return word[len(prefix) :]
    return word


def _inside_word(text: str, start: int) -> bool:
    """'F-16' and 'COVID-19' are names, not counts."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-/")


def _spelled_small(raw: str, value: float) -> bool:
    return value <= 2 and not raw[0].isdigit()


def _compound(sentence: str, match: re.Match[str]) -> bool:
    end = match.end("percent") if match.group("percent") else match.end("number")
    return sentence[end : end + 1] == "-"


def _number_value(raw: str) -> float | None:
    raw = raw.lower()
    if raw[0].isdigit():
        return float(raw.replace(",", ""))
    total = 0
    for part in raw.split("-"):
        if part in _SMALL_NUMBERS:
            total += _SMALL_NUMBERS[part]
        elif part in _TENS:
            total += _TENS[part]
        else:
            return None
    return float(total)


def _words_after(rest: str) -> list[str]:
    return [w.strip("’'-").lower() for w in rest.split()]


def _noun(words: list[str]) -> list[str]:
    """Up to two words naming what is counted, cut at the first function word or verb."""
    noun: list[str] = []
    for word in words[:2]:
        if word in FUNCTION_WORDS or word in MONTHS or _looks_like_verb(word) or not word.isalpha():
            break
        noun.append(word)
    if noun and noun[-1] in TIME_WORDS:
        return []
    return noun


def _looks_like_verb(word: str) -> bool:
    return len(word) > 4 and (word.endswith("ed") or word.endswith("ing"))


def _is_date(match: re.Match[str], sentence: str, noun: list[str]) -> bool:
    """A year ('in 2023') or a day of a month ('Jan 21', '21 January')."""
    before = sentence[: match.start()].split()[-1:]
    return bool(noun and noun[0] in MONTHS) or bool(
        before and before[0].lower().strip(".,") in MONTHS
    )


# --- names -----------------------------------------------------------------------------

_NAME = re.compile(
    r"(?:[A-Z][\w’'.&-]*|(?:al|el|bin|ibn|abu|de|van|von)-[A-Z][\w’'-]*)"
    r"(?:\s+(?:(?:of|the|al|el|bin|ibn|abu|de|van|von|for)\s+)?"
    r"(?:[A-Z][\w’'.&-]*|(?:al|el|bin|ibn|abu)-[A-Z][\w’'-]*))*"
)


def names(
    sentence: str, proper: frozenset[str] = frozenset(), aliases: Mapping[str, str] = NO_ALIASES
) -> list[str]:
    """Normalized names of people, places and bodies mentioned in `sentence`.

    A lone capitalised word opening the sentence counts only when the article
    capitalises it elsewhere too (`proper`, from `proper_words`), or when it is one
    of the topic's `aliases` (or a name they stand for).
    """
    found: list[str] = []
    for match in _NAME.finditer(sentence):
        tokens = [_strip_possessive(t) for t in match.group(0).split()]
        while tokens and tokens[0].lower() in NOT_NAMES:
            tokens.pop(0)
        while tokens and tokens[-1].lower() in NOT_NAMES:
            tokens.pop()
        if not tokens:
            continue
        opens_sentence = sentence[: match.start()].strip(" \"'“‘(") == ""
        first = tokens[0].lower()
        known = first in proper or _is_alias(first.rstrip("."), aliases)
        if len(tokens) == 1 and opens_sentence and not known:
            continue
        key = normalize_name(" ".join(tokens), aliases)
        if key:
            found.append(key)
    return found


def proper_words(sentences: list[str]) -> frozenset[str]:
    """Words the sentences capitalise somewhere other than at a sentence's start."""
    found: set[str] = set()
    for sentence in sentences:
        for match in re.finditer(r"(?<=[\w,;] )[A-Z][\w’'.-]*", sentence):
            found.add(_strip_possessive(match.group(0)).lower())
    return frozenset(found)


def normalize_name(name: str, aliases: Mapping[str, str] = NO_ALIASES) -> str:
    key = " ".join(re.sub(r"\b(al|el)-", "", name.lower()).replace("’", "'").split())
    key = key.rstrip(".").strip("'")
    return aliases.get(key, key)


def _is_alias(word: str, aliases: Mapping[str, str]) -> bool:
    """True when `word` is a spelling the topic folds, or a name spellings fold to."""
    return word in aliases or word in aliases.values()


def _strip_possessive(token: str) -> str:
    return re.sub(r"[’']s?$", "", token).rstrip(".,;:")


# --- quotes and terms --------------------------------------------------------------------

_QUOTE = re.compile(r"[“\"]([^”\"]{20,})[”\"]")


def quotes(sentence: str) -> list[str]:
    """Quoted words of five or more, normalized: what someone claims, verbatim."""
    found = []
    for match in _QUOTE.finditer(sentence):
        quoted = [w.lower() for w in words(match.group(1))]
        if len(quoted) >= 5:
            found.append(" ".join(quoted))
    return found


def terms(sentence: str) -> list[str]:
    """Content words of a sentence in a caseless script, folded: its facts stand-ins."""
    return [w for w in words(fold(sentence)) if len(w) >= 4 and not w.isdigit()]


# --- facts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str  # 'figure', 'name', 'quote' or 'term'
    text: str  # the normal form: 'aid_trucks=900', 'majed ansari', ...

    @property
    def key(self) -> int:
        """A 63-bit hash of the fact: the indexed lookup key in the facts table."""
        digest = hashlib.blake2b(f"{self.kind}:{self.text}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") >> 1


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    facts: tuple[Fact, ...]
    figures: tuple[Figure, ...]
    caseless: bool


def analyse(text: str, aliases: Mapping[str, str] = NO_ALIASES) -> list[Sentence]:
    """Every sentence of an article with the facts it carries; `aliases` fold a name's
    spellings into one ('qatari' -> 'qatar'), from the topic."""
    sentences = split_sentences(text)
    proper = proper_words(sentences)
    result: list[Sentence] = []
    for sentence in sentences:
        caseless = is_caseless(sentence)
        found = _figures_in_other_languages(sentence) if caseless else figures(sentence)
        facts = [Fact(FIGURE, f.key) for f in found]
        if caseless:
            facts += [Fact(TERM, t) for t in terms(sentence)]
        else:
            facts += [Fact(NAME, n) for n in names(sentence, proper, aliases)]
            facts += [Fact(QUOTE, q) for q in quotes(sentence)]
        result.append(Sentence(sentence, tuple(dict.fromkeys(facts)), tuple(found), caseless))
    return result


def name_variants(fact: Fact) -> list[Fact]:
    """A multi-word name also makes its last word known: 'Donald Trump' -> 'trump'."""
    if fact.kind != NAME or " " not in fact.text:
        return [fact]
    return [fact, Fact(NAME, fact.text.rsplit(" ", 1)[1])]
