"""The `newsmon` command as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import HARBOR, NEWSMON, ROOT, newsmon, query
from newsmon.cli import _parser
from newsmon.samplesite import SiteServer
from newsmon.settings import Settings


@pytest.mark.slow
def test_poll_as_a_subprocess(tmp_path: Path, site: SiteServer) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        f'[[feeds]]\nurl = "{site.base_url}{HARBOR}"\nname = "Harbor"\n'
        f'[[feeds]]\nurl = "{site.base_url}/faults/error.xml"\nname = "Broken"\n'
    )
    db = tmp_path / "cli.duckdb"

    result = newsmon("poll", "--feeds", str(feeds), "--db", str(db))

    assert result.returncode == 0, result.stderr
    assert "2 feeds polled (1 failed" in result.stdout
    assert "is a near copy of seed 000_cbb868c4a7457886.txt" in result.stdout
    assert "HTTP 500" in result.stdout  # the failing feed is reported, not fatal
    assert query(db, "SELECT count(*) FROM articles WHERE NOT is_seed") == [(3,)]

    status = newsmon("status", "--db", str(db), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["articles"]["originals"] == 2 and data["articles"]["near_duplicates"] == 1
    assert {feed["name"]: feed["health"] for feed in data["feeds"]} == {
        "Harbor": "ok",
        "Broken": "backing off",
    }
    table = newsmon("status", "--db", str(db))
    assert "backing off  Broken" in table.stdout and "HTTP 500" in table.stdout


def test_bad_feeds_file_fails_fast_in_one_line(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feeds]]\nurl = "https://a.example/rss"\ninterval = 5\n')
    result = newsmon("poll", "--feeds", str(feeds), "--db", str(tmp_path / "x.duckdb"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"newsmon: {feeds}:3: unknown key 'interval' in feed #1; allowed keys: name, url"
    )
    assert not (tmp_path / "x.duckdb").exists()


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = newsmon("poll", env={"NEWSMON_MAX_IN_FLIGHT": "many"})
    assert result.returncode == 2
    assert "NEWSMON_MAX_IN_FLIGHT='many' is not valid" in result.stderr


def test_status_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    result = newsmon("status", "--db", str(tmp_path / "none.duckdb"))
    assert result.returncode == 1 and "run `newsmon poll` first" in result.stderr


def test_settings_lists_every_variable() -> None:
    result = newsmon("settings")
    assert result.returncode == 0
    for variable, _ in Settings.documented():
        assert f"\n{variable}=" in "\n" + result.stdout


OPERATING = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
SETTINGS = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(_parser()._subparsers._group_actions[0].choices))
def test_every_command_has_help_and_is_documented(command: str) -> None:
    assert newsmon(command, "--help").returncode == 0
    assert f"newsmon {command}" in OPERATING


@pytest.mark.parametrize("variable", [v for v, _ in Settings.documented()])
def test_every_setting_is_documented(variable: str) -> None:
    assert f"`{variable}`" in SETTINGS


def test_serve_registers_its_own_deployments_and_leaves_deploys_alone(prefect_api: None) -> None:
    """`newsmon serve` runs <flow>/served on prefect.yaml's schedules; Ctrl-C pauses those
    only, never the deployment `prefect deploy` made (poll-feeds/poll-feeds)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from flows.poll import poll_feeds
    from newsmon.deployments import schedules

    deployed_id = poll_feeds.to_deployment(name="poll-feeds").apply()
    cron = schedules()["poll-feeds"][0]["cron"]
    env = {
        **os.environ,
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "PYTHONUNBUFFERED": "1",  # its lines reach the pipe as they are printed
    }
    server = subprocess.Popen(
        [*NEWSMON, "serve"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    watchdog = threading.Timer(180, server.kill)  # never hang the suite on a silent pipe
    watchdog.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            with get_client(sync_client=True) as client:
                try:
                    deployment = client.read_deployment_by_name("poll-feeds/served")
                    digest = client.read_deployment_by_name("digest/served")
                    break
                except Exception:  # not registered yet
                    assert server.poll() is None, server.stdout.read() if server.stdout else ""
                    assert time.monotonic() < deadline, "newsmon serve registered nothing"
                    time.sleep(0.5)
        assert server.stdout is not None
        for line in server.stdout:  # the runner is about to start once it says so
            if b"being served" in line:
                break
        time.sleep(5)  # ...and has entered its loop, which pauses on the way out
    finally:
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends
        server.wait(timeout=60)
        watchdog.cancel()
    assert [s.schedule.cron for s in deployment.schedules] == [cron] == ["*/15 * * * *"]
    assert [s.schedule.cron for s in digest.schedules] == ["5 * * * *"]
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name("poll-feeds/served").paused
        untouched = client.read_deployment(deployed_id)
    assert untouched.name == "poll-feeds" and not untouched.paused
