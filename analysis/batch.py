"""One analysis pass over newly stored articles: relevance, stories, facts, developments.

Two steps around the lookups storage makes for them (storage/analysis.py):
`read()` scores each article and splits the relevant ones into sentences and
facts; `develop()` then, given the facts already known and the stories recent
enough to join, assigns stories and collects the new facts, developments and
figures as rows. One article's failure is recorded (Analysis.fail) and the others go on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from analysis.facts import FIGURE, Sentence, analyse, name_variants
from analysis.meaning import SAID_SIMILARITY, StorySaid
from analysis.novelty import development_id, is_development, is_headline, is_known
from analysis.stories import Story, StoryIndex, common_words, story_terms
from analysis.text import content_words
from analysis.topic import Topic

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Analysis:
    """What one analysis pass did, for the run's report."""

    articles: int = 0
    relevant: int = 0
    developments: int = 0
    figures: int = 0
    stories_opened: int = 0
    translations: int = 0
    failed: list[str] = field(default_factory=list)  # one line per article not analysed
    errors: dict[int, str] = field(default_factory=dict)  # article_id -> why, kept with it

    def fail(self, article: PendingArticle, exc: Exception) -> None:
        """Record (and log) an article whose analysis failed; it is stored without it."""
        reason = f"{type(exc).__name__}: {exc}"[:500]
        line = (
            f"{article.source}: analysis failed ({reason}); the article is stored without it "
            "and not analysed again (see articles.analysis_error)"
        )
        log.error("%s", line)
        self.failed.append(line)
        self.errors[article.article_id] = reason

    def __str__(self) -> str:
        return (
            f"analysed {self.articles} articles: {self.relevant} relevant, {self.translations} "
            f"translations, {self.developments} developments, {self.figures} figures, "
            f"{self.stories_opened} new stories"
        )


