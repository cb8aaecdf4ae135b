"""Digests: what they contain, which developments they took, and each channel's delivery.

Exactly once, per channel: a development joins one digest only (digest_items
has it as its primary key), and a delivery is recorded as 'sending' before the
message goes out and 'sent' after. A run that dies in between leaves 'sending';
the next run marks it 'unconfirmed' and does not send it again, so nobody gets
the same digest twice. A delivery that failed for certain is retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb

from storage.db import insert_columns, transaction

Conn = duckdb.DuckDBPyConnection
MAX_SHOWN_PER_STORY = 8  # developments rendered per story; the JSON has them all
MAX_SHOWN_STORIES = 25  # stories rendered per digest (after a backfill there can be thousands)


@dataclass(frozen=True, slots=True)
class Development:
    development_id: int
    sentence: str
    novelty: float
    new_facts: list[str]
    first_seen_at: datetime
    url: str | None
    title: str | None
    outlet: str | None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Outlet:
    """One outlet that carried a story, and the address of its report."""

    outlet: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """The shown developments of one article, under one line naming its source."""

    url: str | None
    outlet: str | None
    language: str | None
    first_seen_at: datetime
    items: list[Development]


@dataclass(frozen=True, slots=True)
class FigureChange:
    metric: str
    unit: str | None
    previous_value: float
    value: float
    change: float
    sentence: str
    url: str | None
    series: tuple[tuple[datetime | None, float, str], ...] = ()  # (time, value, source)

    @property
    def label(self) -> str:
        return figure_label(self.metric, self.unit)


def figure_label(metric: str, unit: str | None) -> str:
    """'aid trucks', 'fuel (liters)': a figure's name as readers see it."""
    what = metric.replace("_", " ")
    return f"{what} ({unit})" if unit else what


@dataclass(slots=True)
class StoryDigest:
    story_id: int
    title: str
    figure_changes: list[FigureChange] = field(default_factory=list)
    developments: list[Development] = field(default_factory=list)
    reported_by: list[Outlet] = field(default_factory=list)  # one report per outlet

    @property
    def has_page(self) -> bool:
        """A development outside any story is shown under a made-up negative id."""
        return self.story_id > 0

    @property
    def shown_reports(self) -> list[Report]:
        """The shown developments grouped by article, so each source is named once."""
        reports: dict[str | None, Report] = {}
        for d in self.shown:
            key = d.url or f"#{d.development_id}"
            if key not in reports:
                reports[key] = Report(d.url, d.outlet, d.language, d.first_seen_at, [])
            reports[key].items.append(d)
        return list(reports.values())

    @property
    def also_reported(self) -> list[Outlet]:
        """The outlets that carried the story besides those its developments come from."""
        named = {d.outlet for d in self.developments}
        return [o for o in self.reported_by if o.outlet not in named]

    @property
    def shown(self) -> list[Development]:
        """The most novel developments, in the order the articles tell them."""
        top = sorted(self.developments, key=lambda d: -d.novelty)[:MAX_SHOWN_PER_STORY]
        return [d for d in self.developments if d in top]

    @property
    def hidden(self) -> int:
        return len(self.developments) - len(self.shown)


@dataclass(slots=True)
class Digest:
    digest_id: str
    created_at: datetime
    since: datetime | None
    stories: list[StoryDigest]

    @property
    def development_ids(self) -> list[int]:
        return [d.development_id for s in self.stories for d in s.developments]

    @property
    def watermark(self) -> datetime | None:
        times = [d.first_seen_at for s in self.stories for d in s.developments]
        return max(times) if times else None

    @property
    def is_empty(self) -> bool:
        return not self.stories

    @property
    def shown(self) -> list[StoryDigest]:
        return self.stories[:MAX_SHOWN_STORIES]

    @property
    def hidden(self) -> int:
        return len(self.stories) - len(self.shown)


@dataclass(frozen=True, slots=True)
class Delivery:
    digest_id: str
    channel: str
    channel_label: str
    status: str
    attempts: int
    parts_sent: int = 0


def gather(
    conn: Conn, digest_id: str, now: datetime, since: datetime | None, undelivered: bool = True
) -> Digest:
    """Developments first seen since `since` (and, by default, in no digest yet), by story."""
    rows = conn.execute(
        """
        SELECT d.development_id, d.story_id, d.sentence, d.novelty, d.new_facts, d.first_seen_at,
               a.url, a.title, o.outlet, a.language
        FROM developments AS d
        JOIN articles AS a USING (article_id)
        JOIN article_outlets AS o USING (article_id)
        WHERE ($1::TIMESTAMPTZ IS NULL OR d.first_seen_at >= $1)
          AND (NOT $2 OR d.development_id IN (
                SELECT development_id FROM undelivered_developments))
        ORDER BY d.first_seen_at, a.published_at NULLS LAST, d.article_id, d.position
        """,
        [since, undelivered],
    ).fetchall()
    stories: dict[int, StoryDigest] = {}
    story_ids = sorted({row[1] for row in rows if row[1] is not None})
    titles = _stories(conn, story_ids)
    outlets = _outlets(conn, story_ids)
    for development_id, story_id, sentence, novelty, facts, seen_at, url, title, *rest in rows:
        key = story_id if story_id is not None else -development_id
        if key not in stories:
            story_title = titles.get(story_id) or title or sentence[:120]
            stories[key] = StoryDigest(key, story_title, reported_by=outlets.get(story_id, []))
        stories[key].developments.append(
            Development(development_id, sentence, novelty, facts, seen_at, url, title, *rest)
        )
    for story_id, changes in _figure_changes(conn, [r[0] for r in rows]).items():
        if story_id in stories:
            stories[story_id].figure_changes = changes
    ordered = sorted(stories.values(), key=lambda s: (-len(s.figure_changes), -len(s.developments)))
    return Digest(digest_id, now, since, ordered)


