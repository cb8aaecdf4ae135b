"""Parquet copies of the public tables, so analysts can query while the pipeline writes.

DuckDB lets no other process open the file while the pipeline writes, and any
connection that stays open blocks the pipeline; the snapshot has neither problem.

Each export is one consistent state of the database: a new folder under
.<name>.snapshots/, written whole with a `snapshot.json` that says which run and
schema it reflects, then switched in by replacing the `<name>.snapshot` symlink
(an atomic rename). A run killed half-way leaves the previous snapshot as it was;
the next export compares every table with the current one, so nothing stays stale.
Files of tables that did not change are hard links to the previous version's.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from storage.db import schema_version, snapshot_dir

log = logging.getLogger(__name__)

TABLES = (
    "feeds",
    "poll_runs",
    "articles",
    "stories",
    "story_edits",
    "developments",
    "facts",
    "figures",
    "digests",
    "digest_items",
    "deliveries",
    "backfill_progress",
)
# Views are exported too, for readers of the Parquet files alone; the tables each reads
# (a view whose tables did not change is linked, not computed again). feed_health reads
# now(), so it is written every time.
VIEWS = {
    "duplicates": ("articles",),
    "story_summary": ("stories", "articles", "developments"),
    "figure_changes": ("figures", "articles"),
    "feed_health": None,
}
STATE_FILE = "snapshot.json"
VIEWS_FILE = "views.sql"
KEEP_SECONDS = 3600  # older versions are removed after this; open readers keep theirs till then


def versions_dir(db_path: Path) -> Path:
    """data/newsmon.duckdb -> data/.newsmon.snapshots/"""
    return db_path.with_name(f".{db_path.stem}.snapshots")


def export(conn: duckdb.DuckDBPyConnection, db_path: Path, run_id: str | None) -> Path:
    """Write a new snapshot version and switch to it; returns its folder."""
    link = snapshot_dir(db_path)
    previous = _current(link)
    before = _state(previous)
    versions = versions_dir(db_path)
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    folder = versions / f"{stamp:%Y%m%dT%H%M%S.%f}Z"
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()

    fingerprints = {name: _fingerprint(conn, name) for name in TABLES}
    rows: dict[str, int] = {}
    for name in TABLES:
        reuse = previous is not None and before.get("fingerprints", {}).get(name) == list(
            fingerprints[name]
        )
        _write(conn, name, partial, previous if reuse else None)
        rows[name] = fingerprints[name][0]
    changed = {n for n in TABLES if before.get("fingerprints", {}).get(n) != list(fingerprints[n])}
    for name, reads in VIEWS.items():
        reuse = previous is not None and reads is not None and not changed.intersection(reads)
        _write(conn, name, partial, previous if reuse else None)

    state = {
        "exported_at": stamp.isoformat(),
        "run_id": run_id,
        "schema_version": schema_version(conn),
        "rows": rows,
        "fingerprints": {name: list(fp) for name, fp in fingerprints.items()},
    }
    (partial / VIEWS_FILE).write_text(views_sql(folder), encoding="utf-8")
    _write_synced(partial / STATE_FILE, json.dumps(state, indent=2))
    os.replace(partial, folder)
    _switch(link, folder)
    _prune(versions, keep={folder, previous})
    return folder


def views_sql(folder: Path) -> str:
    """Every table as a view over its Parquet file, then the documented views over those:
    `.read data/newsmon.snapshot/views.sql` in duckdb-cli gives the README's queries."""
    lines = [
        "-- The newsmon tables and views over this snapshot's Parquet files.",
        "-- duckdb-cli: .read data/newsmon.snapshot/views.sql   (Python: con.execute(open(...)))",
    ]
    for name in TABLES:
        path = str((folder / f"{name}.parquet").resolve()).replace("'", "''")
        lines.append(f"CREATE OR REPLACE VIEW {name} AS FROM '{path}';")
    views = resources.files("storage").joinpath("views")
    for file in sorted(views.iterdir(), key=lambda f: f.name):
        if file.name.endswith(".sql"):
            lines.append(file.read_text(encoding="utf-8").strip())
    return "\n".join(lines) + "\n"


def _fingerprint(conn: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int]:
    """(rows, a hash of every row): equal fingerprints mean the same table content."""
    row = conn.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {name} AS t").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _write(conn: duckdb.DuckDBPyConnection, name: str, folder: Path, previous: Path | None) -> None:
    target = folder / f"{name}.parquet"
    if previous is not None and (previous / target.name).exists():
        os.link(previous / target.name, target)
        return
    quoted = str(target).replace("'", "''")
    conn.execute(f"COPY (SELECT * FROM {name}) TO '{quoted}' (FORMAT parquet, CODEC zstd)")


def _current(link: Path) -> Path | None:
    """The version folder the link points at; None before the first snapshot."""
    if link.is_symlink():
        target = link.resolve()
        return target if target.is_dir() else None
    return None


def _state(folder: Path | None) -> dict[str, dict[str, list[int]]]:
    if folder is None:
        return {}
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _switch(link: Path, folder: Path) -> None:
    """Point `link` at `folder` in one rename. A snapshot folder of an older newsmon (a plain
    directory) is moved aside into the versions folder first."""
    if link.exists() and not link.is_symlink():
        os.replace(link, folder.parent / f"{folder.name}.before")
    temporary = link.with_name(f".{link.name}.switching")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(os.path.relpath(folder, link.parent))
    os.replace(temporary, link)


def _prune(versions: Path, keep: set[Path | None]) -> None:
    """Remove versions older than KEEP_SECONDS, and leftovers of interrupted exports."""
    now = time.time()
    for entry in versions.iterdir():
        if entry in keep:
            continue
        leftover = entry.name.endswith(".partial")
        if leftover or now - entry.stat().st_mtime > KEEP_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
