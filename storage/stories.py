"""Analysts' edits of stories: merge one into another, split articles off one. Each is one
transaction, recorded in story_edits; later articles respect it (storage/analysis.py reads
a merged story's terms as its new story's)."""

from __future__ import annotations

import json
from datetime import datetime

from analysis.facts import analyse
from analysis.stories import common_words, story_terms
from analysis.text import content_words
from analysis.topic import Topic
from newsmon.errors import StoryEditError
from storage.db import Conn, transaction


def merge_stories(conn: Conn, kept: int, merged: int, now: datetime) -> list[int]:
    """Story `merged` becomes part of `kept`: its articles and developments move, and so do
    the stories merged into it before. Returns the articles moved."""
    if kept == merged:
        raise StoryEditError(f"story {kept} cannot be merged into itself")
    with transaction(conn):
        _standing(conn, kept)
        _standing(conn, merged)
        moved = _move(conn, merged, kept, None)
        conn.execute(
            "UPDATE stories SET merged_into = $1 WHERE story_id = $2 OR merged_into = $2",
            [kept, merged],
        )
        conn.execute(
            "UPDATE stories SET last_event_at = (SELECT max(last_event_at) FROM stories "
            "WHERE story_id = $1 OR merged_into = $1) WHERE story_id = $1",
            [kept],
        )
        _record(conn, now, "merge", kept, merged, moved)
    return moved


def split_story(
    conn: Conn, story_id: int, article_ids: list[int], topic: Topic, now: datetime
) -> tuple[int, list[int]]:
    """The given articles of `story_id` (and their copies) leave it for a story of their
    own, named after the first of them and compared by their words from now on. Returns
    the new story's id and the articles moved."""
    with transaction(conn):
        _standing(conn, story_id)
        rows = conn.execute(
            "SELECT article_id, title, text, coalesce(published_at, fetched_at) FROM articles "
            "WHERE story_id = $1 AND duplicate_of IS NULL AND article_id = ANY($2) "
            "ORDER BY fetched_at, article_id",
            [story_id, article_ids],
        ).fetchall()
        outside = sorted(set(article_ids) - {row[0] for row in rows})
        if outside:
            raise StoryEditError(
                f"articles {outside} are not originals in story {story_id}; see "
                "`SELECT article_id, story_id, duplicate_of FROM articles` for where they are"
            )
        new_id, title = rows[0][0], rows[0][1]
        if new_id == story_id:
            raise StoryEditError(
                f"article {new_id} opened story {story_id}; split off the other articles instead"
            )
        text = "\n".join(f"{row[1] or ''}\n{row[2] or ''}" for row in rows)
        terms = story_terms(
            content_words(text), analyse(text, topic.aliases), common_words(topic.profile)
        )
        last_event_at = max((row[3] for row in rows if row[3]), default=None)
        # The article may have opened a story merged into this one: that story stands again.
        conn.execute(
            "DELETE FROM stories WHERE story_id = $1 AND merged_into IS NOT NULL", [new_id]
        )
        conn.execute(
            "INSERT INTO stories (story_id, title, first_seen_at, last_event_at, terms) "
            "VALUES ($1, $2, $3, $4, $5)",
            [new_id, title, now, last_event_at, json.dumps(terms, ensure_ascii=False)],
        )
        moved = _move(conn, story_id, new_id, [row[0] for row in rows])
        _record(conn, now, "split", story_id, new_id, moved)
    return new_id, moved


def _standing(conn: Conn, story_id: int) -> None:
    row = conn.execute("SELECT merged_into FROM stories WHERE story_id = $1", [story_id]).fetchone()
    if row is None:
        raise StoryEditError(f"no story {story_id}; `newsmon diff` and story_summary list them")
    if row[0] is not None:
        raise StoryEditError(f"story {story_id} was merged into story {row[0]}; edit that one")


def _move(conn: Conn, source: int, target: int, originals: list[int] | None) -> list[int]:
    """Move `originals` of story `source` (all its articles when None), with their copies,
    their developments and what they said, to story `target`."""
    moved = [
        row[0]
        for row in conn.execute(
            "UPDATE articles SET story_id = $2 WHERE story_id = $1 AND ($3::BIGINT[] IS NULL "
            "OR article_id = ANY($3) OR duplicate_of = ANY($3)) RETURNING article_id",
            [source, target, originals],
        ).fetchall()
    ]
    for table in ("developments", "sentence_vectors"):
        conn.execute(
            f"UPDATE {table} SET story_id = $2 WHERE article_id = ANY($1)", [moved, target]
        )
    return sorted(moved)


def _record(
    conn: Conn, now: datetime, action: str, story_id: int, other_id: int, moved: list[int]
) -> None:
    conn.execute(
        "INSERT INTO story_edits (made_at, action, story_id, other_id, article_ids) "
        "VALUES ($1, $2, $3, $4, $5)",
        [now, action, story_id, other_id, moved],
    )
