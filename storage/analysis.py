"""The analysis step's reads and writes: the facts, developments, figures and stories tables.

`analyse_pending` picks up every 'ok' article not analysed yet (relevance IS NULL:
seeds, the last run's pages, and after an upgrade the articles stored before it),
has analysis/batch.py judge them, and writes what it found in one transaction.
Facts are looked up by key under a primary-key index, so checking a batch costs
index lookups, not a scan of the corpus.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from analysis import batch, meaning
from analysis.batch import Analysis, Findings, PendingArticle
from analysis.language import text_language
from analysis.meaning import SAID_WINDOW, Embedder, Lead, StorySaid, Translation
from analysis.novelty import fact_keys
from analysis.stories import Story, StoryIndex, window_start
from analysis.topic import Topic
from newsmon.records import RunReport
from storage import runs
from storage.db import Conn, insert_columns, transaction

log = logging.getLogger(__name__)
# Leads a run's articles are compared with, at most (the latest; seeds first): a backfill
# over years must not compare each article with every lead ever stored.
MAX_STORED_LEADS = 20_000
# Sentences of one story a run's sentences are compared with, at most (the latest).
MAX_SAID = 5_000


def analyse_run(
    conn: Conn, report: RunReport, topic: Topic, embedder: Embedder | None = None
) -> RunReport:
    """The analysis step of a run: what is pending is analysed, and the run (its report
    and its poll_runs row) is credited with the developments found."""
    analysis = analyse_pending(conn, topic, report.finished_at, report.run_id, embedder)
    return replace(
        report,
        developments=report.developments + analysis.developments,
        errors=[*report.errors, *analysis.failed],
    )


def analyse_pending(
    conn: Conn,
    topic: Topic,
    now: datetime,
    run_id: str | None = None,
    embedder: Embedder | None = None,
) -> Analysis:
    """Analyse every stored 'ok' article that has no relevance yet, oldest first, and
    store the result in one transaction (with the count of developments in `run_id`'s
    poll_runs row). With an `embedder`, relevant originals that translate an earlier
    article become its copies ('translation'); the model runs before the transaction,
    so its time holds no lock. One run at a time (the run lock): nothing else analyses."""
    rows = conn.execute(
        "SELECT article_id, coalesce(url, 'seed ' || seed_name), title, text, is_seed, "
        "duplicate_of, coalesce(published_at, fetched_at) AS event_at, language FROM articles "
        "WHERE status = 'ok' AND relevance IS NULL AND analysis_error IS NULL "
        "ORDER BY is_seed DESC, duplicate_of IS NOT NULL, fetched_at, "
        "published_at NULLS LAST, article_id"
    ).fetchall()
    result = Analysis(articles=len(rows))
    if not rows:
        return result
    articles = batch.read(rows, topic, result)
    event_times = [a.event_at for a in articles if not a.is_seed]
    since = window_start(event_times)
    leads = embed_originals(articles, embedder, result) if embedder else []
    neighbours: dict[int, int] = {}  # article: the earlier one whose story it may join
    said = None
    with transaction(conn):
        if embedder is not None and leads:
            stored, originals_of = stored_leads(conn, embedder.name, since)
            translations = find_translations(leads, stored, originals_of)
            insert_leads(conn, leads, embedder.name)
            record_translations(conn, articles, translations)
            result.translations = len(translations)
            originals = [lead for lead in leads if lead.article_id not in translations]
            neighbours = {
                article_id: n.article_id
                for article_id, n in meaning.find_story_neighbours(originals, stored).items()
            }
            said_since = window_start(event_times, SAID_WINDOW)
            said = StorySaid(
                lambda story_id: said_in_story(conn, embedder.name, story_id, said_since),
                seed_sentences(conn, embedder.name),
            )
        known = known_fact_keys(conn, sorted(fact_keys(s for a in articles for s in a.sentences)))
        stories = StoryIndex(stories_since(conn, since))
        copied = {a.duplicate_of for a in articles if a.duplicate_of}
        story_of = story_ids(conn, sorted(copied | set(neighbours.values())))
        findings = batch.develop(
            articles, topic, known, stories, story_of, now, result, neighbours, said
        )
        analysed = [a for a in articles if a.article_id not in result.errors]
        if embedder is not None:
            insert_said(conn, [a for a in analysed if a.duplicate_of is None], embedder.name)
        update_analysis(
            conn,
            [a.article_id for a in analysed],
            [a.relevance for a in analysed],
            [a.story_id for a in analysed],
        )
        record_analysis_errors(conn, result.errors)
        _insert(conn, findings, stories.stories)
        if run_id is not None:
            runs.add_developments(conn, run_id, result.developments)
    log.info("%s", result)
    return result


def _insert(conn: Conn, findings: Findings, stories: list[Story]) -> None:
    """Everything found, and the new last_event_at of the stories articles joined."""
    touched = findings.settle(stories)
    for table in ("facts", "developments", "figures", "stories"):
        insert_columns(conn, table, getattr(findings, table))
    touch_stories(conn, touched)


def update_analysis(
    conn: Conn, article_ids: list[int], relevance: list[float | None], story_ids: list[int | None]
) -> None:
    if not article_ids:
        return
    conn.execute(
        "UPDATE articles SET relevance = u.relevance, story_id = u.story_id "
        "FROM (SELECT unnest($1) AS article_id, unnest($2::DOUBLE[]) AS relevance, "
        "unnest($3::BIGINT[]) AS story_id) AS u WHERE articles.article_id = u.article_id",
        [article_ids, relevance, story_ids],
    )


def record_analysis_errors(conn: Conn, errors: dict[int, str]) -> None:
    """Keep why each article's analysis failed on the article; it is not analysed again."""
    if not errors:
        return
    conn.execute(
        "UPDATE articles SET analysis_error = u.error "
        "FROM (SELECT unnest($1::BIGINT[]) AS article_id, unnest($2::VARCHAR[]) AS error) AS u "
        "WHERE articles.article_id = u.article_id",
        [list(errors), list(errors.values())],
    )


