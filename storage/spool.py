"""A run's records kept on local disk while the database stays locked; the next run stores them.

Files are written whole (temporary name, fsync, rename) and removed only after
their transaction commits; storing a file twice changes nothing, so a crash at
any point loses nothing and stores nothing twice.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import duckdb

from newsmon.errors import DatabaseError
from newsmon.records import RunRecords, RunReport
from storage.analysis import analyse_run
from storage.writer import store_run

log = logging.getLogger(__name__)
# Bump when RunRecords changes shape (4: the records moved to newsmon/records.py; 5: pages
# without text keep what they declared, PageResult.declared). Format 4 still reads.
FORMAT = 5


def spool_dir(db_path: Path) -> Path:
    """data/newsmon.duckdb -> data/newsmon.duckdb.spool/"""
    return db_path.with_name(db_path.name + ".spool")


def write(records: RunRecords, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{records.report.run_id}.pickle"
    partial = path.with_suffix(".partial")
    with partial.open("wb") as file:
        pickle.dump((FORMAT, records), file, protocol=pickle.HIGHEST_PROTOCOL)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
    return path


def pending(folder: Path) -> list[Path]:
    """Spooled runs, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime)


def ingest(conn: duckdb.DuckDBPyConnection, folder: Path, feed_backoff: float) -> list[RunReport]:
    """Store every spooled run, oldest first, each in its own transaction.

    A file that cannot be stored is logged and left in place; the others go on.
    """
    stored: list[RunReport] = []
    for path in pending(folder):
        try:
            records = _load(path)
            stored.append(analyse_run(conn, store_run(conn, records, feed_backoff), records.topic))
        except Exception as exc:  # whatever it is, the file is kept and the others go on
            log.error(
                "could not store the spooled run %s (%s: %s); it stays for a later run",
                path,
                type(exc).__name__,
                exc,
            )
            continue
        path.unlink()
        log.info("stored the spooled run from %s", path)
    return stored


def _load(path: Path) -> RunRecords:
    try:
        with path.open("rb") as file:
            version, records = pickle.load(file)  # written by write() above: (FORMAT, RunRecords)
    except (ImportError, AttributeError, TypeError, KeyError, ValueError) as exc:
        # Classes that moved or changed shape since: an earlier version wrote it.
        raise DatabaseError(
            f"{path} was spooled by another version of newsmon ({type(exc).__name__}: {exc}); "
            "run that version once to store it, or move the file away"
        ) from exc
    if version not in (4, FORMAT):
        raise DatabaseError(
            f"{path} was spooled by another version of newsmon (format {version}, this one "
            f"reads {FORMAT}); run that version once to store it, or move the file away"
        )
    if not isinstance(records, RunRecords):
        raise DatabaseError(f"{path} holds no spooled run; move the file away")
    return _from_format_4(records) if version == 4 else records


def _from_format_4(records: RunRecords) -> RunRecords:
    """Format 4 pages have no `declared` slot: fill it in as it would have been (none)."""
    for page in records.batch.pages:
        if not hasattr(page, "declared"):
            object.__setattr__(page, "declared", None)  # frozen: set as unpickling does
    return records
