"""Connections, the migrator, and transactions for the DuckDB file.

DuckDB lets one process write a file at a time, and analysts keep the file
open, so the pipeline opens its connection only for short units of work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from newsmon.errors import NewsmonError

log = logging.getLogger(__name__)
SQL_ROOT = resources.files("storage")


class DatabaseError(NewsmonError):
    """The DuckDB file could not be opened or migrated."""


class DatabaseLockedError(DatabaseError):
    """Another process holds the DuckDB file."""


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """An open connection to `path`, closed on exit; the folder is created if needed."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLockedError(
                f"{path} is locked by another process ({exc}). Close other writers, and open "
                "the file for analysis with read_only=True or `duckdb -readonly`."
            ) from None
        raise DatabaseError(f"Could not open {path}: {exc}") from None
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


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
