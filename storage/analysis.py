"""Relevance, stories, facts, developments and figures for newly stored articles.

Runs inside the writer's transaction, so a poll leaves the database complete.
It picks up every 'ok' article not analysed yet (relevance IS NULL): seeds,
this run's pages, and after an upgrade the articles stored before it.

Novelty: every fact ever stated (a figure, a name, a quote; content words for
scripts without capitals) is in the `facts` table, keyed by a hash under a
primary-key index, so checking a sentence costs index lookups, not a scan of
the corpus. A sentence of a relevant original that states a fact not in that
table is a development.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from extractors.facts import NAME, TERM, Fact, Sentence, analyse, name_variants
from extractors.topic import Topic, content_words
from storage import queries

log = logging.getLogger(__name__)
STORY_WINDOW = timedelta(days=3)  # an article joins only stories active this close to it
STORY_SIMILARITY = 0.4  # cosine of words and names needed to join a story
STORY_TERMS = 40
MIN_POSTINGS = 50  # a word in more stories than this and a tenth of them is not compared
TOPIC_WORDS_IGNORED = 30  # the profile's top words say what the whole topic is, not which event
NEW_TERMS_SHARE = 0.5  # caseless sentences: share of unseen content words that makes news


@dataclass(slots=True)
class Analysis:
    """What one analysis pass did, for the run's report."""

    articles: int = 0
    relevant: int = 0
    developments: int = 0
    figures: int = 0
    stories_opened: int = 0
    failed: list[str] = field(default_factory=list)  # one line per article not analysed

    def __str__(self) -> str:
        return (
            f"analysed {self.articles} articles: {self.relevant} relevant, {self.developments} "
            f"developments, {self.figures} figures, {self.stories_opened} new stories"
        )


@dataclass(slots=True)
class _Story:
    story_id: int
    terms: dict[str, float]
    last_event_at: datetime | None


def analyse_pending(conn: duckdb.DuckDBPyConnection, topic: Topic, now: datetime) -> Analysis:
    """Analyse every stored 'ok' article that has no relevance yet, oldest first.

    Only relevant originals are split into sentences and facts: most of a general
    news feed is about something else, and costs no more than its relevance score.
    """
    rows = conn.execute(
        "SELECT article_id, coalesce(url, 'seed ' || seed_name), title, text, is_seed, "
        "duplicate_of, coalesce(published_at, fetched_at) AS event_at FROM articles "
        "WHERE status = 'ok' AND relevance IS NULL AND analysis_error IS NULL "
        "ORDER BY is_seed DESC, duplicate_of IS NOT NULL, fetched_at, published_at NULLS LAST, "
        "article_id"
    ).fetchall()
    result = Analysis(articles=len(rows))
    if not rows:
        return result
    errors: dict[int, str] = {}
    articles: list[_Pending] = []
    for row in rows:
        article = _Pending(*row)
        try:
            article.words = content_words(article.headed_text)  # for relevance and for stories
            article.relevance = topic.relevance(article.headed_text, article.words)
            article.relevant = article.is_seed or (
                article.duplicate_of is None and topic.is_relevant(article.relevance)
            )
            if article.relevant:
                article.sentences = analyse(article.text)
        except Exception as exc:  # one article's surprise must not stop the others
            errors[article.article_id] = _failure(article, exc, result)
            continue
        articles.append(article)
    result.relevant = sum(a.relevant for a in articles)

    known = _known_facts(conn, articles)
    stories = _recent_stories(conn, articles)
    originals = _stories_of(conn, [a.duplicate_of for a in articles if a.duplicate_of])
    rows_out = _Rows()
    common = frozenset(list(topic.profile)[:TOPIC_WORDS_IGNORED])
    for article in articles:
        if article.duplicate_of is not None:
            article.story_id = originals.get(article.duplicate_of)
            continue
        if not article.relevant:
            continue
        mark = rows_out.mark()
        try:
            article.story_id = _assign_story(article, stories, common, rows_out, now)
            originals[article.article_id] = article.story_id
            _collect_facts(article, known, rows_out, now)
        except Exception as exc:
            rows_out.undo(mark)
            errors[article.article_id] = _failure(article, exc, result)
    analysed = [a for a in articles if a.article_id not in errors]
    queries.update_analysis(
        conn,
        [a.article_id for a in analysed],
        [a.relevance for a in analysed],
        [a.story_id for a in analysed],
    )
    queries.record_analysis_errors(conn, errors)
    rows_out.insert(conn, stories.stories)
    result.developments = len(rows_out.developments["development_id"])
    result.figures = len(rows_out.figures["article_id"])
    result.stories_opened = len(rows_out.stories["story_id"])
    log.info("%s", result)
    return result


