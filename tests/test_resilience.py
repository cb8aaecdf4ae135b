"""Hostile feeds and pages, robots.txt and feed health, through the poll-feeds flow."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import HARBOR, RESOURCES, query
from extractors.feeds import parse_feed
from newsmon.cli import main
from newsmon.errors import FeedParseError
from newsmon.samplesite import SiteServer


def statuses(db_path: Path, site: SiteServer) -> dict[str, str]:
    rows = query(db_path, "SELECT url, status FROM articles WHERE NOT is_seed")
    return {url.removeprefix(site.base_url): status for url, status in rows}


def feed(db_path: Path, url: str) -> dict[str, object]:
    with_names = query(
        db_path,
        "SELECT last_status, consecutive_failures, last_error, last_success_at, last_polled_at, "
        "next_poll_at, current_url, disabled_reason FROM feeds WHERE url = ?",
        [url],
    )
    keys = (
        "last_status",
        "consecutive_failures",
        "last_error",
        "last_success_at",
        "last_polled_at",
        "next_poll_at",
        "current_url",
        "disabled_reason",
    )
    return dict(zip(keys, with_names[0], strict=True))


def time_passes(db_path: Path) -> None:
    """Bring every feed's next poll to now, as if the backoff had run out."""
    import duckdb

    with duckdb.connect(str(db_path)) as conn:
        conn.execute("UPDATE feeds SET next_poll_at = now() - INTERVAL 1 SECOND")


# --- robots.txt ----------------------------------------------------------------------------


def test_robots_txt_is_obeyed_and_fetched_once_a_day(poll, db_path: Path, site) -> None:
    robots_before = site.requests["/robots.txt"]
    poll("/faults/robots.xml")
    assert statuses(db_path, site) == {
        "/faults/private/memo.html": "blocked_by_robots",
        "/harbor-times/2025/01/cairo-center.html": "ok",
    }
    assert site.requests["/faults/private/memo.html"] == 0
    assert site.requests["/robots.txt"] == robots_before + 1
    assert query(db_path, "SELECT origin, status FROM robots_txt") == [(site.base_url, 200)]

    # A new page on the same site the next run: the stored rules are used, not fetched again.
    poll("/faults/robots.xml", "/faults/pages.xml")
    assert site.requests["/robots.txt"] == robots_before + 1


def test_pages_wait_while_robots_txt_is_unreachable(poll, db_path: Path, site, fault) -> None:
    fault("/robots.txt", status=503)
    report = poll(HARBOR)
    assert report.pages_failed == 3 and statuses(db_path, site) == {}
    assert query(db_path, "SELECT etag FROM feeds") == [(None,)]  # the entries stay pending

    site.override("/robots.txt")  # back: the next run stores the pages
    assert poll(HARBOR).articles_new == 2
    assert set(statuses(db_path, site).values()) == {"ok"}


# --- hostile and odd feeds -------------------------------------------------------------------


def test_odd_entries_are_handled(poll, db_path: Path, site) -> None:
    report = poll("/faults/odd.xml")
    rows = query(db_path, "SELECT url, guid, published_at FROM articles WHERE NOT is_seed")
    stored = {url.removeprefix(site.base_url): (guid, when) for url, guid, when in rows}
    assert set(stored) == {
        "/harbor-times/2025/01/aid-convoys-expand.html",  # relative link, resolved
        "/harbor-times/2025/01/cairo-center.html",  # first of the two entries with one GUID
        "/harbor-times/2025/01/rafah-aid-ar.html",
    }
    assert stored["/harbor-times/2025/01/aid-convoys-expand.html"][1].year == 2025
    # Dated 2100 in the feed: unknown, so the page's own date is kept instead, if any.
    year_2100 = stored["/harbor-times/2025/01/cairo-center.html"][1]
    assert year_2100 is None or year_2100.year == 2025
    assert report.feeds_failed == 0


def test_an_xml_bomb_is_not_expanded(poll, db_path: Path) -> None:
    bomb = (RESOURCES / "site" / "faults" / "bomb.xml").read_bytes()
    tracemalloc.start()  # the parse itself, in this process (a poll runs it in the pool)
    try:
        with pytest.raises(FeedParseError, match="entit"):
            parse_feed(bomb, "http://127.0.0.1/faults/bomb.xml", "application/rss+xml")
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert peak_mb < 5  # a billion 'lol's would be gigabytes
    report = poll("/faults/bomb.xml", HARBOR)
    assert report.articles_new >= 2  # the other feed was processed
    titles = query(db_path, "SELECT length(coalesce(title, '')) FROM feeds")
    assert max(length for (length,) in titles) < 1000


def test_a_feed_larger_than_the_cap_is_recorded(poll, db_path: Path, fault, monkeypatch) -> None:
    monkeypatch.setenv("NEWSMON_MAX_FEED_BYTES", "100000")
    url = fault("/endless-feed.xml", endless=True, body="<rss>" + "x" * 1000)
    report = poll("/endless-feed.xml", HARBOR)
    assert "passed the 100,000 byte limit" in feed(db_path, url)["last_error"]
    assert report.feeds_failed == 1 and report.articles_new >= 2


