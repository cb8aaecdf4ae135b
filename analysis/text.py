"""Words and sentences: the one tokeniser and the one source of word lists.

Every stage that looks at words (fingerprints, relevance, stories, facts)
tokenises with `words()`; they differ only in how they fold case first and
which of the word lists below they leave out.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Unicode word tokens of `text`, as written (Arabic and Hebrew included)."""
    return _WORD.findall(text)


def fold(text: str) -> str:
    """NFKC and case folding: the form in which keywords and words are compared."""
    return unicodedata.normalize("NFKC", text).casefold()


def content_words(text: str) -> list[str]:
    """Folded words of four letters or more that say what a text is about."""
    return [w for w in words(fold(text)) if len(w) >= 4 and w not in STOPWORDS and not w.isdigit()]


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _wordlist(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- word lists ---------------------------------------------------------------------------

WEEKDAYS = _wordset("monday tuesday wednesday thursday friday saturday sunday")
MONTHS = _wordset(
    "january february march april may june july august september october november "
    "december jan feb mar apr jun jul aug sep sept oct nov dec "
    # French and German: '19 janvier' is a date, not 19 of something counted
    "janvier février fevrier mars avril mai juin juillet août aout septembre octobre "
    "novembre décembre decembre januar februar märz maerz juni juli oktober dezember"
)
# Frequent English words of four letters or more that say nothing of a text's subject:
# left out of relevance and story terms.
STOPWORDS = (
    _wordset(
        "about above across after again against along also although among another because "
        "been before being below between both could does doing down during each either even "
        "every from further have having here hers herself himself however into itself just "
        "least less many more most much must neither never only other ours over same says "
        "said should since some such than that their theirs them themselves then there these "
        "they this those through under until upon very well were what when where whether "
        "which while whom whose will with within without would your yours told news week "
        "year years today"
    )
    | WEEKDAYS
)
# Words that end the noun a figure counts: verbs, prepositions, conjunctions, determiners.
FUNCTION_WORDS = _wordset(
    "a an the and or but nor of to in on at by for from with without into onto over under "
    "after before since during until about against between among through per as than then "
    "that which who whom whose this these those there here it its is are was were be been "
    "being has have had do does did will would shall should can could may might must not "
    "no so such said says say told more most less least some any each every all both "
    "either neither other another own same only also just very too still yet again ago "
    "already across along around away back more when where while whereas because if "
    "whether"
)
# Capitalised words that name nothing: sentence openers, titles, days and months.
NOT_NAMES = (
    _wordset(
        "a an the this that these those there here it its he she they we i you his her their "
        "our but and or so yet if as at in on of for to from by with after before since "
        "during when while where what which who why how than then also not no some many most "
        "more all both each every other such mr mrs ms dr president minister prime foreign "
        "ministry spokesman spokesperson officials official sources source according read "
        "comments"
    )
    | WEEKDAYS
    | MONTHS
)
# Words ending in a full stop that do not end a sentence.
ABBREVIATIONS = _wordset(
    "u.s u.k u.n mr mrs ms dr prof gen lt col sgt st no jan feb mar apr jun jul aug sep "
    "sept oct nov dec inc co corp vs e.g i.e"
)
TIME_WORDS = _wordset(
    "second seconds minute minutes hour hours day days week weeks month months year years "
    "decade decades century am pm a.m p.m gmt utc"
)
NUMBER_WORDS = _wordlist(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
)
TENS_WORDS = _wordlist("thirty forty fifty sixty seventy eighty ninety")


# --- sentences and scripts ----------------------------------------------------------------

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
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue  # 'U.S. officials', 'John F. Kennedy'
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
        sentences.append(paragraph[start:].strip())
    return [s for s in sentences if len(s) > 1]


_CASED = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]")  # Latin, Greek, Cyrillic
_CASELESS = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]")


def is_caseless(sentence: str) -> bool:
    """True for Arabic, Hebrew and other scripts where names cannot be told by case."""
    return len(_CASELESS.findall(sentence)) > len(_CASED.findall(sentence))


def script(word: str) -> str:
    """The Unicode script of a word's first letter, roughly: 'LATIN', 'ARABIC', 'HEBREW'."""
    return unicodedata.name(word[0], "UNKNOWN").split()[0]
