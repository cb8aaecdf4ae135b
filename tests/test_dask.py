"""Scale-out: the same poll on a local Dask cluster of two worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import GULF, HARBOR, ROOT, contents


@pytest.fixture
def dask_scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_a_poll_on_dask_stores_what_the_default_runner_stores(
    poll, db_path: Path, tmp_path: Path, feeds_file, dask_scheduler: str
) -> None:
    from prefect.settings import get_current_settings

    poll(HARBOR, GULF, "/faults/pages.xml")  # threads, in this process: the reference

    on_dask = tmp_path / "dask.duckdb"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "NEWSMON_DASK_ADDRESS": dask_scheduler,
        "NEWSMON_FAN_OUT": "2",
    }
    feeds = str(feeds_file(HARBOR, GULF, "/faults/pages.xml"))
    result = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "poll", "--feeds", feeds, "--db", str(on_dask)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Connecting to an existing Dask cluster at {dask_scheduler}" in result.stderr
    assert contents(on_dask) == contents(db_path)