def test_wrong_content_types(poll, db_path: Path, site) -> None:
    poll("/faults/types.xml")
    assert statuses(db_path, site) == {"/faults/octet.html": "ok", "/faults/image.png": "not_html"}


def test_a_server_ignoring_conditional_get_is_deduplicated_by_guid(
    poll, db_path: Path, site, fault
) -> None:
    feed_bytes = site.render(HARBOR)
    assert feed_bytes is not None
    first, second = (feed_bytes.decode() + f"<!-- built {n} -->" for n in (1, 2))
    fault(HARBOR, sequence=[{"body": first}, {"body": second}])
    poll(HARBOR)
    page_requests = site.requests["/harbor-times/2025/01/cairo-center.html"]
    stored = query(db_path, "SELECT count(*) FROM articles")

    report = poll(HARBOR)  # new ETag, new bytes, same entries
    assert site.requests[HARBOR] == 2 and report.entries_seen == 3
    assert report.stored == [] and query(db_path, "SELECT count(*) FROM articles") == stored
    assert site.requests["/harbor-times/2025/01/cairo-center.html"] == page_requests


# --- feed health -------------------------------------------------------------------------------


def test_a_failing_feed_backs_off_and_recovers(poll, db_path: Path, site, fault) -> None:
    url = fault(HARBOR, status=500)
    poll(HARBOR, failed=True)
    health = feed(db_path, url)
    assert health["consecutive_failures"] == 1 and "HTTP 500" in health["last_error"]
    assert health["next_poll_at"] - health["last_polled_at"] == timedelta(seconds=300)
    assert query(db_path, "SELECT health FROM feed_health") == [("backing off",)]

    requests = site.requests[HARBOR]
    waiting = poll(HARBOR, failed=True)  # no feed works: the run says so
    assert waiting.feeds_skipped == 1 and site.requests[HARBOR] == requests  # not even asked
    assert "backing off after 1 failures, next try" in waiting.feeds_waiting[0]
    assert "HTTP 500" in waiting.feeds_waiting[0]

    # Forced while still failing: the pause doubles.
    poll(HARBOR, force=True, failed=True)
    health = feed(db_path, url)
    assert health["consecutive_failures"] == 2
    assert health["next_poll_at"] - health["last_polled_at"] == timedelta(seconds=600)

    site.override(HARBOR)  # the server recovers
    time_passes(db_path)
    report = poll(HARBOR)
    health = feed(db_path, url)
    assert report.articles_new >= 2
    assert health["consecutive_failures"] == 0 and health["last_error"] is None
    assert health["next_poll_at"] is None and health["last_success_at"] == health["last_polled_at"]
    assert query(db_path, "SELECT health FROM feed_health") == [("ok",)]


def test_backoff_is_capped_at_a_day_and_honours_retry_after(poll, db_path: Path, fault) -> None:
    url = fault(HARBOR, status=429, headers={"Retry-After": "7200"})
    poll(HARBOR, failed=True)
    health = feed(db_path, url)
    assert health["next_poll_at"] - health["last_polled_at"] == timedelta(hours=2)

    import duckdb

    with duckdb.connect(str(db_path)) as conn:
        conn.execute("UPDATE feeds SET consecutive_failures = 20")
    poll(HARBOR, force=True, failed=True)
    health = feed(db_path, url)
    assert health["next_poll_at"] - health["last_polled_at"] == timedelta(days=1)


def test_a_permanent_redirect_moves_the_feed(poll, db_path: Path, site, fault) -> None:
    old = fault("/old-feed.xml", status=301, headers={"Location": HARBOR})
    report = poll("/old-feed.xml")
    assert report.articles_new >= 2
    assert feed(db_path, old)["current_url"] == site.base_url + HARBOR

    time_passes(db_path)
    poll("/old-feed.xml")
    assert site.requests["/old-feed.xml"] == 1  # polled at its new address since
    assert query(db_path, "SELECT health FROM feed_health") == [("moved",)]


def test_410_gone_disables_the_feed_until_enabled(poll, db_path: Path, site, fault) -> None:
    url = fault("/retired.xml", status=410)
    poll("/retired.xml", failed=True)
    assert "410 Gone" in feed(db_path, url)["disabled_reason"]
    assert site.requests["/retired.xml"] == 1  # a 4xx is not retried

    time_passes(db_path)
    assert poll("/retired.xml", failed=True).feeds_skipped == 1
    assert site.requests["/retired.xml"] == 1
    assert query(db_path, "SELECT health FROM feed_health") == [("disabled",)]

    assert main(["enable", url, "--db", str(db_path)]) == 0
    assert feed(db_path, url)["disabled_reason"] is None
    poll("/retired.xml", failed=True)
    assert site.requests["/retired.xml"] == 2
    assert main(["enable", "https://unknown.example/feed", "--db", str(db_path)]) == 1


@pytest.mark.parametrize("json_output", [False, True])
def test_status_shows_feed_health(poll, db_path: Path, fault, capsys, json_output: bool) -> None:
    fault("/retired.xml", status=410)
    poll("/retired.xml", HARBOR)
    capsys.readouterr()
    assert main(["status", "--db", str(db_path)] + (["--json"] if json_output else [])) == 0
    out = capsys.readouterr().out
    assert "disabled" in out and "410 Gone" in out and "ok" in out
