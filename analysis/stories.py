"""Stories: articles about one event, grouped by the words and names they share (and, across
languages and rewrites, by meaning: analysis/meaning.py finds the closest earlier article).

An article joins the closest story active within STORY_WINDOW of it when their
term vectors' cosine reaches STORY_SIMILARITY; otherwise it opens a story of its own.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analysis.facts import NAME, Sentence

STORY_WINDOW = timedelta(days=3)  # an article joins only stories active this close to it
STORY_SIMILARITY = 0.4  # cosine of words and names needed to join a story
STORY_TERMS = 40
MIN_POSTINGS = 50  # a word in more stories than this and a tenth of them is not compared
TOPIC_WORDS_IGNORED = 30  # the profile's top words say what the whole topic is, not which event


@dataclass(slots=True)
class Story:
    story_id: int
    terms: dict[str, float]
    last_event_at: datetime | None


def story_terms(
    words: list[str], sentences: list[Sentence], common: frozenset[str]
) -> dict[str, float]:
    """An article's most frequent content words and its names (counted twice), at unit
    length, leaving out the words every article of the topic shares (`common`)."""
    counts = Counter(w for w in words if w not in common)
    top = Counter(dict(counts.most_common(STORY_TERMS)))
    for sentence in sentences:
        for fact in sentence.facts:
            if fact.kind == NAME and fact.text not in common:
                top[fact.text] += 2
    norm = math.sqrt(sum(v * v for v in top.values())) or 1.0
    return {term: round(v / norm, 4) for term, v in top.items()}


def common_words(profile: dict[str, float]) -> frozenset[str]:
    """The topic profile's top words: in every article of the topic, so no sign of an event."""
    return frozenset(list(profile)[:TOPIC_WORDS_IGNORED])


def window_start(
    event_times: Iterable[datetime | None], window: timedelta = STORY_WINDOW
) -> datetime | None:
    """The earliest last_event_at a story may have and still be joined by one of these
    articles (or, with another `window`, the earliest time that still counts for them);
    None (every story) when none of them has a time."""
    times = [t for t in event_times if t]
    if not times:
        return None
    earliest = datetime.min.replace(tzinfo=UTC) + window  # a stored year-1 date, say
    return max(min(times), earliest) - window


class StoryIndex:
    """Stories by term, so an article is scored only against stories sharing a word with it."""

    def __init__(self, stories: list[Story]) -> None:
        self.stories: list[Story] = []
        self._by_id: dict[int, list[Story]] = defaultdict(list)
        self._postings: dict[str, list[tuple[Story, float]]] = defaultdict(list)
        for story in stories:
            self.add(story)

    def add(self, story: Story) -> None:
        self.stories.append(story)
        self._by_id[story.story_id].append(story)
        for term, weight in story.terms.items():
            self._postings[term].append((story, weight))

    def active(self, story_id: int, event_at: datetime | None) -> Story | None:
        """Story `story_id`, if it is active within STORY_WINDOW of `event_at` (of the
        stories read under that id, merged ones, the one that saw the latest event)."""
        for story in sorted(self._by_id.get(story_id, []), key=_latest_first):
            if not (event_at and story.last_event_at) or (
                abs(event_at - story.last_event_at) <= STORY_WINDOW
            ):
                return story
        return None

    def closest(self, terms: dict[str, float], event_at: datetime | None) -> Story | None:
        # By Story, not story_id: a story merged into another keeps its own terms, under
        # the id of the story it was merged into.
        scores: dict[int, float] = defaultdict(float)
        by_key: dict[int, Story] = {}
        too_common = max(MIN_POSTINGS, len(self.stories) // 10)
        for term, weight in terms.items():
            postings = self._postings.get(term, ())
            if len(postings) > too_common:
                continue  # in a tenth of the stories: says nothing about which one
            for story, other in postings:
                scores[id(story)] += weight * other
                by_key[id(story)] = story
        best, best_score = None, STORY_SIMILARITY
        for key, score in scores.items():
            story = by_key[key]
            if (
                event_at
                and story.last_event_at
                and abs(event_at - story.last_event_at) > STORY_WINDOW
            ):
                continue
            if score > best_score or (score == best_score and best is None):
                best, best_score = story, score
        return best


def _latest_first(story: Story) -> float:
    return -(story.last_event_at or datetime.min.replace(tzinfo=UTC)).timestamp()
