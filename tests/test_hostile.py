"""No input stops the monitor: odd pages, entity bombs, lying charsets, damaged rows.

Every case is served by the loopback site (or written into a real DuckDB file) and
polled through the real flow; the run finishes, the rest is stored, the bad item is
recorded with a one-line reason, and the next run does not trip on it again.
"""

from __future__ import annotations

import json
import logging
import time
import tracemalloc
from pathlib import Path

import duckdb
import pytest

from conftest import HARBOR, query
from extractors.feeds import parse_feed
from newsmon.cli import main
from newsmon.errors import FeedParseError

STORY = (
    "The Gaza ceasefire held for a third day as mediators in Cairo and Doha pressed Hamas and "
    "Israel on the exchange of hostages and prisoners. Aid trucks crossed at Rafah and Kerem "
    "Shalom while negotiators prepared the second phase of the truce, officials said."
)


def page(title: str, head: str = "", text: str = STORY) -> str:
    paragraphs = "".join(f"<p>{text} Paragraph {n} of the report.</p>" for n in range(4))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"{head}</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def rss(items: list[tuple[str, str, str]], encoding: str = "UTF-8") -> str:
    """(title, link, extra XML) per item."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>{extra}</item>"
        for title, link, extra in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>Odd pages</title><link>http://odd.example/</link>{entries}</channel></rss>"
    )


def meta_date(value: str) -> str:
    return f'<meta property="article:published_time" content="{value}">'


def json_ld(**fields: str) -> str:
    data = json.dumps({"@type": "NewsArticle", **fields})
    return f'<script type="application/ld+json">{data}</script>'


ODD_PAGES = {
    "placeholder-date": (page("Truce holds in Gaza", meta_date("0001-01-01T00:00:00")), ""),
    "far-future": (
        page("Hostage exchange in Gaza", meta_date("2099-06-01T00:00:00Z")),
        "<pubDate>Mon, 01 Jun 2099 00:00:00 GMT</pubDate>",
    ),
    "epoch-ms": (page("Rafah crossing reopens", meta_date("1737540000000")), ""),
    "empty-title": (page(""), ""),
    "huge-title": (page("Gaza ceasefire " * 70_000), ""),
    "nul-bytes": (
        page("Cairo\x00 talks on the truce", text=STORY.replace(" the ", " \x00the ")),
        "",
    ),
    "lone-surrogate": (
        page("Doha talks", json_ld(headline="Doha talks \ud800 on the Gaza truce")),
        "",
    ),
}


def test_odd_pages_are_stored_and_never_break_a_run(poll, db_path: Path, site, fault) -> None:
    items = []
    for name, (html, extra) in ODD_PAGES.items():
        path = f"/odd/{name}.html"
        body = html.encode("utf-8", "surrogatepass")
        fault(path, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        title = "Doha talks &#xD800; go on" if name == "lone-surrogate" else name
        items.append((title, site.base_url + path, extra))
    fault("/odd/feed.xml", body=rss(items))

    report = poll("/odd/feed.xml", HARBOR)
    assert not [e for e in report.errors if "analysis failed" in e], report.errors
    rows = {
        url.rsplit("/", 1)[-1].removesuffix(".html"): (status, title, published_at, text)
        for url, status, title, published_at, text in query(
            db_path,
            "SELECT url, status, title, published_at, text FROM articles WHERE url LIKE '%/odd/%'",
        )
    }
    assert set(rows) == set(ODD_PAGES)
    assert all(status == "ok" for status, *_ in rows.values())
    assert rows["placeholder-date"][2] is None  # year 1 is no publication date
    assert rows["far-future"][2] is None  # neither is 2099
    assert rows["epoch-ms"][2].year == 2025  # 1737540000000 ms: 2025-01-22
    assert len(rows["huge-title"][1]) <= 1000 and rows["huge-title"][1].endswith("…")
    assert "\x00" not in rows["nul-bytes"][1] and "\x00" not in rows["nul-bytes"][3]
    assert "\ud800" not in rows["lone-surrogate"][1]
    analysed = query(
        db_path,
        "SELECT count(*) FROM articles WHERE url LIKE '%/odd/%' AND relevance IS NOT NULL",
    )
    assert analysed == [(len(ODD_PAGES),)]

    again = poll("/odd/feed.xml", HARBOR)  # the same entries: nothing new, nothing fails
    assert again.stored == [] and again.errors == []


def test_a_damaged_article_is_recorded_and_the_rest_analysed(poll, db_path: Path) -> None:
    """Rows an older version (or a person) left behind: a year-1 date, and an 'ok' article
    without text. Analysis goes on; the broken one carries its reason and is not retried."""
    poll(HARBOR)
    with duckdb.connect(str(db_path)) as conn:
        conn.execute(
            "INSERT INTO articles (article_id, url, canonical_url, title, fetched_at, "
            "published_at, status, text) VALUES "
            "(11, 'https://old.example/year-one', 'https://old.example/year-one', "
            "'Gaza ceasefire talks in Cairo', now(), '0001-01-01 00:00:00+00', 'ok', $1), "
            "(12, 'https://old.example/no-text', 'https://old.example/no-text', "
            "'Gaza ceasefire hostages aid trucks Rafah Cairo Doha truce', now(), NULL, 'ok', NULL)",
            [STORY],
        )
    report = poll(HARBOR)  # nothing new in the feed; the writer analyses what is pending
    assert [e for e in report.errors if "analysis failed" in e] == [
        next(e for e in report.errors if "https://old.example/no-text" in e)
    ]
    rows = dict(
        query(db_path, "SELECT article_id, analysis_error FROM articles WHERE article_id > 10")
    )
    assert rows[11] is None and "NoneType" in rows[12]  # the reason, kept on the article
    assert query(db_path, "SELECT relevance IS NOT NULL FROM articles WHERE article_id = 11") == [
        (True,)
    ]

    later = poll(HARBOR)
    assert later.errors == []  # recorded once, not tripped over again
    assert main(["status", "--db", str(db_path)]) == 0


# --- feeds ---------------------------------------------------------------------------------


def quadratic_bomb(entity_chars: int = 100_000, references: int = 1000) -> str:
    """One big internal entity referenced many times: expat's amplification limit stops the
    strict parser, and feedparser's loose parser would expand it without limit."""
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + "x" * entity_chars + '">]>'
        '<rss version="2.0"><channel><title>Bomb</title><item><title>'
        + "&big;" * references
        + "</title><link>http://bomb.example/1</link></item></channel></rss>"
    )