@dataclass(slots=True)
class PendingArticle:
    """A stored article waiting for analysis, and what the pass finds out about it."""

    article_id: int
    source: str  # its URL, or 'seed <name>'
    title: str | None
    text: str
    is_seed: bool
    duplicate_of: int | None
    event_at: datetime | None
    language: str | None
    relevance: float | None = None
    relevant: bool = False
    story_id: int | None = None
    sentences: list[Sentence] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # content_words of headed_text
    # Sentence position -> its embedding (analysis/meaning.py's said_parts): the sentences
    # whose novelty meaning decides.
    said_vectors: dict[int, np.ndarray] = field(default_factory=dict)

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
class Findings:
    """Rows to insert, column by column (storage.db.insert_columns), and per-article errors."""

    facts: dict[str, list[Any]] = _columns("fact_key kind text article_id first_seen_at")
    developments: dict[str, list[Any]] = _columns(
        "development_id article_id story_id position sentence novelty new_facts first_seen_at "
        "said_similarity"
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

    def settle(self, stories: list[Story]) -> dict[int, datetime | None]:
        """Give opened stories their final last_event_at; returns the new last_event_at
        of the stored stories that articles joined."""
        opened = set(self.stories["story_id"])
        for story in stories:
            if story.story_id in opened:
                index = self.stories["story_id"].index(story.story_id)
                self.stories["last_event_at"][index] = story.last_event_at
        latest: dict[int, datetime | None] = {}
        for story in stories:  # a merged story is read under its new story's id: the latest
            if story.story_id in self.touched - opened:
                times = [t for t in (latest.get(story.story_id), story.last_event_at) if t]
                latest[story.story_id] = max(times, default=None)
        return latest


_UNDOABLE = ("facts", "developments", "figures")


def read(rows: list[tuple[Any, ...]], topic: Topic, result: Analysis) -> list[PendingArticle]:
    """Each article's relevance; only relevant originals are split into sentences and facts
    (most of a general news feed is about something else). Failures go to `result`."""
    articles: list[PendingArticle] = []
    for row in rows:
        article = PendingArticle(*row)
        try:
            article.words = content_words(article.headed_text)  # for relevance and for stories
            article.relevance = topic.relevance(article.headed_text, article.words)
            article.relevant = article.is_seed or (
                article.duplicate_of is None and topic.is_relevant(article.relevance)
            )
            if article.relevant:
                article.sentences = analyse(article.text, topic.aliases)
        except Exception as exc:  # one article's surprise must not stop the others
            result.fail(article, exc)
            continue
        articles.append(article)
    result.relevant = sum(a.relevant for a in articles)
    return articles


def develop(
    articles: list[PendingArticle],
    topic: Topic,
    known: set[int],
    stories: StoryIndex,
    story_of: dict[int, int | None],
    now: datetime,
    result: Analysis,
    neighbours: dict[int, int] | None = None,
    said: StorySaid | None = None,
) -> Findings:
    """Stories, facts, figures and developments of `articles`, given the `known` fact keys,
    the `stories` they may join, the stories of the originals copies point to and of the
    articles closest in meaning (`story_of`), each article's closest earlier one in
    meaning (`neighbours`: its story is joined when the words find none), and what each
    story has `said` (for the sentences meaning judges).
    `known`, `stories`, `story_of` and `said` grow as the batch goes."""
    neighbours = neighbours or {}
    said = said or StorySaid(lambda story_id: np.empty((0, 0), dtype=np.float32))
    findings = Findings()
    common = common_words(topic.profile)
    for article in articles:
        if article.duplicate_of is not None:
            article.story_id = story_of.get(article.duplicate_of)
            continue
        if not article.relevant:
            continue
        mark = findings.mark()
        try:
            near = story_of.get(neighbours.get(article.article_id, -1))
            article.story_id = _assign_story(article, stories, common, findings, now, near)
            story_of[article.article_id] = article.story_id
            _collect_facts(article, known, findings, now, said)
        except Exception as exc:
            findings.undo(mark)
            result.fail(article, exc)
    result.developments = len(findings.developments["development_id"])
    result.figures = len(findings.figures["article_id"])
    result.stories_opened = len(findings.stories["story_id"])
    return findings


def _collect_facts(
    article: PendingArticle, known: set[int], findings: Findings, now: datetime, said: StorySaid
) -> None:
    positions = sorted(article.said_vectors)
    embedded = (
        np.stack([article.said_vectors[p] for p in positions])
        if positions
        else np.empty((0, 0), dtype=np.float32)
    )
    story = article.story_id if article.story_id is not None else article.article_id
    similarity = dict(zip(positions, said.closest(story, embedded).tolist(), strict=True))
    said.add(story, embedded, article.is_seed)
    for position, sentence in enumerate(article.sentences):
        new = [fact for fact in sentence.facts if not is_known(fact, known)]
        for fact in new:
            for variant in name_variants(fact):
                if variant.key not in known:
                    known.add(variant.key)
                    _append(
                        findings.facts,
                        variant.key, variant.kind, variant.text, article.article_id, now,
                    )  # fmt: skip
        for figure in sentence.figures:
            _append(
                findings.figures, article.article_id, position, figure.metric, figure.value,
                figure.unit, sentence.text, article.published_at,
            )  # fmt: skip
        if article.is_seed or is_headline(sentence.text, article.title):
            continue
        closest = similarity.get(position)
        if closest is None:
            if not is_development(sentence, new):
                continue
        elif closest >= SAID_SIMILARITY and not any(f.kind == FIGURE for f in new):
            continue  # said before, in other words or another language; a new figure is news
        if closest is not None and closest < 0:
            closest = None  # the story had said nothing yet
        _append(
            findings.developments,
            development_id(article.article_id, position),
            article.article_id,
            article.story_id,
            position,
            sentence.text,
            round(len(new) / len(sentence.facts), 3) if sentence.facts else 0.0,
            [f"{fact.kind}:{fact.text}" for fact in new],
            now,
            None if closest is None else round(closest, 3),
        )


def _assign_story(
    article: PendingArticle,
    stories: StoryIndex,
    common: frozenset[str],
    findings: Findings,
    now: datetime,
    near: int | None = None,
) -> int:
    """The story the article's words join; else the story of its closest article in
    meaning (`near`), if still active; else a story of its own."""
    terms = story_terms(article.words, article.sentences, common)
    best = stories.closest(terms, article.event_at)
    if best is None and near is not None:
        best = stories.active(near, article.event_at)
    event_at = article.published_at
    if best is not None:
        if event_at and (best.last_event_at is None or event_at > best.last_event_at):
            best.last_event_at = event_at
            findings.touched.add(best.story_id)
        return best.story_id
    story = Story(article.article_id, terms, event_at)
    stories.add(story)
    title = article.title or (article.sentences[0].text[:120] if article.sentences else None)
    _append(
        findings.stories,
        story.story_id,
        title,
        now,
        event_at,
        json.dumps(terms, ensure_ascii=False),
    )
    return story.story_id


def _append(columns: dict[str, list[Any]], *values: Any) -> None:
    for column, value in zip(columns.values(), values, strict=True):
        column.append(value)