def _failure(article: _Pending, exc: Exception, result: Analysis) -> str:
    """Log and count an article whose analysis failed; returns the reason stored with it."""
    reason = f"{type(exc).__name__}: {exc}"[:500]
    line = (
        f"{article.source}: analysis failed ({reason}); the article is stored without it and "
        "not analysed again (see articles.analysis_error)"
    )
    log.error("%s", line)
    result.failed.append(line)
    return reason


@dataclass(slots=True)
class _Pending:
    article_id: int
    source: str  # its URL, or 'seed <name>'
    title: str | None
    text: str
    is_seed: bool
    duplicate_of: int | None
    event_at: datetime | None
    relevance: float | None = None
    relevant: bool = False
    story_id: int | None = None
    sentences: list[Sentence] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # content_words of headed_text

    @property
    def headed_text(self) -> str:
        return f"{self.title or ''}\n{self.text}"

    @property
    def published_at(self) -> datetime | None:
        return None if self.is_seed else self.event_at


def _columns(names: str) -> Any:
    """A field holding an empty list per column, columns named in one string."""
    return field(default_factory=lambda: {name: [] for name in names.split()})


@dataclass(slots=True)
class _Rows:
    """Rows to insert, column by column (see queries.insert_columns)."""

    facts: dict[str, list[Any]] = _columns("fact_key kind text article_id first_seen_at")
    developments: dict[str, list[Any]] = _columns(
        "development_id article_id story_id position sentence novelty new_facts first_seen_at"
    )
    figures: dict[str, list[Any]] = _columns(
        "article_id position metric value unit sentence published_at"
    )
    stories: dict[str, list[Any]] = _columns("story_id title first_seen_at last_event_at terms")
    touched: set[int] = field(default_factory=set)  # existing stories whose last_event_at moved

    def mark(self) -> dict[str, int]:
        """Where the fact, development and figure rows end now, for undo()."""
        return {t: len(next(iter(getattr(self, t).values()))) for t in _UNDOABLE}

    def undo(self, mark: dict[str, int]) -> None:
        """Drop the rows added since `mark`: those of an article whose analysis failed."""
        for table, length in mark.items():
            for column in getattr(self, table).values():
                del column[length:]

    def insert(self, conn: duckdb.DuckDBPyConnection, stories: list[_Story]) -> None:
        """Everything collected, and the new last_event_at of the stories articles joined."""
        opened = set(self.stories["story_id"])
        for story in stories:
            if story.story_id in opened:
                index = self.stories["story_id"].index(story.story_id)
                self.stories["last_event_at"][index] = story.last_event_at
        for table in ("facts", "developments", "figures", "stories"):
            queries.insert_columns(conn, table, getattr(self, table))
        queries.touch_stories(
            conn,
            {s.story_id: s.last_event_at for s in stories if s.story_id in self.touched - opened},
        )


_UNDOABLE = ("facts", "developments", "figures")


def _known_facts(conn: duckdb.DuckDBPyConnection, articles: list[_Pending]) -> set[int]:
    """The facts of this batch that the facts table holds already: one indexed lookup."""
    keys = {
        variant.key
        for article in articles
        for sentence in article.sentences
        for fact in sentence.facts
        for variant in name_variants(fact)
    }
    return queries.known_fact_keys(conn, sorted(keys))


def _collect_facts(article: _Pending, known: set[int], rows: _Rows, now: datetime) -> None:
    for position, sentence in enumerate(article.sentences):
        new = [fact for fact in sentence.facts if not _is_known(fact, known)]
        for fact in new:
            for variant in name_variants(fact):
                if variant.key not in known:
                    known.add(variant.key)
                    _append(
                        rows.facts, variant.key, variant.kind, variant.text, article.article_id, now
                    )
        for figure in sentence.figures:
            _append(
                rows.figures, article.article_id, position, figure.metric, figure.value,
                figure.unit, sentence.text, article.published_at,
            )  # fmt: skip
        if article.is_seed or not _is_development(sentence, new):
            continue
        _append(
            rows.developments,
            _development_id(article.article_id, position),
            article.article_id,
            article.story_id,
            position,
            sentence.text,
            round(len(new) / len(sentence.facts), 3),
            [f"{fact.kind}:{fact.text}" for fact in new],
            now,
        )