def _stories(conn: Conn, story_ids: list[int]) -> dict[int, str | None]:
    if not story_ids:
        return {}
    rows = conn.execute(
        "SELECT story_id, title FROM story_summary WHERE story_id = ANY($1)", [story_ids]
    ).fetchall()
    return dict(rows)


def _outlets(conn: Conn, story_ids: list[int]) -> dict[int, list[Outlet]]:
    """The outlets of each story's reports (seeds aside), each with its first report's
    address, in the order they carried it: one query for all the digest's stories."""
    if not story_ids:
        return {}
    rows = conn.execute(
        """
        SELECT a.story_id, o.outlet, arg_min(a.url, a.fetched_at)
        FROM articles AS a JOIN article_outlets AS o USING (article_id)
        WHERE a.story_id = ANY($1) AND NOT a.is_seed
        GROUP BY a.story_id, o.outlet ORDER BY a.story_id, min(a.fetched_at), o.outlet
        """,
        [story_ids],
    ).fetchall()
    found: dict[int, list[Outlet]] = {}
    for story_id, outlet, url in rows:
        found.setdefault(story_id, []).append(Outlet(outlet, url))
    return found


def _figure_changes(conn: Conn, development_ids: list[int]) -> dict[int, list[FigureChange]]:
    """Changed figures stated in the sentences these developments are, by story."""
    if not development_ids:
        return {}
    rows = conn.execute(
        """
        SELECT d.story_id, c.metric, c.unit, c.previous_value, c.value, c.change, c.sentence,
               c.source
        FROM developments AS d
        JOIN figures AS f ON f.article_id = d.article_id AND f.position = d.position
        JOIN figure_changes AS c
          ON c.article_id = f.article_id AND c.metric = f.metric AND c.value = f.value
         AND c.unit IS NOT DISTINCT FROM f.unit
        WHERE d.development_id = ANY($1) AND c.previous_value IS NOT NULL AND c.change <> 0
        ORDER BY d.story_id, c.metric
        """,
        [development_ids],
    ).fetchall()
    changes: dict[int, list[FigureChange]] = {}
    for story_id, *values in rows:
        change = FigureChange(*values)
        if change not in changes.get(story_id, []):
            changes.setdefault(story_id, []).append(change)
    series = {
        (c.metric, c.unit): _series(conn, c.metric, c.unit)
        for found in changes.values()
        for c in found
    }  # a figure several stories changed is read once
    return {
        story_id: [replace(c, series=series[c.metric, c.unit]) for c in found]
        for story_id, found in changes.items()
    }


def _series(conn: Conn, metric: str, unit: str | None) -> tuple[tuple[Any, ...], ...]:
    """Every value of the figure, as figure_changes orders them: the chart of the change."""
    rows = conn.execute(
        "SELECT published_at, value, source FROM figure_changes "
        "WHERE metric = $1 AND unit IS NOT DISTINCT FROM $2",
        [metric, unit],
    ).fetchall()
    return tuple(rows)


def record(conn: Conn, digest: Digest, rendered: dict[str, str], channels: dict[str, str]) -> None:
    """Store the digest, claim its developments, and queue a delivery per channel: one
    transaction. `channels` maps each channel's key to its label."""
    with transaction(conn):
        insert_columns(
            conn,
            "digests",
            {
                "digest_id": [digest.digest_id],
                "created_at": [digest.created_at],
                "watermark": [digest.watermark],
                "developments": [len(digest.development_ids)],
                "stories": [len(digest.stories)],
                "markdown": [rendered["markdown"]],
                "html": [rendered["html"]],
                "json": [rendered["json"]],
            },
        )
        ids = digest.development_ids
        insert_columns(
            conn,
            "digest_items",
            {"development_id": ids, "digest_id": [digest.digest_id] * len(ids)},
        )
        keys = sorted(channels)
        insert_columns(
            conn,
            "deliveries",
            {
                "digest_id": [digest.digest_id] * len(keys),
                "channel": keys,
                "channel_label": [channels[k] for k in keys],
                "status": ["pending"] * len(keys),
                "updated_at": [digest.created_at] * len(keys),
            },
        )


def mark_interrupted(conn: Conn, now: datetime) -> list[Delivery]:
    """Deliveries left 'sending' by a run that died: 'unconfirmed', never sent again."""
    interrupted = _deliveries(conn, "status = 'sending'")
    conn.execute(
        "UPDATE deliveries SET status = 'unconfirmed', updated_at = $1, "
        "last_error = 'the run stopped while sending; it may or may not have arrived' "
        "WHERE status = 'sending'",
        [now],
    )
    return interrupted