def embed_originals(
    articles: list[PendingArticle], embedder: Embedder, result: Analysis
) -> list[Lead]:
    """The embedded leads of the relevant originals and seeds, and (in each article's
    said_vectors) their first sentences, in one call of the model. A model that fails is
    reported in the run's problems; the analysis goes on without translations, and facts
    alone judge novelty."""
    originals = [a for a in articles if a.relevant and a.duplicate_of is None]
    try:
        return _embed(embedder, originals)
    except Exception as exc:  # a model that will not load must not stop the analysis
        line = (
            f"the meaning layer ({embedder.name}) failed ({type(exc).__name__}: {exc}); "
            "translations were not looked for in this run (check NEWSMON_EMBEDDER)"
        )
        log.error("%s", line)
        result.failed.append(line)
        for article in originals:
            article.said_vectors = {}
        return []


def _embed(embedder: Embedder, originals: list[PendingArticle]) -> list[Lead]:
    """The leads of `originals` (returned) and their first sentences (kept in each one's
    said_vectors)."""
    parts = [
        meaning.said_parts([s.text for s in a.sentences], a.title, a.is_seed) for a in originals
    ]
    texts = [meaning.lead(a.title, a.text) for a in originals]
    texts += [text for article_parts in parts for _, text in article_parts]
    if not texts:
        return []
    embedded = embedder.embed(texts)
    rest = iter(embedded[len(originals) :])
    for article, article_parts in zip(originals, parts, strict=True):
        article.said_vectors = {position: next(rest) for position, _ in article_parts}
    return [
        Lead(
            a.article_id,
            a.language or text_language(a.text, None),
            vector,
            frozenset(meaning.numbers(a.text)),
            a.published_at,
        )
        for a, vector in zip(originals, embedded[: len(originals)], strict=True)
    ]


def said_in_story(conn: Conn, model: str, story_id: int, since: datetime | None) -> np.ndarray:
    """The latest MAX_SAID sentence vectors the story said since `since`: one row each."""
    return _vectors(
        conn,
        "SELECT rowid FROM sentence_vectors WHERE model = $1 AND story_id = $2 "
        "AND said_at >= coalesce($3::TIMESTAMPTZ, '-infinity') ORDER BY said_at DESC LIMIT $4",
        [model, story_id, since, MAX_SAID],
    )


def seed_sentences(conn: Conn, model: str) -> np.ndarray:
    """The stored seeds' sentence vectors (said in every story), read once a run."""
    return _vectors(
        conn, "SELECT rowid FROM sentence_vectors WHERE model = $1 AND said_at IS NULL", [model]
    )


def _vectors(conn: Conn, rows_query: str, parameters: list[Any]) -> np.ndarray:
    """The vectors of the rows `rows_query` selects, one row each. The rows are chosen
    first and only theirs read (benchmarks/said.py: two thirds of the time of sorting the
    vectors along; and one query for the story and the seeds, joined by OR, took 100 ms at 1M)."""
    rows = conn.execute(
        "SELECT len(vector) AS size, unnest(vector) AS value FROM sentence_vectors "
        f"WHERE rowid IN ({rows_query})",
        parameters,
    ).fetchnumpy()
    values = np.asarray(rows["value"], dtype=np.float32)
    if len(values) == 0:
        return np.empty((0, 0), dtype=np.float32)
    return values.reshape(-1, int(rows["size"][0]))


