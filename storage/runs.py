"""Statements on runs: poll_runs, and the backfill_progress and backfill_skips of a backfill."""

from __future__ import annotations

from typing import Any

from newsmon.records import BackfillProgress
from storage.db import Conn


def backfill_progress(conn: Conn, source: str) -> tuple[int, int, int, bool]:
    """(position, records, stored, finished) of a backfill source; zeros when it is new."""
    row = conn.execute(
        "SELECT position, records, stored, finished_at IS NOT NULL FROM backfill_progress "
        "WHERE source = ?",
        [source],
    ).fetchone()
    return (row[0], row[1], row[2], row[3]) if row else (0, 0, 0, False)


def save_backfill_progress(conn: Conn, progress: BackfillProgress) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO backfill_progress "
        "(source, position, records, stored, finished_at, updated_at) "
        "VALUES (?, ?, ?, ?, CASE WHEN ? THEN now() END, now())",
        [progress.source, progress.position, progress.records, progress.stored, progress.finished],
    )
    for skip in progress.skipped:
        conn.execute(
            'INSERT OR REPLACE INTO backfill_skips (source, "offset", length, reason, skipped_at) '
            "VALUES (?, ?, ?, ?, now())",
            [progress.source, skip.offset, skip.length, skip.reason],
        )


def run_recorded(conn: Conn, run_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM poll_runs WHERE id = ?", [run_id]).fetchone()
    return row is not None


def record_run(conn: Conn, row: dict[str, Any]) -> None:
    names = list(row)
    conn.execute(
        f"INSERT INTO poll_runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [row[name] for name in names],
    )


def last_runs(conn: Conn, limit: int = 5) -> list[dict[str, Any]]:
    cursor = conn.execute("SELECT * FROM poll_runs ORDER BY started_at DESC LIMIT ?", [limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def add_developments(conn: Conn, run_id: str, developments: int) -> None:
    """Credit a run with the developments its analysis step found."""
    conn.execute(
        "UPDATE poll_runs SET developments = developments + ? WHERE id = ?", [developments, run_id]
    )
