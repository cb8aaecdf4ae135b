"""One pipeline run at a time per database, whoever starts it (cron, `newsmon serve`, a worker).

An exclusive flock on `<database>.lock`: the kernel releases it when the holder
exits, even after kill -9, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from newsmon.errors import NewsmonError


class RunLockedError(NewsmonError):
    """Another run holds the database's run lock."""


def lock_path(db_path: Path) -> Path:
    """data/newsmon.duckdb -> data/newsmon.duckdb.lock"""
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def run_lock(db_path: Path, run: str) -> Iterator[None]:
    """Hold the run lock of `db_path` for the block; RunLockedError names the holder."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            raise RunLockedError(
                f"{holder} is still running on {db_path}; this run is skipped and the next "
                "scheduled one picks up whatever it misses"
            ) from None
        try:
            file.seek(0)
            file.truncate()
            file.write(
                f"{run} (PID {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)"
            )
            file.flush()
            yield
        finally:
            file.seek(0)
            file.truncate()
            fcntl.flock(file, fcntl.LOCK_UN)
