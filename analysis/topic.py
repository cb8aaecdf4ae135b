"""What the monitored story is about, and how much an article is about it.

The profile is the seed corpus's most frequent content words plus the feeds
file's keywords. An article's relevance is the larger of two scores in [0, 1]:
the keywords it contains (any language: they match inside words, so Arabic
'بغزة' contains 'غزة'), and the cosine between its words and the seeds' words.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from analysis.text import content_words, fold, script

PROFILE_SIZE = 200  # the seeds' content words kept in the profile
MIN_WORDS_TO_JUDGE = 4  # an entry with fewer content words is fetched, whatever they are
KEYWORDS_FOR_FULL_SCORE = 2  # distinct keywords that make an article fully relevant


@dataclass(frozen=True, slots=True)
class Topic:
    """The topic profile; small and immutable, so it travels to tasks and workers as is."""

    keywords: tuple[str, ...] = ()
    min_relevance: float = 0.15
    skip_off_topic: bool = True
    profile: dict[str, float] = field(default_factory=dict)  # word -> weight, unit length
    # Spellings of one name, folded: 'qatari' -> 'qatar' (the feeds file's [topic.aliases]).
    aliases: dict[str, str] = field(default_factory=dict)

    def relevance(self, text: str, words: list[str] | None = None) -> float:
        """How much `text` is about the topic, from 0 (nothing) to 1.

        `words` are its content_words, when the caller has them already.
        """
        folded = fold(text)
        hits = sum(1 for keyword in self.keywords if keyword in folded)
        keyword_score = min(1.0, hits / KEYWORDS_FOR_FULL_SCORE)
        words = content_words(text) if words is None else words
        return round(max(keyword_score, self._cosine(words)), 3)

    def is_relevant(self, relevance: float | None) -> bool:
        return relevance is not None and relevance >= self.min_relevance

    def clearly_off_topic(self, title: str, summary: str) -> bool:
        """True when a feed entry's title and summary share no keyword and no profile word.

        Deliberately strict: only such entries are skipped without fetching their page.
        """
        if not self.skip_off_topic or not (title or summary).strip():
            return False
        text = f"{title}\n{summary}"
        folded = fold(text)
        if any(keyword in folded for keyword in self.keywords):
            return False
        words = content_words(text)
        if len(words) < MIN_WORDS_TO_JUDGE or not _shares_script(words, self.profile):
            return False  # too short, or in a language the seeds do not speak: fetch it
        return not any(word in self.profile for word in words)

    def _cosine(self, words: list[str]) -> float:
        if not words or not self.profile:
            return 0.0
        counts = Counter(words)
        norm = math.sqrt(sum(c * c for c in counts.values()))
        return sum(self.profile.get(w, 0.0) * c for w, c in counts.items()) / norm


def _shares_script(words: list[str], profile: dict[str, float]) -> bool:
    """True when most of `words` are written in a script the profile's words use."""
    scripts = {script(w) for w in profile}
    return sum(script(w) in scripts for w in words) * 2 > len(words)


def build_topic(
    seed_texts: list[str],
    keywords: list[str] | tuple[str, ...] = (),
    min_relevance: float = 0.15,
    skip_off_topic: bool = True,
    aliases: dict[str, str] | None = None,
) -> Topic:
    """The profile of the seed corpus: its most frequent content words, weighted by count."""
    counts = Counter(w for text in seed_texts for w in content_words(text))
    top = dict(counts.most_common(PROFILE_SIZE))
    norm = math.sqrt(sum(c * c for c in top.values())) or 1.0
    return Topic(
        keywords=tuple(fold(k) for k in keywords if k.strip()),
        min_relevance=min_relevance,
        skip_off_topic=skip_off_topic,
        profile={w: c / norm for w, c in top.items()},
        aliases={fold(k): fold(v) for k, v in (aliases or {}).items()},
    )