def _is_known(fact: Fact, known: set[int]) -> bool:
    """A name counts as known when its last word is: 'Donald Trump' after 'Trump'."""
    return (
        any(variant.key in known for variant in name_variants(fact))
        if fact.kind == NAME
        else fact.key in known
    )


def _is_development(sentence: Sentence, new: list[Fact]) -> bool:
    if not new:
        return False
    if sentence.caseless:
        terms = sum(f.kind == TERM for f in sentence.facts)
        new_terms = sum(f.kind == TERM for f in new)
        return len(new) > new_terms or new_terms >= NEW_TERMS_SHARE * terms
    return True


def _development_id(article_id: int, position: int) -> int:
    digest = hashlib.blake2b(f"{article_id}:{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


# --- stories ---------------------------------------------------------------------------


def _story_terms(article: _Pending, common: frozenset[str]) -> dict[str, float]:
    """Its most frequent content words and its names (counted twice), at unit length,
    leaving out the words every article of the topic shares (`common`)."""
    counts = Counter(w for w in article.words if w not in common)
    top = Counter(dict(counts.most_common(STORY_TERMS)))
    for sentence in article.sentences:
        for fact in sentence.facts:
            if fact.kind == NAME and fact.text not in common:
                top[fact.text] += 2
    norm = math.sqrt(sum(v * v for v in top.values())) or 1.0
    return {term: round(v / norm, 4) for term, v in top.items()}


class _StoryIndex:
    """Stories by term, so an article is scored only against stories sharing a word with it."""

    def __init__(self, stories: list[_Story]) -> None:
        self.stories: list[_Story] = []
        self._postings: dict[str, list[tuple[_Story, float]]] = defaultdict(list)
        for story in stories:
            self.add(story)

    def add(self, story: _Story) -> None:
        self.stories.append(story)
        for term, weight in story.terms.items():
            self._postings[term].append((story, weight))

    def closest(self, terms: dict[str, float], event_at: datetime | None) -> _Story | None:
        scores: dict[int, float] = defaultdict(float)
        by_id: dict[int, _Story] = {}
        too_common = max(MIN_POSTINGS, len(self.stories) // 10)
        for term, weight in terms.items():
            postings = self._postings.get(term, ())
            if len(postings) > too_common:
                continue  # in a tenth of the stories: says nothing about which one
            for story, other in postings:
                scores[story.story_id] += weight * other
                by_id[story.story_id] = story
        best, best_score = None, STORY_SIMILARITY
        for story_id, score in scores.items():
            story = by_id[story_id]
            if (
                event_at
                and story.last_event_at
                and abs(event_at - story.last_event_at) > STORY_WINDOW
            ):
                continue
            if score > best_score or (score == best_score and best is None):
                best, best_score = story, score
        return best


def _assign_story(
    article: _Pending, stories: _StoryIndex, common: frozenset[str], rows: _Rows, now: datetime
) -> int:
    terms = _story_terms(article, common)
    best = stories.closest(terms, article.event_at)
    event_at = article.published_at
    if best is not None:
        if event_at and (best.last_event_at is None or event_at > best.last_event_at):
            best.last_event_at = event_at
            rows.touched.add(best.story_id)
        return best.story_id
    story = _Story(article.article_id, terms, event_at)
    stories.add(story)
    title = article.title or (article.sentences[0].text[:120] if article.sentences else None)
    _append(
        rows.stories,
        story.story_id,
        title,
        now,
        event_at,
        json.dumps(terms, ensure_ascii=False),
    )
    return story.story_id


def _recent_stories(conn: duckdb.DuckDBPyConnection, articles: list[_Pending]) -> _StoryIndex:
    times = [a.event_at for a in articles if a.event_at and not a.is_seed]
    earliest = datetime.min.replace(tzinfo=UTC) + STORY_WINDOW  # a stored year-1 date, say
    since = max(min(times), earliest) - STORY_WINDOW if times else None
    return _StoryIndex(
        [
            _Story(story_id, json.loads(terms), last_event_at)
            for story_id, terms, last_event_at in queries.stories_since(conn, since)
        ]
    )


def _stories_of(conn: duckdb.DuckDBPyConnection, article_ids: list[int]) -> dict[int, int | None]:
    return queries.story_ids(conn, sorted(set(article_ids)))


def _append(columns: dict[str, list[Any]], *values: Any) -> None:
    for column, value in zip(columns.values(), values, strict=True):
        column.append(value)