def due(conn: Conn, channels: Sequence[str]) -> list[Delivery]:
    """Deliveries to (re)try for the configured channels, oldest digest first."""
    if not channels:
        return []
    return _deliveries(
        conn, "status IN ('pending', 'failed') AND channel = ANY($1)", [list(channels)]
    )


def queue_again(conn: Conn, digest_id: str, channels: dict[str, str], now: datetime) -> list[str]:
    """A 'pending' delivery of `digest_id` for each of `channels` (key -> label) that has not
    received it ('sent'); returns the keys queued."""
    received = {
        d.channel for d in _deliveries(conn, "digest_id = $1 AND status = 'sent'", [digest_id])
    }
    queued = sorted(key for key in channels if key not in received)
    with transaction(conn):
        for key in queued:
            conn.execute(
                "INSERT INTO deliveries (digest_id, channel, channel_label, status, updated_at) "
                "VALUES ($1, $2, $3, 'pending', $4) ON CONFLICT (digest_id, channel) DO UPDATE "
                "SET status = 'pending', updated_at = excluded.updated_at, parts_sent = 0",
                [digest_id, key, channels[key], now],
            )
    return queued


def abandon_other_channels(conn: Conn, keep: Sequence[str], now: datetime) -> int:
    """Mark undelivered deliveries of channels not in `keep` 'abandoned'; returns how many."""
    rows = conn.execute(
        "UPDATE deliveries SET status = 'abandoned', updated_at = $2 "
        "WHERE status IN ('pending', 'failed') AND NOT (channel = ANY($1)) RETURNING digest_id",
        [list(keep), now],
    ).fetchall()
    return len(rows)


def set_status(
    conn: Conn,
    delivery: Delivery,
    status: str,
    now: datetime,
    error: str | None = None,
    parts_sent: int | None = None,
) -> None:
    """The delivery's new status; `parts_sent` counts the messages the channel has taken."""
    conn.execute(
        "UPDATE deliveries SET status = $3, updated_at = $4, last_error = $5, "
        "attempts = attempts + CASE WHEN $3 = 'sending' THEN 1 ELSE 0 END, "
        "parts_sent = coalesce($6, parts_sent) "
        "WHERE digest_id = $1 AND channel = $2",
        [delivery.digest_id, delivery.channel, status, now, error, parts_sent],
    )


def rendered(conn: Conn, digest_id: str) -> dict[str, str]:
    row = conn.execute(
        "SELECT markdown, html, json FROM digests WHERE digest_id = $1", [digest_id]
    ).fetchone()
    if row is None:
        raise KeyError(digest_id)
    return dict(zip(("markdown", "html", "json"), row, strict=True))


@dataclass(frozen=True, slots=True)
class Recorded:
    """A digest as the digests table keeps it."""

    digest_id: str
    created_at: datetime
    developments: int
    stories: int
    html: str
    json: str

    @property
    def title(self) -> str:
        """The title it was sent with (digests recorded before titles were kept: a made-up one)."""
        title = json.loads(self.json).get("title")
        return (
            title or f"{self.developments} new developments, {self.created_at:%Y-%m-%d %H:%M} UTC"
        )

    @property
    def summary(self) -> str:
        """The first developments, in plain words: what a feed reader lists under the title."""
        stories = json.loads(self.json).get("stories", [])
        sentences = [d["sentence"] for s in stories for d in s.get("developments", [])[:1]]
        return " · ".join(sentences[:5])


def recent(conn: Conn, limit: int = 50) -> list[Recorded]:
    """The latest digests, newest first."""
    rows = conn.execute(
        "SELECT digest_id, created_at, developments, stories, html, json FROM digests "
        "ORDER BY created_at DESC LIMIT $1",
        [limit],
    ).fetchall()
    return [Recorded(*row) for row in rows]


def _deliveries(conn: Conn, where: str, params: list[object] | None = None) -> list[Delivery]:
    rows = conn.execute(
        "SELECT digest_id, channel, channel_label, status, attempts, parts_sent FROM deliveries "
        f"WHERE {where} ORDER BY digest_id, channel",
        params or [],
    ).fetchall()
    return [Delivery(*row) for row in rows]


def digest_status(conn: Conn) -> dict[str, Any]:
    """Developments waiting for a digest, the last digest, and deliveries that need a look."""
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM undelivered_developments),
               (SELECT max(created_at) FROM digests),
               (SELECT count(*) FROM deliveries WHERE status = 'failed'),
               (SELECT count(*) FROM deliveries WHERE status = 'unconfirmed'),
               (SELECT count(*) FROM deliveries WHERE status = 'abandoned')
        """
    ).fetchone()
    keys = (
        "undelivered_developments",
        "last_digest_at",
        "failed_deliveries",
        "unconfirmed",
        "abandoned_deliveries",
    )
    return dict(zip(keys, row or (0, None, 0, 0, 0), strict=True))
