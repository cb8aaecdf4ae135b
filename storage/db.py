"""Connections, the migrator, and transactions for the DuckDB file.

DuckDB lets one process write a file at a time, and analysts keep the file
open, so the pipeline opens its connection only for short units of work.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from newsmon.errors import DatabaseError, DatabaseLockedError
from newsmon.settings import Settings

Conn = duckdb.DuckDBPyConnection

log = logging.getLogger(__name__)
SQL_ROOT = resources.files("storage")
# The storage format new files are written in: DuckDB 1.5's, which the duckdb-cli 1.5 that
# analysts install from the package registry reads (DuckDB 2.0's own format it cannot).
STORAGE_VERSION = "v1.5.0"
# Migrations whose rows need Python (the URL rules live in extractors/normalize.py): run in
# the migration's transaction, right after its SQL; imported only when one is pending.
DATA_STEPS = {"006_canonical_urls.sql": "storage.articles:recanonicalize_urls"}


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, wait: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An open connection to `path`, closed on exit; the folder is created if needed.

    While another process holds the file, retries with growing pauses for up to
    `wait` seconds (saying so once in the log), then raises DatabaseLockedError.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = (
        {} if read_only else {"storage_compatibility_version": STORAGE_VERSION}
    )
    deadline = time.monotonic() + wait
    pause = 0.05
    waiting = False
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only, config=config)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise DatabaseError(f"Could not open {path}: {exc}") from None
            if time.monotonic() + pause > deadline:
                raise DatabaseLockedError(_locked_message(path, wait, exc, read_only)) from None
            if not waiting:
                waiting = True
                log.warning("%s is %s; waiting up to %gs for it", path, _holder(exc), wait)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


def _locked_message(path: Path, wait: float, exc: duckdb.IOException, read_only: bool) -> str:
    if read_only:
        return (
            f"{path} is being written ({_holder(exc)}) and stayed so for {wait:g}s; "
            f"try again in a moment, or read the Parquet snapshot in {snapshot_dir(path)}"
        )
    return (
        f"{path} stayed locked for {wait:g}s ({_holder(exc)}); "
        "even a read-only connection blocks the writer, so analysts should close "
        "theirs between queries or read the Parquet snapshot"
    )


def snapshot_dir(db_path: Path) -> Path:
    """data/newsmon.duckdb -> data/newsmon.snapshot (storage/snapshot.py writes it: a symlink
    to the current version)."""
    return db_path.with_suffix(".snapshot")


@contextmanager
def open_database(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The pipeline's write connection: waits out a lock for NEWSMON_LOCK_WAIT, then migrates."""
    with connect(settings.db_path, wait=settings.lock_wait) as conn:
        if _written_by_duckdb_2(conn):
            conn.close()
            convert_to_compatible(settings.db_path)
            with connect(settings.db_path, wait=settings.lock_wait) as converted:
                migrate(converted)
                yield converted
            return
        migrate(conn)
        yield conn


@contextmanager
def open_reader(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for the reading commands: never migrates, never blocks a
    writer for longer than the command takes. Says in one line what to do when the file
    is missing, locked, or older than this version of newsmon."""
    path = settings.db_path
    if not path.exists():
        raise DatabaseError(f"no database at {path} yet; run `newsmon poll` first")
    with connect(path, read_only=True, wait=settings.lock_wait) as conn:
        missing = _pending_migrations(conn)
        if missing:
            raise DatabaseError(
                f"{path} has not been upgraded to this version of newsmon yet (missing "
                f"{', '.join(missing)}); the next `newsmon poll` upgrades it"
            )
        yield conn


def _pending_migrations(conn: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        rows = conn.execute("SELECT name FROM schema_migrations").fetchall()
    except duckdb.CatalogException:
        rows = []
    applied = {row[0] for row in rows}
    return [name.removesuffix(".sql") for name, _ in _sql_files("schema") if name not in applied]


def _written_by_duckdb_2(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchone()
    return bool(row and row[0] and str(row[0]).startswith("v2"))


def convert_to_compatible(path: Path) -> Path:
    """Rewrite a file DuckDB 2.0 wrote in its own format into STORAGE_VERSION, once.

    The copy is made beside the file and swapped in with a rename; the original stays
    as <name>.duckdb2-backup.duckdb until an operator deletes it. Returns the backup.
    """
    converting = path.with_name(path.name + ".converting")
    backup = path.with_name(f"{path.stem}.duckdb2-backup{path.suffix}")
    converting.unlink(missing_ok=True)
    with connect(path) as conn:
        (name,) = conn.execute("SELECT current_database()").fetchone() or ("main",)
        target = str(converting).replace("'", "''")
        conn.execute(f"ATTACH '{target}' AS converted (STORAGE_VERSION '{STORAGE_VERSION}')")
        conn.execute(f'COPY FROM DATABASE "{name}" TO converted')
        conn.execute("DETACH converted")
    backup.unlink(missing_ok=True)
    os.link(path, backup)
    os.replace(converting, path)
    log.warning(
        "converted %s to DuckDB %s's storage format, which analysts' duckdb-cli reads; "
        "the original is kept as %s: delete it once you are satisfied",
        path,
        STORAGE_VERSION,
        backup,
    )
    return backup


def _holder(exc: duckdb.IOException) -> str:
    """'held by PID 1234' from DuckDB's lock message, which names the process."""
    match = re.search(r"PID (\d+)", str(exc))
    return f"held by PID {match.group(1)}" if match else "held by another process"


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
            if name in DATA_STEPS:
                module, function = DATA_STEPS[name].split(":")
                getattr(importlib.import_module(module), function)(conn)
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


def insert_columns(conn: Conn, table: str, columns: Mapping[str, Sequence[Any]]) -> int:
    """Bulk insert: one statement, each column passed as a list and unnested.

    Much cheaper than executemany (which does a few hundred rows a second).
    """
    names = list(columns)
    rows = len(columns[names[0]]) if names else 0
    if rows == 0:
        return 0
    select = ", ".join(f"unnest(${i + 1})" for i in range(len(names)))
    conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {select}",
        [list(columns[name]) for name in names],
    )
    return rows
