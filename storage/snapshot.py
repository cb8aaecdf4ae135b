"""Parquet copies of the public tables, so analysts can query while the pipeline writes.

DuckDB lets no other process open the file while the pipeline writes, and any
connection that stays open blocks the pipeline; the snapshot has neither problem.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

SMALL = ("feeds", "feed_health", "poll_runs")  # exported after every run
# Exported when the run stored articles.
LARGE = ("articles", "duplicates", "stories", "developments", "figures", "figure_changes")


def snapshot_dir(db_path: Path) -> Path:
    """data/newsmon.duckdb -> data/newsmon.snapshot/"""
    return db_path.with_suffix(".snapshot")


def export(conn: duckdb.DuckDBPyConnection, folder: Path, *, articles_changed: bool) -> list[Path]:
    """Write each relation to <name>.parquet, replacing the old file atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in SMALL + LARGE:
        path = folder / f"{name}.parquet"
        if name in LARGE and path.exists() and not articles_changed:
            continue
        partial = folder / f".{name}.parquet.partial"
        target = str(partial).replace("'", "''")
        conn.execute(f"COPY (SELECT * FROM {name}) TO '{target}' (FORMAT parquet, CODEC zstd)")
        os.replace(partial, path)
        written.append(path)
    return written
