"""Connections, the migrator, and transactions for the DuckDB file.

DuckDB lets one process write a file at a time, and analysts keep the file
open, so the pipeline opens its connection only for short units of work.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from newsmon.errors import DatabaseError, DatabaseLockedError
from newsmon.settings import Settings

log = logging.getLogger(__name__)
SQL_ROOT = resources.files("storage")


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, wait: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An open connection to `path`, closed on exit; the folder is created if needed.

    While another process holds the file, retries with growing pauses for up to
    `wait` seconds, then raises DatabaseLockedError.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise DatabaseError(f"Could not open {path}: {exc}") from None
            if time.monotonic() + pause > deadline:
                raise DatabaseLockedError(
                    f"{path} stayed locked by another process for {wait:g}s ({_holder(exc)}); "
                    "even a read-only connection blocks the writer, so analysts should close "
                    "theirs between queries or read the Parquet snapshot"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


@contextmanager
def open_database(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The pipeline's write connection: waits out a lock for NEWSMON_LOCK_WAIT, then migrates."""
    with connect(settings.db_path, wait=settings.lock_wait) as conn:
        migrate(conn)
        yield conn


def _holder(exc: duckdb.IOException) -> str:
    """'held by PID 1234' from DuckDB's lock message, which names the process."""
    match = re.search(r"PID (\d+)", str(exc))
    return f"held by PID {match.group(1)}" if match else "lock conflict"


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK when the block raises."""
    conn.begin()
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the schema files not applied yet, each in one transaction with its record.

    Idempotent: runs at the start of every flow. Views are re-created afterwards,
    so a view changed in storage/views/ takes effect on the next run.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations").fetchall()}
    newly: list[str] = []
    for name, sql in _sql_files("schema"):
        if name in applied:
            continue
        with transaction(conn):
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
        log.info("applied migration %s", name)
        newly.append(name)
    for _, sql in _sql_files("views"):
        conn.execute(sql)
    return newly


def schema_version(conn: duckdb.DuckDBPyConnection) -> str | None:
    row = conn.execute("SELECT max(name) FROM schema_migrations").fetchone()
    return row[0] if row else None


def run_checks(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each storage/checks/*.sql selects the rows that break an invariant: 0 is good."""
    return {
        name.removesuffix(".sql"): len(conn.execute(sql).fetchall())
        for name, sql in _sql_files("checks")
    }


def _sql_files(folder: str) -> list[tuple[str, str]]:
    files = [f for f in SQL_ROOT.joinpath(folder).iterdir() if f.name.endswith(".sql")]
    return [(f.name, f.read_text(encoding="utf-8")) for f in sorted(files, key=lambda f: f.name)]
