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
import unicodedata
from dataclasses import dataclass
from typing import Any

FIGURE, NAME, QUOTE, TERM = "figure", "name", "quote", "term"


def _words(text: str, ordered: bool = False) -> Any:
    """A word list written as one string: a frozenset, or a tuple when order matters."""
    return tuple(text.split()) if ordered else frozenset(text.split())


_ABBREVIATIONS = _words(
    "u.s u.k u.n mr mrs ms dr prof gen lt col sgt st no jan feb mar apr jun jul aug sep "
    "sept oct nov dec inc co corp vs e.g i.e"
)
# A sentence ends at . ! ? ؟ or … (and closing quotes), before a space and a non-lowercase start.
_BOUNDARY = re.compile(r"[.!?؟…][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[^\s\"'“‘(\[a-z])")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, paragraph by paragraph (one paragraph per line)."""
    sentences: list[str] = []
    for paragraph in text.splitlines():
        start = 0
        for match in _BOUNDARY.finditer(paragraph):
            last_word = paragraph[start : match.start()].rsplit(None, 1)[-1:] or [""]
            word = last_word[0].lower().lstrip("(\"'“‘")
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue  # 'U.S. officials', 'John F. Kennedy'
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
        sentences.append(paragraph[start:].strip())
    return [s for s in sentences if len(s) > 1]


# --- figures ---------------------------------------------------------------------------

_UNITS = {
    "liters": "liters", "litres": "liters", "liter": "liters", "litre": "liters",
    "gallons": "gallons", "tons": "tonnes", "tonnes": "tonnes", "tonne": "tonnes",
    "ton": "tonnes", "kilometres": "km", "kilometers": "km", "km": "km", "miles": "miles",
    "percent": "percent", "per cent": "percent", "%": "percent", "dollars": "usd",
    "$": "usd", "megawatts": "MW", "kilograms": "kg", "kg": "kg",
}  # fmt: skip
_TIME_WORDS = _words(
    "second seconds minute minutes hour hours day days week weeks month months year years "
    "decade decades century am pm a.m p.m gmt utc"
)
_SMALL_NUMBERS = {
    word: value
    for value, word in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty",
            ordered=True,
        )
    )
}
_TENS = dict(
    zip(
        _words("thirty forty fifty sixty seventy eighty ninety", ordered=True),
        range(30, 91, 10),
        strict=True,
    )
)
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
_ANY_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORD})\b", re.IGNORECASE)  # most sentences have none
# Words that end the noun a figure counts: verbs, prepositions, conjunctions, determiners.
_STOP = _words(
    "a an the and or but nor of to in on at by for from with without into onto over under "
    "after before since during until about against between among through per as than then "
    "that which who whom whose this these those there here it its is are was were be been "
    "being has have had do does did will would shall should can could may might must not "
    "no so such said says say told more most less least some any each every all both "
    "either neither other another own same only also just very too still yet again ago "
    "already across along around away back more when where while whereas because if "
    "whether"
)
_MONTHS = _words(
    "january february march april may june july august september october november "
    "december jan feb mar apr jun jul aug sep sept oct nov dec"
)


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
        words = _words_after(match.group("rest") or "")
        unit = "usd" if match.group("currency") else None
        if match.group("percent"):
            unit = "percent"
        elif words and words[0] in _UNITS:
            unit = _UNITS[words.pop(0)]
        if unit and words[:1] == ["of"]:
            words.pop(0)
            words = words[1:] if words[:1] in (["the"], ["a"]) else words
        noun = _noun(words)
        if not noun or _is_date(match, sentence, noun):
            continue
        found.append(Figure("_".join(noun), value, unit, sentence))
    return found


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
        if word in _STOP or word in _MONTHS or _looks_like_verb(word) or not word.isalpha():
            break
        noun.append(word)
    if noun and noun[-1] in _TIME_WORDS:
        return []
    return noun


def _looks_like_verb(word: str) -> bool:
    return len(word) > 4 and (word.endswith("ed") or word.endswith("ing"))


def _is_date(match: re.Match[str], sentence: str, noun: list[str]) -> bool:
    """A year ('in 2023') or a day of a month ('Jan 21', '21 January')."""
    before = sentence[: match.start()].split()[-1:]
    return bool(noun and noun[0] in _MONTHS) or bool(
        before and before[0].lower().strip(".,") in _MONTHS
    )


# --- names -----------------------------------------------------------------------------

_NAME = re.compile(
    r"(?:[A-Z][\w’'.&-]*|(?:al|el|bin|ibn|abu|de|van|von)-[A-Z][\w’'-]*)"
    r"(?:\s+(?:(?:of|the|al|el|bin|ibn|abu|de|van|von|for)\s+)?"
    r"(?:[A-Z][\w’'.&-]*|(?:al|el|bin|ibn|abu)-[A-Z][\w’'-]*))*"
)
# One name under its different spellings: demonyms and abbreviations of places in the news.
ALIASES = {
    "u.s": "united states", "us": "united states", "usa": "united states",
    "american": "united states", "america": "united states", "washington": "united states",
    "un": "united nations", "u.n": "united nations", "uk": "united kingdom",
    "britain": "united kingdom", "british": "united kingdom", "qatari": "qatar",
    "doha": "qatar", "egyptian": "egypt", "cairo": "egypt", "israeli": "israel",
    "israelis": "israel", "palestinian": "palestinians", "gazan": "gaza", "gazans": "gaza",
    "lebanese": "lebanon", "iranian": "iran", "saudi": "saudi arabia", "jordanian": "jordan",
    "syrian": "syria", "turkish": "turkey", "idf": "israel defense forces",
    "israeli military": "israel defense forces", "israeli forces": "israel defense forces",
    "israeli army": "israel defense forces", "strip": "gaza", "gaza strip": "gaza",
}  # fmt: skip
_KNOWN_NAMES = frozenset(ALIASES) | frozenset(ALIASES.values())
# Capitalised words that name nothing: sentence openers, titles, days and months.
_NOT_NAMES = (
    _words(
        "a an the this that these those there here it its he she they we i you his her their "
        "our but and or so yet if as at in on of for to from by with after before since "
        "during when while where what which who why how than then also not no some many most "
        "more all both each every other such monday tuesday wednesday thursday friday "
        "saturday sunday mr mrs ms dr president minister prime foreign ministry spokesman "
        "spokesperson officials official sources source according read comments"
    )
    | _MONTHS
)


def names(sentence: str, proper: frozenset[str] = frozenset()) -> list[str]:
    """Normalized names of people, places and bodies mentioned in `sentence`.

    A lone capitalised word opening the sentence counts only when the article
    capitalises it elsewhere too (`proper`, from `proper_words`).
    """
    found: list[str] = []
    for match in _NAME.finditer(sentence):
        tokens = [_strip_possessive(t) for t in match.group(0).split()]
        while tokens and tokens[0].lower() in _NOT_NAMES:
            tokens.pop(0)
        while tokens and tokens[-1].lower() in _NOT_NAMES:
            tokens.pop()
        if not tokens:
            continue
        opens_sentence = sentence[: match.start()].strip(" \"'“‘(") == ""
        known = tokens[0].lower() in proper or tokens[0].lower().rstrip(".") in _KNOWN_NAMES
        if len(tokens) == 1 and opens_sentence and not known:
            continue
        key = normalize_name(" ".join(tokens))
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


def normalize_name(name: str) -> str:
    key = " ".join(re.sub(r"\b(al|el)-", "", name.lower()).replace("’", "'").split())
    key = key.rstrip(".").strip("'")
    return ALIASES.get(key, key)


def _strip_possessive(token: str) -> str:
    return re.sub(r"[’']s?$", "", token).rstrip(".,;:")


# --- quotes and terms --------------------------------------------------------------------

_QUOTE = re.compile(r"[“\"]([^”\"]{20,})[”\"]")
_TOKEN = re.compile(r"\w+")


def quotes(sentence: str) -> list[str]:
    """Quoted words of five or more, normalized: what someone claims, verbatim."""
    found = []
    for match in _QUOTE.finditer(sentence):
        words = [w.lower() for w in _TOKEN.findall(match.group(1))]
        if len(words) >= 5:
            found.append(" ".join(words))
    return found


def terms(sentence: str) -> list[str]:
    """Content words of a sentence in a caseless script, folded: its facts stand-ins."""
    folded = unicodedata.normalize("NFKC", sentence).casefold()
    return [w for w in _TOKEN.findall(folded) if len(w) >= 4 and not w.isdigit()]


_CASED = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]")  # Latin, Greek, Cyrillic
_CASELESS = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]")


def is_caseless(sentence: str) -> bool:
    """True for Arabic, Hebrew and other scripts where names cannot be told by case."""
    return len(_CASELESS.findall(sentence)) > len(_CASED.findall(sentence))


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


def analyse(text: str) -> list[Sentence]:
    """Every sentence of an article with the facts it carries."""
    sentences = split_sentences(text)
    proper = proper_words(sentences)
    result: list[Sentence] = []
    for sentence in sentences:
        caseless = is_caseless(sentence)
        found = [] if caseless else figures(sentence)
        facts = [Fact(FIGURE, f.key) for f in found]
        if caseless:
            facts += [Fact(TERM, t) for t in terms(sentence)]
        else:
            facts += [Fact(NAME, n) for n in names(sentence, proper)]
            facts += [Fact(QUOTE, q) for q in quotes(sentence)]
        result.append(Sentence(sentence, tuple(dict.fromkeys(facts)), tuple(found), caseless))
    return result


def name_variants(fact: Fact) -> list[Fact]:
    """A multi-word name also makes its last word known: 'Donald Trump' -> 'trump'."""
    if fact.kind != NAME or " " not in fact.text:
        return [fact]
    return [fact, Fact(NAME, fact.text.rsplit(" ", 1)[1])]
