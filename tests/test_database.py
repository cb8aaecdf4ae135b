"""The database under stress: an old schema, a lock held by another process, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import GULF, HARBOR, ROOT, contents, held, query
from newsmon.report import one_line_summary
from newsmon.runlock import lock_path
from newsmon.samplesite import SiteServer
from storage.db import SQL_ROOT, connect, migrate, run_checks, schema_version
from storage.spool import spool_dir

FEEDS = (HARBOR, GULF)
PAGES = [
    "/harbor-times/2025/01/aid-convoys-expand.html",
    "/harbor-times/2025/01/cairo-center.html",
    "/harbor-times/2025/01/rafah-aid-ar.html",
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, site: SiteServer, prefect_api: None) -> set[tuple[object, ...]]:
    """The database an uninterrupted, unlocked poll of FEEDS leaves."""
    from flows.poll import poll_feeds

    folder = tmp_path_factory.mktemp("reference")
    feeds = folder / "feeds.toml"
    feeds.write_text("".join(f'[[feeds]]\nurl = "{site.base_url}{p}"\n' for p in FEEDS))
    with pytest.MonkeyPatch.context() as env:  # module-wide: the per-test settings are not set
        env.setenv("NEWSMON_ALLOW_PRIVATE_HOSTS", "true")
        env.setenv("NEWSMON_SEEDS", str(ROOT / "seeds"))
        poll_feeds(feeds_file=str(feeds), db_path=str(folder / "reference.duckdb"))
    return contents(folder / "reference.duckdb")


def test_migration_from_the_first_schema_keeps_every_row(tmp_path: Path) -> None:
    db_path = tmp_path / "old.duckdb"
    with duckdb.connect(str(db_path)) as conn:
        conn.execute(SQL_ROOT.joinpath("schema/001_init.sql").read_text(encoding="utf-8"))
        conn.execute(
            "CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ "
            "NOT NULL DEFAULT now()); INSERT INTO schema_migrations (name) VALUES ('001_init.sql');"
            "INSERT INTO feeds (url, name, last_polled_at) VALUES ('https://a.example/rss', 'A', "
            "now()); INSERT INTO articles (article_id, url, fetched_at, status, text) VALUES "
            "(1, 'https://a.example/1', now(), 'ok', 'Some text')"
        )
        # URLs in an earlier canonical form: courlan's rules drop 'itm_source' and 'campaign'.
        conn.execute(
            "INSERT INTO articles (article_id, url, canonical_url, fetched_at, status) VALUES "
            "(4, 'https://a.example/4?itm_source=rss&page=2', "
            "'https://a.example/4?itm_source=rss&page=2', now(), 'no_text'), "
            "(5, 'https://a.example/5', NULL, now(), 'no_text'), "
            "(6, 'https://a.example/5?campaign=x', NULL, now(), 'no_text')"
        )

    with connect(db_path) as conn:
        assert migrate(conn) == [
            "002_feed_health_robots.sql",
            "003_backfill.sql",
            "004_developments.sql",
            "005_failures.sql",
            "006_canonical_urls.sql",
            "007_translations.sql",
            "008_story_edits.sql",
            "009_delivery_parts.sql",
            "010_search.sql",
            "011_sentence_vectors.sql",
        ]
        assert schema_version(conn) == "011_sentence_vectors.sql"
        # The articles stored before 010 are in the search index: "Some text", its words.
        assert conn.execute(
            "SELECT term, article_id, tf FROM search_terms ORDER BY term"
        ).fetchall() == [("some", 1, 1), ("text", 1, 1)]
        # Rewritten in place, ids kept; a form another row holds already is left alone.
        assert conn.execute(
            "SELECT article_id, url, canonical_url FROM articles WHERE article_id > 3 ORDER BY 1"
        ).fetchall() == [
            (4, "https://a.example/4?page=2", "https://a.example/4?page=2"),
            (5, "https://a.example/5", None),
            (6, "https://a.example/5?campaign=x", None),
        ]
        assert conn.execute(
            "SELECT url, current_url, last_success_at IS NOT NULL FROM feeds"
        ).fetchall() == [("https://a.example/rss", "https://a.example/rss", True)]
        assert conn.execute("SELECT url, text FROM articles WHERE text IS NOT NULL").fetchall() == [
            ("https://a.example/1", "Some text")
        ]
        conn.execute(
            "INSERT INTO articles (article_id, url, fetched_at, status) "
            "VALUES (2, 'https://a.example/2', now(), 'blocked_by_robots'), "
            "(3, 'https://a.example/3', now(), 'off_topic')"
        )
        # Stored before 004, so not analysed yet: the next run's analysis picks it up.
        assert conn.execute(
            "SELECT relevance, story_id FROM articles WHERE article_id = 1"
        ).fetchall() == [(None, None)]
        with pytest.raises(duckdb.ConstraintException):
            conn.execute(
                "INSERT INTO articles (article_id, url, fetched_at) VALUES (1, 'x', now())"
            )
        # 007: an article may be a translation, and leads keep their vectors.
        conn.execute(
            "UPDATE articles SET duplicate_of = 1, duplicate_kind = 'translation', "
            "similarity = 0.2 WHERE article_id = 4"
        )
        assert conn.execute("SELECT count(*) FROM article_vectors").fetchall() == [(0,)]
        assert migrate(conn) == []  # idempotent
        feeds = conn.execute("SELECT url, current_url FROM feeds").fetchall()
    assert feeds == [("https://a.example/rss", "https://a.example/rss")]


def test_a_short_lock_is_waited_out(poll, db_path: Path, monkeypatch, reference) -> None:
    monkeypatch.setenv("NEWSMON_LOCK_WAIT", "30")
    with held(db_path, release_after=1.5):
        report = poll(*FEEDS)
    assert not report.spooled and report.articles_new > 0
    assert contents(db_path) == reference
    assert not spool_dir(db_path).exists()


def test_a_long_lock_spools_and_the_next_run_stores_everything_once(
    poll, db_path: Path, monkeypatch, reference
) -> None:
    monkeypatch.setenv("NEWSMON_LOCK_WAIT", "0.3")
    with held(db_path):
        report = poll(*FEEDS, failed=True)  # the database was not written: a failure
        assert report.spooled
        assert any("spooled to" in error for error in report.errors)
        assert "the database was locked" in one_line_summary(report)
        assert report.feeds_polled == len(FEEDS)
        assert one_line_summary(report).startswith(f"{len(FEEDS)} feeds polled")
        assert len(list(spool_dir(db_path).glob("*.pickle"))) == 1
    assert query(db_path, "SELECT count(*) FROM information_schema.tables") == [(0,)]

    second = poll(*FEEDS)
    assert not second.spooled and not list(spool_dir(db_path).glob("*.pickle"))
    assert contents(db_path) == reference
    runs = query(db_path, "SELECT id, spooled FROM poll_runs ORDER BY started_at")
    assert runs == [(report.run_id, True), (second.run_id, False)]
    with connect(db_path, read_only=True) as conn:
        assert set(run_checks(conn).values()) == {0}


def test_a_spool_file_that_cannot_be_read_is_kept_and_the_run_goes_on(
    poll, db_path: Path, reference
) -> None:
    broken = spool_dir(db_path) / "broken.pickle"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a pickle")
    poll(*FEEDS)
    assert contents(db_path) == reference and broken.exists()


def test_a_run_spooled_by_the_previous_format_is_stored(poll, db_path: Path) -> None:
    # Written by newsmon before pages kept what they declared (spool format 4): three
    # Harbor Times articles, spooled while the database was held.
    spooled = spool_dir(db_path) / "format-4.pickle"
    spooled.parent.mkdir(parents=True)
    spooled.write_bytes((ROOT / "tests/resources/spool/format-4.pickle").read_bytes())
    poll(HARBOR)
    assert not spooled.exists()
    runs = query(db_path, "SELECT id FROM poll_runs WHERE spooled")
    assert runs == [("1054742a-89e7-4ea8-9b9a-5f67055ccf44",)]
    stored = query(
        db_path, "SELECT count(*) FROM articles WHERE run_id = ? AND status = 'ok'", [runs[0][0]]
    )
    assert stored == [(3,)]


def harness_api_url() -> str:
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url)


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(lambda site: site.requests[HARBOR] > 0, id="after-a-feed"),
        pytest.param(lambda site: sum(site.requests[p] for p in PAGES) >= 2, id="mid-pages"),
        pytest.param(lambda site: all(site.requests[p] for p in PAGES), id="after-the-pages"),
    ],
)
def test_a_run_killed_at_any_point_is_completed_by_the_next(
    moment: Callable[[SiteServer], bool],
    poll,
    db_path: Path,
    feeds_file,
    site: SiteServer,
    fault,
    reference,
) -> None:
    for path in PAGES:
        fault(path, delay=0.3)  # slow enough to be killed in the middle
    env = {**os.environ, "PREFECT_API_URL": harness_api_url()}
    command = [sys.executable, "-m", "newsmon.cli", "poll", "--db", str(db_path)]
    victim = subprocess.Popen(
        [*command, "--feeds", str(feeds_file(*FEEDS))],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its extraction workers die with it
    )
    deadline = time.monotonic() + 120
    while not moment(site) and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert victim.poll() is None, "the poll ended before it could be killed"
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()

    poll(*FEEDS)
    assert contents(db_path) == reference
    with connect(db_path, read_only=True) as conn:
        assert set(run_checks(conn).values()) == {0}


HOLD_RUN_LOCK = (
    "import fcntl, sys; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
    "f.write('poll-feeds run earlier (PID 1, started 2026-01-01 00:00:00 UTC)'); f.flush(); "
    "print('locked', flush=True); sys.stdin.read()"
)


def test_a_poll_that_overlaps_a_running_one_is_skipped(poll, db_path: Path, caplog) -> None:
    lock = lock_path(db_path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with held(lock, HOLD_RUN_LOCK):
        assert poll(*FEEDS) is None
        assert "poll-feeds run earlier (PID 1" in caplog.text and "is skipped" in caplog.text
        assert not db_path.exists()
    assert poll(*FEEDS).articles_new > 0  # released (a killed holder releases it too)
