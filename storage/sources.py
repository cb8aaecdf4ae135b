"""Statements on where articles come from: the feeds table and the robots_txt rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from newsmon.records import FeedState, RobotsTxt
from storage.db import Conn


def sync_feeds(conn: Conn, feeds: Iterable[tuple[str, str]], now: datetime) -> list[str]:
    """Add the feeds file's (url, name) pairs and refresh their names; feeds no longer in the
    file are marked removed (kept for history). Returns the names of those just removed."""
    listed = list(feeds)
    for url, name in listed:
        conn.execute(
            "INSERT INTO feeds (url, name, current_url) VALUES ($1, $2, $1) "
            "ON CONFLICT (url) DO UPDATE SET name = excluded.name, removed_at = NULL",
            [url, name],
        )
    rows = conn.execute(
        "UPDATE feeds SET removed_at = $2 WHERE removed_at IS NULL AND NOT (url = ANY($1)) "
        "RETURNING name",
        [[url for url, _ in listed], now],
    ).fetchall()
    return [row[0] for row in rows]


def feed_states(conn: Conn) -> dict[str, FeedState]:
    rows = conn.execute(
        "SELECT url, etag, last_modified, body_hash, current_url, consecutive_failures, "
        "next_poll_at, disabled_reason, last_error FROM feeds WHERE removed_at IS NULL"
    ).fetchall()
    return {url: FeedState(*state) for url, *state in rows}


def enable_feed(conn: Conn, url: str) -> bool:
    """Clear a feed's backoff and disabled state; False when no such feed is stored."""
    row = conn.execute(
        "UPDATE feeds SET disabled_at = NULL, disabled_reason = NULL, next_poll_at = NULL "
        "WHERE url = $1 OR current_url = $1 RETURNING url",
        [url],
    ).fetchone()
    return row is not None


def record_feed_poll(
    conn: Conn,
    url: str,
    state: FeedState,
    *,
    polled_at: datetime,
    status: int | None,
    title: str | None,
    disabled_now: bool,
) -> None:
    """A feed's state after one poll (newsmon.health.next_state), and what the poll saw."""
    conn.execute(
        """
        UPDATE feeds SET
            last_polled_at = $polled_at,
            last_status = $status,
            title = coalesce($title, title),
            last_error = $last_error,
            consecutive_failures = $consecutive_failures,
            last_success_at =
                CASE WHEN $last_error IS NULL THEN $polled_at ELSE last_success_at END,
            next_poll_at = $next_poll_at,
            current_url = coalesce($current_url, current_url),
            disabled_at = CASE WHEN $disabled_now THEN $polled_at ELSE disabled_at END,
            disabled_reason = $disabled_reason,
            etag = $etag,
            last_modified = $last_modified,
            body_hash = $body_hash
        WHERE url = $url
        """,
        {
            "url": url,
            "polled_at": polled_at,
            "status": status,
            "title": title,
            "last_error": state.last_error,
            "consecutive_failures": state.consecutive_failures,
            "next_poll_at": state.next_poll_at,
            "current_url": state.current_url,
            "disabled_now": disabled_now,
            "disabled_reason": state.disabled_reason,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "body_hash": state.body_hash,
        },
    )


def feed_health(conn: Conn, include_removed: bool = False) -> list[dict[str, Any]]:
    where = "" if include_removed else " WHERE health <> 'removed'"
    cursor = conn.execute(f"SELECT * FROM feed_health{where}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def robots_rules(conn: Conn, origins: list[str]) -> dict[str, RobotsTxt]:
    if not origins:
        return {}
    rows = conn.execute(
        "SELECT origin, fetched_at, status, body FROM robots_txt WHERE origin = ANY($1)",
        [origins],
    ).fetchall()
    return {row[0]: RobotsTxt(*row) for row in rows}


def save_robots_rules(conn: Conn, rules: list[RobotsTxt]) -> None:
    for r in rules:
        conn.execute(
            "INSERT OR REPLACE INTO robots_txt (origin, fetched_at, status, body) "
            "VALUES (?, ?, ?, ?)",
            [r.origin, r.fetched_at, r.status, r.body],
        )
