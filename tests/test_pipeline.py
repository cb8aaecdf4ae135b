"""The poll-feeds flow end to end, through Prefect, over the loopback sample site."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import GULF, HARBOR, ROOT, query
from newsmon.samplesite import SiteServer
from storage.db import connect, run_checks

SEED_000 = "000_cbb868c4a7457886.txt"
SEED_003 = "003_620d9e211269476d.txt"


def article(db_path: Path, path: str) -> dict[str, Any]:
    """The article stored for the page at `path`, with its original's seed name and URL."""
    with connect(db_path, read_only=True) as conn:
        cursor = conn.execute(
            "SELECT a.*, o.seed_name AS original_seed, o.url AS original_url FROM articles a "
            "LEFT JOIN articles o ON o.article_id = a.duplicate_of WHERE a.url LIKE '%' || ?",
            [path],
        )
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
    assert len(rows) == 1, f"expected one article for {path}, got {len(rows)}"
    return dict(zip(names, rows[0], strict=True))


def test_new_article_is_stored_with_its_metadata(poll, db_path: Path, site: SiteServer) -> None:
    report = poll(HARBOR)
    row = article(db_path, "/harbor-times/2025/01/aid-convoys-expand.html")
    assert row["title"] == "Aid convoys into Gaza double as ceasefire enters its second week"
    assert row["author"] == "Lina Haddad"
    assert row["site_name"] == "The Harbor Times"
    assert row["language"] == "en"
    assert row["published_at"].isoformat() == "2025-01-22T09:30:00+00:00"
    # The feed link carried utm_* parameters; the stored URLs do not.
    assert row["url"] == f"{site.base_url}/harbor-times/2025/01/aid-convoys-expand.html"
    assert row["canonical_url"] == row["url"]
    assert row["guid"] == "harbor-times-2025-01-22-aid-convoys"
    assert row["feed_url"] == f"{site.base_url}{HARBOR}"
    assert row["status"] == "ok" and row["duplicate_of"] is None and not row["is_seed"]
    assert "630 trucks crossed on Tuesday" in row["text"]
    # Page chrome is not article text.
    for chrome in ("cookies", "Subscribe from", "harbor_reader_72", "All rights reserved"):
        assert chrome not in row["text"]
    assert row["run_id"] == report.run_id
    runs = query(
        db_path, "SELECT feeds_polled, entries_seen, articles_new, duplicates FROM poll_runs"
    )
    assert runs == [(1, 3, 2, 1)]


def test_second_poll_gets_304_and_stores_nothing(poll, db_path: Path, site: SiteServer) -> None:
    poll(HARBOR, GULF)
    stored = query(db_path, "SELECT count(*) FROM articles")[0][0]
    page = "/gulf-observer/news/cairo-truce-room.html"
    fetched_before = site.requests[page]

    report = poll(HARBOR, GULF)

    assert report.feeds_unchanged == 2 and report.stored == [] and report.errors == []
    assert query(db_path, "SELECT count(*) FROM articles")[0][0] == stored
    assert query(db_path, "SELECT DISTINCT last_status FROM feeds") == [(304,)]
    assert site.requests[page] == fetched_before
    assert len(query(db_path, "SELECT * FROM poll_runs")) == 2


def test_seed_copies_are_duplicates_of_their_seed(poll, db_path: Path) -> None:
    poll(HARBOR, GULF)
    syndicated = article(db_path, "/harbor-times/2025/01/cairo-center.html")
    assert syndicated["original_seed"] == SEED_000
    assert syndicated["duplicate_kind"] == "near" and syndicated["similarity"] >= 0.9

    copy_003 = article(db_path, "/gulf-observer/news/qatar-phase-two-talks.html")
    assert copy_003["original_seed"] == SEED_003
    assert copy_003["duplicate_kind"] == "near"

    truncated = article(db_path, "/gulf-observer/news/cairo-hub-brief.html")
    assert truncated["original_seed"] == SEED_000
    assert truncated["similarity"] >= 0.8
    assert len(truncated["text"]) < 0.6 * len(syndicated["text"])


def test_same_topic_with_other_facts_or_words_is_not_a_duplicate(poll, db_path: Path) -> None:
    poll(HARBOR, GULF)
    for path in (
        "/harbor-times/2025/01/aid-convoys-expand.html",  # aid trucks, new figures
        "/gulf-observer/news/cairo-truce-room.html",  # the seed 000 story, rewritten
    ):
        row = article(db_path, path)
        assert row["duplicate_of"] is None, path
        assert row["status"] == "ok"


def test_copy_of_a_stored_article_found_in_a_later_run(poll, db_path: Path) -> None:
    poll(HARBOR)
    poll(GULF)
    copy = article(db_path, "/gulf-observer/news/un-aid-deliveries-double.html")
    original = article(db_path, "/harbor-times/2025/01/aid-convoys-expand.html")
    assert copy["duplicate_of"] == original["article_id"]
    assert copy["duplicate_kind"] == "near"
    assert copy["run_id"] != original["run_id"]
    assert query(db_path, "SELECT original_url FROM duplicates WHERE url = ?", [copy["url"]]) == [
        (original["url"],)
    ]


def test_pages_in_windows_1256_and_1255_decode_correctly(poll, db_path: Path) -> None:
    poll(HARBOR, GULF)
    arabic = article(db_path, "/harbor-times/2025/01/rafah-aid-ar.html")
    assert arabic["language"] == "ar"
    assert arabic["title"] == "قوافل المساعدات تعبر معبر رفح مع صمود وقف إطلاق النار"
    assert "عبرت مئات الشاحنات المحملة بالمساعدات الإنسانية معبر رفح" in arabic["text"]
    hebrew = article(db_path, "/gulf-observer/news/hostage-families-he.html")
    assert hebrew["language"] == "he"
    assert "אלפי ישראלים התאספו ביום רביעי בכיכר החטופים" in hebrew["text"]