@pytest.mark.parametrize("kind", ["quadratic", "billion-laughs", "utf-16"])
def test_entity_declarations_are_refused_in_milliseconds(site, kind: str) -> None:
    if kind == "quadratic":
        body = quadratic_bomb().encode()
    elif kind == "billion-laughs":
        body = site.render("/faults/bomb.xml") or b""
    else:
        body = quadratic_bomb().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
        body = body.encode("utf-16")
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FeedParseError, match="declares XML entities"):
        parse_feed(body, "http://bomb.example/rss")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 10 * len(body) + 2_000_000  # nothing was expanded


def test_a_bomb_feed_fails_and_backs_off_while_the_others_are_stored(
    poll, db_path: Path, fault
) -> None:
    url = fault("/bomb.xml", body=quadratic_bomb())
    started = time.monotonic()
    report = poll("/bomb.xml", HARBOR)
    assert time.monotonic() - started < 60
    assert report.articles_new >= 2 and report.feeds_failed == 1
    health = query(
        db_path, "SELECT consecutive_failures, last_error FROM feeds WHERE url = $1", [url]
    )
    assert health[0][0] == 1 and "declares XML entities" in health[0][1]


def test_a_feed_that_parses_too_long_is_stopped(poll, db_path: Path, fault, monkeypatch) -> None:
    monkeypatch.setenv("NEWSMON_FEED_PARSE_TIMEOUT", "0.5")
    items = [
        (
            f"Entry {n}",
            f"http://slow.example/{n}",
            "<description>" + "word " * 20 + "</description>",
        )
        for n in range(20_000)
    ]
    url = fault("/slow.xml", body=rss(items))
    report = poll("/slow.xml", HARBOR)
    assert report.articles_new >= 2  # the other feed, parsed and extracted in a fresh pool
    error = query(db_path, "SELECT last_error FROM feeds WHERE url = $1", [url])[0][0]
    assert "took longer than 0.5s to parse" in error


@pytest.mark.parametrize(
    ("encoding", "title"),
    [
        ("windows-1251", "Перемирие в Газе продолжается"),
        ("big5", "加沙停火協議繼續"),
        ("koi8-r", "Заложники возвращаются домой"),
        ("shift_jis", "ガザ停戦が続く"),
        ("windows-1255", "הפסקת האש בעזה נמשכת"),
        ("gb2312", "加沙停火协议继续"),
    ],
)
def test_a_wrong_http_charset_loses_to_the_documents_own(
    poll, db_path: Path, site, fault, caplog, encoding: str, title: str
) -> None:
    link = site.base_url + "/gone/" + encoding
    body = rss([(title, link, "")], encoding=encoding).encode(encoding)
    fault(
        "/lying.xml", body=body, headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"}
    )
    with caplog.at_level(logging.INFO):
        poll("/lying.xml")
    assert query(db_path, "SELECT title FROM articles WHERE url = $1", [link]) == [(title,)]
    assert (
        f"the HTTP header says iso-8859-1, the document {encoding}: {encoding} used" in caplog.text
    )


def test_a_latin_1_feed_with_a_right_header_is_left_alone(poll, db_path: Path, site, fault) -> None:
    """The header wins when it reads cleanly: only mojibake makes the declaration win."""
    link = site.base_url + "/gone/latin"
    title = "Négociations à Gaza : le cessez-le-feu tient"
    body = rss([(title, link, "")], encoding="windows-1252").encode("latin-1")
    fault(
        "/latin.xml", body=body, headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"}
    )
    poll("/latin.xml")
    assert query(db_path, "SELECT title FROM articles WHERE url = $1", [link]) == [(title,)]