def insert_said(conn: Conn, articles: list[PendingArticle], model: str) -> None:
    """Keep the embedded sentences, for later sentences of their story to be compared with."""
    rows = [(a, position, vector) for a in articles for position, vector in a.said_vectors.items()]
    insert_columns(
        conn,
        "sentence_vectors",
        {
            "article_id": [a.article_id for a, _, _ in rows],
            "position": [position for _, position, _ in rows],
            "story_id": [a.story_id for a, _, _ in rows],
            "model": [model] * len(rows),
            "said_at": [a.published_at for a, _, _ in rows],
            "vector": [vector.tolist() for _, _, vector in rows],
        },
    )


def find_translations(
    new: list[Lead], stored: list[Lead], originals_of: dict[int, int]
) -> dict[int, Translation]:
    """Which `new` leads translate an earlier article: a `stored` one, or one before them
    in the batch (a stored translation stands for its original, `originals_of`)."""
    return {
        article_id: Translation(originals_of.get(t.original_id, t.original_id), t.score)
        for article_id, t in meaning.find_translations(new, stored).items()
    }


def insert_leads(conn: Conn, leads: list[Lead], model: str) -> None:
    """Keep the embedded leads, for the articles of later runs to be compared with."""
    insert_columns(
        conn,
        "article_vectors",
        {
            "article_id": [lead.article_id for lead in leads],
            "model": [model] * len(leads),
            "language": [lead.language for lead in leads],
            "numbers": [sorted(lead.numbers) for lead in leads],
            "vector": [lead.vector.tolist() for lead in leads],
        },
    )


def stored_leads(
    conn: Conn, model: str, since: datetime | None
) -> tuple[list[Lead], dict[int, int]]:
    """The embedded leads a new article may translate: seeds, and the latest
    MAX_STORED_LEADS articles since `since`; and, for those that are translations
    themselves, the article they translate."""
    rows = conn.execute(
        "SELECT v.article_id, v.language, v.vector, v.numbers, a.duplicate_of, a.duplicate_kind, "
        "CASE WHEN a.is_seed THEN NULL ELSE coalesce(a.published_at, a.fetched_at) END AS event_at "
        "FROM article_vectors v JOIN articles a USING (article_id) "
        "WHERE v.model = $1 AND (a.is_seed OR $2::TIMESTAMPTZ IS NULL OR "
        "coalesce(a.published_at, a.fetched_at) >= $2) "
        "ORDER BY a.is_seed DESC, event_at DESC, v.article_id LIMIT $3",
        [model, since, MAX_STORED_LEADS],
    ).fetchall()
    leads = [
        Lead(article_id, language, np.asarray(vector, dtype=np.float32), frozenset(numbers), at)
        for article_id, language, vector, numbers, _, _, at in rows
    ]
    originals = {row[0]: row[4] for row in rows if row[5] == "translation"}
    return leads, originals


def record_translations(
    conn: Conn, articles: list[PendingArticle], translations: dict[int, Translation]
) -> None:
    """Translations become copies of their originals: in this batch (so they take the
    original's story and give no developments) and in their rows."""
    for article in articles:
        if article.article_id in translations:
            article.duplicate_of = translations[article.article_id].original_id
    if not translations:
        return
    conn.execute(
        "UPDATE articles SET duplicate_of = u.original, duplicate_kind = 'translation', "
        "similarity = u.score FROM (SELECT unnest($1::BIGINT[]) AS article_id, "
        "unnest($2::BIGINT[]) AS original, unnest($3::DOUBLE[]) AS score) AS u "
        "WHERE articles.article_id = u.article_id",
        [
            list(translations),
            [t.original_id for t in translations.values()],
            [t.score for t in translations.values()],
        ],
    )


def known_fact_keys(conn: Conn, keys: list[int]) -> set[int]:
    if not keys:
        return set()
    rows = conn.execute("SELECT fact_key FROM facts WHERE fact_key = ANY($1)", [keys])
    return {row[0] for row in rows.fetchall()}


def stories_since(conn: Conn, since: datetime | None) -> list[Story]:
    """Stories an article of this batch may join: seed stories, and those active since `since`.
    A story an analyst merged into another is read as that one: an article close to its
    terms joins the story it was merged into."""
    rows = conn.execute(
        "SELECT coalesce(merged_into, story_id), terms, last_event_at FROM stories "
        "WHERE $1::TIMESTAMPTZ IS NULL OR last_event_at IS NULL OR last_event_at >= $1 "
        "ORDER BY story_id",
        [since],
    ).fetchall()
    return [
        Story(story_id, json.loads(terms), last_event_at) for story_id, terms, last_event_at in rows
    ]


def touch_stories(conn: Conn, last_event_at: dict[int, datetime | None]) -> None:
    for story_id, at in last_event_at.items():
        conn.execute("UPDATE stories SET last_event_at = $2 WHERE story_id = $1", [story_id, at])


def story_ids(conn: Conn, article_ids: list[int]) -> dict[int, int | None]:
    if not article_ids:
        return {}
    rows = conn.execute(
        "SELECT article_id, story_id FROM articles WHERE article_id = ANY($1)", [article_ids]
    )
    return dict(rows.fetchall())