def test_broken_feeds_are_recorded_and_the_rest_goes_on(poll, db_path: Path, site) -> None:
    report = poll("/faults/error.xml", "/faults/garbage.xml", HARBOR)

    health = dict(
        (url.removeprefix(site.base_url), (status, failures, error))
        for url, status, failures, error in query(
            db_path, "SELECT url, last_status, consecutive_failures, last_error FROM feeds"
        )
    )
    status, failures, error = health["/faults/error.xml"]
    assert (status, failures) == (500, 1) and "HTTP 500" in error
    status, failures, error = health["/faults/garbage.xml"]
    assert (status, failures) == (200, 1) and "not RSS or Atom" in error
    assert health[HARBOR] == (200, 0, None)
    assert report.feeds_failed == 2 and report.articles_new == 2
    assert len(report.errors) == 2

    # Failing feeds back off; forced, they are polled again and count a second failure.
    assert poll("/faults/error.xml", "/faults/garbage.xml", HARBOR).feeds_skipped == 2
    poll("/faults/error.xml", "/faults/garbage.xml", HARBOR, force=True)
    failing = query(db_path, "SELECT consecutive_failures FROM feeds WHERE last_error IS NOT NULL")
    assert sorted(failing) == [(2,), (2,)]


def test_bad_pages_are_classified_and_transient_ones_retried(poll, db_path: Path, site) -> None:
    report = poll("/faults/pages.xml")
    statuses = dict(
        (url.removeprefix(site.base_url), status)
        for url, status in query(db_path, "SELECT url, status FROM articles WHERE NOT is_seed")
    )
    assert statuses == {
        "/harbor-times/2025/01/aid-convoys-expand.html": "ok",
        "/faults/gone.html": "http_error",
        "/faults/report.pdf": "not_html",
        "/faults/empty.html": "no_text",
    }
    assert report.pages_failed == 1 and report.pages_rejected == 3
    # A page without text keeps what it declared: analysts still see it was published.
    empty = query(
        db_path,
        "SELECT title, language, published_at FROM articles WHERE url LIKE '%/faults/empty.html'",
    )
    assert empty == [
        (
            "Vidéo : les camions d'aide entrent à Rafah",
            "fr",
            datetime(2025, 1, 20, 7, 15, tzinfo=UTC),
        )
    ]
    # The feed's state did not move, so the next run sees the entry again.
    assert query(db_path, "SELECT etag, body_hash FROM feeds") == [(None, None)]

    settled = ("/faults/gone.html", "/faults/report.pdf", "/faults/empty.html")
    requests_before = [site.requests[path] for path in settled]
    site.override("/faults/busy.html")  # the server recovers
    try:
        second = poll("/faults/pages.xml")
    finally:
        site.override("/faults/busy.html", status=503)
    assert [s.url.removeprefix(site.base_url) for s in second.stored] == ["/faults/busy.html"]
    # Pages stored with a status are never fetched again.
    assert [site.requests[path] for path in settled] == requests_before
    assert query(db_path, "SELECT count(*) FROM feeds WHERE etag IS NOT NULL") == [(1,)]


def test_invariants_hold_after_polls(poll, db_path: Path) -> None:
    poll(HARBOR)
    poll(HARBOR, GULF, "/faults/pages.xml")
    with connect(db_path, read_only=True) as conn:
        assert run_checks(conn) == dict.fromkeys(run_checks(conn), 0)
        assert len(run_checks(conn)) >= 5
    seeds = query(db_path, "SELECT seed_name, url FROM articles WHERE is_seed ORDER BY seed_name")
    assert seeds == [(SEED_000, None), (SEED_003, "https://daysofpalestine.ps/?p=68409")]


def test_a_changed_seed_replaces_what_was_derived_from_it(
    poll, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    monkeypatch.setenv("NEWSMON_SEEDS", str(seeds))
    poll(HARBOR)
    seed = seeds / SEED_000
    text = seed.read_text(encoding="utf-8")
    first = text.split("\n\n")[1]
    seed.write_text(text.replace(first, "Mediators opened a second office in Doha."), "utf-8")

    poll(HARBOR)  # analysed again, from its new text only

    leads, sentences, positions = query(
        db_path,
        "SELECT (SELECT count(*) FROM article_vectors WHERE article_id = a.article_id), "
        "count(*), count(DISTINCT v.position) FROM articles a "
        "JOIN sentence_vectors v USING (article_id) WHERE a.seed_name = ? GROUP BY ALL",
        [SEED_000],
    )[0]
    assert leads == 1 and sentences == positions > 1  # each once, from the new text
    with connect(db_path, read_only=True) as conn:
        assert run_checks(conn) == dict.fromkeys(run_checks(conn), 0)


def test_each_poll_publishes_a_table_of_its_feeds(poll, site) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    poll(HARBOR, "/faults/error.xml")
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["poll-feeds"])),
            sort="CREATED_DESC",
            limit=1,
        )
    rows = {row["feed"]: row for row in json.loads(artifacts[0].data)}
    assert rows[HARBOR]["status"] == "ok" and rows[HARBOR]["entries"] == 3
    assert rows[HARBOR]["new"] + rows[HARBOR]["duplicates"] == 3
    assert rows["/faults/error.xml"]["status"].startswith("failed (500)")
    assert "HTTP 500" in rows["/faults/error.xml"]["error"]
