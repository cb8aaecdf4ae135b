"""prefect.yaml end to end: a real `prefect server`, `prefect deploy --all`, a process worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import HARBOR, ROOT, free_port, query
from newsmon.samplesite import SiteServer

PREFECT = [sys.executable, "-m", "prefect"]

pytestmark = pytest.mark.slow  # a real Prefect server and worker


@pytest.fixture
def prefect_env(tmp_path: Path, site: SiteServer) -> Iterator[dict[str, str]]:
    """A real Prefect server of our own, on 127.0.0.1, and the environment that talks to it."""
    port = free_port()
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nurl = "{site.base_url}{HARBOR}"\nname = "Harbor"\n')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        # The scheduler looks for deployments to schedule every 60 s by default.
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "NEWSMON_FEEDS": str(feeds),
        "NEWSMON_DB": str(tmp_path / "deployed.duckdb"),
        "NEWSMON_DIGEST_DIR": str(tmp_path / "digests"),
    }
    server = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "prefect server did not start in 90 s"
            time.sleep(0.5)
        yield env
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    result = subprocess.run(
        [*PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_scheduled_runs_are_created_by_the_server_and_run_by_a_worker(
    prefect_env: dict[str, str],
) -> None:
    """The schedule itself: the server's scheduler creates the runs of a deployment on a
    one-minute cron, and a process worker executes them (nobody triggers a run)."""
    env = prefect_env
    api = env["PREFECT_API_URL"]
    prefect(env, "work-pool", "create", "newsmon", "--type", "process")
    deployed = prefect(env, "--no-prompt", "deploy", "--all")
    for name in ("poll-feeds/poll-feeds", "digest/digest", "backfill/backfill"):
        assert name in deployed

    schedule = prefect(env, "deployment", "inspect", "poll-feeds/poll-feeds")
    assert "*/15 * * * *" in schedule and "'newsmon'" in schedule
    assert "5 * * * *" in prefect(env, "deployment", "inspect", "digest/digest")
    # The same deployment, on a cron short enough for a test.
    prefect(
        env, "deployment", "schedule", "create", "poll-feeds/poll-feeds",
        "--cron", "* * * * *", "--timezone", "UTC", "--replace", "--accept-yes",
    )  # fmt: skip
    deployment_id = httpx.get(f"{api}/deployments/name/poll-feeds/poll-feeds").json()["id"]

    worker = subprocess.Popen(
        [*PREFECT, "worker", "start", "--pool", "newsmon"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        scheduled = wait_for_scheduled_run(api, deployment_id, timeout=200)
        prefect(env, "deployment", "schedule", "clear", "poll-feeds/poll-feeds", "--accept-yes")
        drain(api, deployment_id)  # a later minute's run may have started meanwhile
        digested = prefect(
            env, "deployment", "run", "digest/digest", "--watch", "--watch-timeout", "240"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    assert scheduled["auto_scheduled"] and scheduled["state_type"] == "COMPLETED", scheduled
    assert "Completed" in digested, digested

    db = Path(env["NEWSMON_DB"])
    assert query(db, "SELECT count(*) FROM articles WHERE status = 'ok' AND NOT is_seed") == [(3,)]
    assert (scheduled["id"],) in query(db, "SELECT id FROM poll_runs")
    # The digest carried every development the poll found, and wrote its feed.
    assert (
        query(db, "SELECT sum(developments) FROM digests")
        == query(db, "SELECT count(*) FROM developments")
        != [(0,)]
    )
    assert (Path(env["NEWSMON_DIGEST_DIR"]) / "developments.atom").exists()


def drain(api: str, deployment_id: str, timeout: float = 180) -> None:
    """Delete the deployment's runs not started yet; wait for those started to finish."""
    deadline = time.monotonic() + timeout
    filter_runs = {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api}/flow_runs/filter", json=filter_runs).json()
        for run in runs:
            if run["state_type"] == "SCHEDULED":
                httpx.delete(f"{api}/flow_runs/{run['id']}")
        if not any(r["state_type"] in ("PENDING", "RUNNING") for r in runs):
            return
        time.sleep(2)
    raise AssertionError("the deployment's runs did not finish")


def wait_for_scheduled_run(api: str, deployment_id: str, timeout: float) -> dict[str, object]:
    """The first run the scheduler created for the deployment, once it is final."""
    deadline = time.monotonic() + timeout
    query_runs = {
        "flow_runs": {"deployment_id": {"any_": [deployment_id]}},
        "sort": "EXPECTED_START_TIME_ASC",
    }
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api}/flow_runs/filter", json=query_runs).json()
        final = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED")]
        if final:
            return dict(final[0])
        time.sleep(2)
    raise AssertionError(f"no scheduled run finished in {timeout:g}s: {runs}")
