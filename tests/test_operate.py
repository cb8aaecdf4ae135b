"""Running unattended: settings checked before anything runs, failures that look like
failures (exit code, Prefect state, status), and files analysts' own tools can read."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from conftest import (
    GULF,
    HARBOR,
    NEWSMON,
    ROOT,
    Inbox,
    free_port,
    held,
    newsmon,
    query,
)
from newsmon.samplesite import SiteServer
from storage.db import SQL_ROOT, STORAGE_VERSION, open_database, snapshot_dir

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The one stderr line of a command that refused to run; fails on a traceback."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("newsmon:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- settings checked before anything runs ---------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NEWSMON_TIMOUT", "5", "did you mean NEWSMON_TIMEOUT?"),
        ("NEWSMON_DB", "", "NEWSMON_DB='' is not valid: expected a path"),
        ("NEWSMON_PER_HOST", "0", "NEWSMON_PER_HOST='0' is not valid"),
        ("NEWSMON_SEEDS", "/nonexistent/seeds", "no such folder"),
        ("NEWSMON_NOTIFY_URLS", "jsn://127.0.0.1/hook?token=secret", "not one apprise can send to"),
    ],
)
def test_a_wrong_setting_stops_the_poll_before_anything_is_fetched(
    tmp_path: Path, site: SiteServer, feeds_file, variable: str, value: str, expected: str
) -> None:
    before = site.requests[HARBOR]
    result = newsmon(
        "poll", "--feeds", str(feeds_file(HARBOR)), "--db", str(tmp_path / "x.duckdb"),
        env={variable: value},
    )  # fmt: skip
    line = one_line_error(result)
    assert expected in line and "secret" not in result.stderr + result.stdout
    assert site.requests[HARBOR] == before and not (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "no feeds to poll"),
        ('[[feeds]]\nurl = "http://127.0.0.1:9/x"\n[topic]\nkeywrds = ["gaza"]\n', "'keywrds'"),
        ('[[feeds]]\nurl = "http://127.0.0.1:9/x"\n[topic]\nmin_relevance = "high"\n', "0 to 1"),
    ],
)
def test_a_wrong_feeds_file_is_one_line(tmp_path: Path, content: str, expected: str) -> None:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(content, encoding="utf-8")
    line = one_line_error(newsmon("poll", "--feeds", str(feeds), "--db", str(tmp_path / "x.db")))
    assert expected in line and str(feeds) in line


def test_settings_hides_a_wrong_secret_and_names_it() -> None:
    result = newsmon("settings", env={"NEWSMON_NOTIFY_URLS": "json://ok.example/x badscheme://t0k"})
    line = one_line_error(result)
    assert "URL #2" in line and "t0k" not in line and "ok.example" not in line


# --- failures look like failures ---------------------------------------------------------------


@pytest.mark.slow
def test_a_poll_where_every_feed_fails_exits_1_and_says_what_to_do(
    tmp_path: Path, fault, feeds_file
) -> None:
    fault("/down-a.xml", status=503)
    fault("/down-b.xml", reset=True)
    feeds, db = str(feeds_file("/down-a.xml", "/down-b.xml")), str(tmp_path / "down.duckdb")
    first = newsmon("poll", "--feeds", feeds, "--db", db, env={"NEWSMON_RETRIES": "0"})
    assert first.returncode == 1 and "every feed polled failed (2 of 2)" in first.stderr
    assert "Problems" in first.stdout and "HTTP 503" in first.stdout

    second = newsmon("poll", "--feeds", feeds, "--db", db)  # both back off now
    assert second.returncode == 1 and "no feed was polled" in second.stderr
    assert second.stdout.count("backing off after 1 failures, next try") == 2
    assert "Problems: none" not in second.stdout


@pytest.mark.slow
def test_a_partly_failed_poll_stays_green_and_lists_its_problems(
    tmp_path: Path, fault, feeds_file
) -> None:
    fault("/down.xml", status=500)
    feeds = str(feeds_file("/down.xml", HARBOR))
    db = str(tmp_path / "partly.duckdb")
    result = newsmon("poll", "--feeds", feeds, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "2 feeds polled (1 failed" in result.stdout and "HTTP 500" in result.stdout
    status = newsmon("status", "--db", db)
    row = next(line for line in status.stdout.splitlines() if "/down.xml" in line)
    assert "HTTP 500" in row and "..." not in row  # the reason, not the URL cut short


def test_the_flow_run_of_a_failed_poll_is_failed_in_prefect(
    prefect_api: None, tmp_path: Path, fault, feeds_file
) -> None:
    from flows.poll import poll_feeds

    fault("/down.xml", status=404)
    state = poll_feeds(
        feeds_file=str(feeds_file("/down.xml")),
        db_path=str(tmp_path / "f.duckdb"),
        return_state=True,
    )
    assert state.is_failed() and "every feed polled failed" in str(state.message)


def test_a_digest_whose_channel_fails_is_failed_in_prefect_and_can_be_resent(
    prefect_api: None, poll, db_path: Path, monkeypatch, tmp_path: Path, capsys
) -> None:
    from flows.digest import digest
    from newsmon.cli import main

    monkeypatch.setenv("NEWSMON_DIGEST_DIR", str(tmp_path / "digests"))
    poll(HARBOR, GULF)
    monkeypatch.setenv("NEWSMON_NOTIFY_URLS", "json://127.0.0.1:9/hook")  # nothing listens
    state = digest(db_path=str(db_path), return_state=True)
    assert state.is_failed() and "json://127.0.0.1:9" in str(state.message)
    digest_id = query(db_path, "SELECT digest_id FROM digests")[0][0]

    box = Inbox()  # the operator fixes the URL: a new channel
    try:
        monkeypatch.setenv("NEWSMON_NOTIFY_URLS", box.url)
        assert main(["digest", "--resend", digest_id, "--db", str(db_path)]) == 0
        assert len(box.posts) == 1 and box.posts[0]["digest"]["digest_id"] == digest_id
        assert main(["digest", "--resend", digest_id, "--db", str(db_path)]) == 0
        assert len(box.posts) == 1  # received already: not sent twice
    finally:
        box.close()
    capsys.readouterr()
    assert main(["status", "--db", str(db_path)]) == 0
    assert "failed_deliveries=1" in capsys.readouterr().out  # the old channel's, until...
    assert main(["digest", "--abandon-removed", "--db", str(db_path)]) == 0
    assert "1 deliveries" in capsys.readouterr().out
    assert main(["status", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "failed_deliveries=0" in out and "abandoned_deliveries=1" in out


def test_feeds_removed_from_the_file_leave_the_health_table(
    poll, db_path: Path, fault, capsys
) -> None:
    from newsmon.cli import main

    fault("/retired.xml", status=500)
    poll(HARBOR, "/retired.xml")
    poll(HARBOR)  # the operator took it out of the feeds file
    capsys.readouterr()
    assert main(["status", "--db", str(db_path)]) == 0
    shown = capsys.readouterr().out
    assert "/retired.xml" not in shown and "failing" not in shown
    assert main(["status", "--all", "--db", str(db_path)]) == 0
    assert "removed" in capsys.readouterr().out
    health = query(db_path, "SELECT name, health FROM feed_health ORDER BY health")
    assert ("/retired.xml", "removed") in health


# --- reading without getting in the way ----------------------------------------------------------


def test_status_reads_next_to_an_analyst_and_never_migrates(poll, db_path: Path) -> None:
    poll(HARBOR)
    reader = (
        "import duckdb, sys; conn = duckdb.connect(sys.argv[1], read_only=True); "
        "print('locked', flush=True); sys.stdin.read()"
    )
    with held(db_path, reader):
        started = time.monotonic()
        result = newsmon("status", "--db", str(db_path), env={"NEWSMON_LOCK_WAIT": "30"})
        assert result.returncode == 0, result.stderr
        assert time.monotonic() - started < 20  # did not wait out the lock

    with duckdb.connect(str(db_path)) as conn:  # as if an older newsmon had written it
        conn.execute("DELETE FROM schema_migrations WHERE name >= '005'")
    line = one_line_error(newsmon("status", "--db", str(db_path)), code=1)
    assert "has not been upgraded" in line and "005_failures" in line
    assert query(db_path, "SELECT max(name) FROM schema_migrations") == [("004_developments.sql",)]


def test_a_reader_while_the_pipeline_writes_gets_one_line_and_the_advice(
    poll, db_path: Path
) -> None:
    poll(HARBOR)
    with held(db_path):  # a writer holds the file
        line = one_line_error(
            newsmon("status", "--db", str(db_path), env={"NEWSMON_LOCK_WAIT": "0.5"}), code=1
        )
    assert "is being written" in line and "snapshot" in line


def test_the_writer_logs_once_that_it_waits_for_a_lock(
    poll, db_path: Path, monkeypatch, caplog
) -> None:
    poll(HARBOR)
    monkeypatch.setenv("NEWSMON_LOCK_WAIT", "20")
    with caplog.at_level(logging.WARNING), held(db_path, release_after=1.5):
        poll(HARBOR)  # waits out the reader, then stores
    waits = [r for r in caplog.records if "waiting up to 20s" in r.getMessage()]
    assert len(waits) >= 1 and len({r.getMessage() for r in waits}) == len(waits)
    assert all("held by PID" in r.getMessage() for r in waits)


# --- analysts' own tools -------------------------------------------------------------------------


def duckdb_cli(database: str, sql: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DUCKDB_CLI), *options, "-csv", database, "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


def analyst_queries() -> list[str]:
    """The example queries of docs/queries/, one a file."""
    files = sorted((ROOT / "docs" / "queries").glob("*.sql"))
    assert len(files) >= 10
    return [path.read_text(encoding="utf-8").strip() for path in files]


def test_the_live_file_and_the_snapshot_open_in_the_registrys_duckdb_cli(
    poll, db_path: Path
) -> None:
    assert DUCKDB_CLI.exists(), "the duckdb-cli package (test extra) is missing"
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("v1.5"), version.stdout
    poll(HARBOR, GULF)
    live = duckdb_cli(str(db_path), "SELECT count(*) FROM articles WHERE NOT is_seed")
    assert live.returncode == 0, live.stderr
    assert int(live.stdout.split()[-1]) >= 5

    views = snapshot_dir(db_path) / "views.sql"
    for sql in analyst_queries():  # every documented query, on the snapshot, in the CLI
        result = duckdb_cli(":memory:", sql, "-init", str(views))
        assert result.returncode == 0 and "Error" not in result.stderr, (sql, result.stderr)


def test_a_file_written_in_duckdb_2_format_is_converted_once(tmp_path: Path) -> None:
    from newsmon.settings import Settings

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as conn:  # DuckDB 2.0's own format, as before this version
        conn.execute("CREATE TABLE notes AS SELECT 42 AS answer")
    assert duckdb_cli(str(path), "SELECT 1").returncode != 0  # the CLI cannot read it

    with open_database(Settings.defaults().replace(db_path=path)) as conn:
        assert conn.execute("SELECT answer FROM notes").fetchall() == [(42,)]
    assert (tmp_path / "old.duckdb2-backup.duckdb").exists()  # the original is kept
    result = duckdb_cli(str(path), "SELECT answer FROM notes")
    assert result.returncode == 0 and "42" in result.stdout, result.stderr
    with duckdb.connect(str(path)) as conn:
        tags = conn.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'old'")
        assert tags.fetchone()[0]["storage_version"].startswith(STORAGE_VERSION[:4])


def test_the_snapshot_is_one_consistent_state_even_after_a_lost_export(
    poll, db_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("NEWSMON_SNAPSHOT", "false")
    poll(HARBOR)  # stored, but no export: what a kill -9 after the commit leaves
    monkeypatch.setenv("NEWSMON_SNAPSHOT", "true")
    leftover = db_path.with_name(f".{db_path.stem}.snapshots") / "20200101T000000.000000Z.partial"
    leftover.mkdir(parents=True)
    report = poll(HARBOR, GULF)

    folder = snapshot_dir(db_path)
    assert folder.is_symlink() and not leftover.exists()
    state = json.loads((folder / "snapshot.json").read_text())
    latest = max(f.name for f in SQL_ROOT.joinpath("schema").iterdir() if f.name.endswith(".sql"))
    assert state["run_id"] == report.run_id and state["schema_version"] == latest
    with duckdb.connect() as conn:
        for table, rows in state["rows"].items():
            in_file = conn.execute(f"SELECT count(*) FROM '{folder}/{table}.parquet'").fetchone()
            assert in_file == (rows,) == tuple(query(db_path, f"SELECT count(*) FROM {table}")[0])

    old_target = folder.resolve()
    poll(HARBOR, GULF)  # nothing new: a new version, unchanged files linked, not rewritten
    assert folder.resolve() != old_target
    assert (folder / "articles.parquet").stat().st_ino == (
        old_target / "articles.parquet"
    ).stat().st_ino


# --- trying a deployment without internet ---------------------------------------------


def test_demo_serve_only_serves_the_sample_site_for_a_worker(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*NEWSMON, "demo", "--serve-only", "--port", str(port), "--db", str(tmp_path / "d.db")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(4)]
        feeds_file = Path(lines[0].split("Its feeds file: ")[1].strip())
        assert f"export NEWSMON_FEEDS={feeds_file}" in "".join(lines)
        assert "NEWSMON_ALLOW_PRIVATE_HOSTS" in "".join(lines)
        feed_url = re.search(r'url = "([^"]+)"', feeds_file.read_text())
        assert feed_url is not None
        assert httpx.get(feed_url.group(1), timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)  # as a service manager stops it
        assert server.wait(timeout=30) == 0
