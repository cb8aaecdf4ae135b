"""Pure normalisation, decoding and feed parsing: bytes in, records out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.encoding import decode_html
from extractors.feeds import parse_feed
from extractors.normalize import canonical_url, normalize_text, same_site, to_utc
from newsmon.errors import FeedParseError

SITE = Path(__file__).resolve().parent.parent / "samples" / "site"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://Example.ORG:443/a/B?utm_source=rss&id=7#top", "https://example.org/a/B?id=7"),
        ("http://example.org:8080/x?fbclid=1&gclid=2&ref=rss", "http://example.org:8080/x"),
        ("https://example.org", "https://example.org/"),
        ("https://daysofpalestine.ps/?p=68409", "https://daysofpalestine.ps/?p=68409"),
        # courlan's list: affiliate, campaign and session tags, in any position.
        (
            "https://news.example/2025/01/talks.html?itm_source=home&page=2&partnerid=9"
            "&sessionid=abc&campaign=x",
            "https://news.example/2025/01/talks.html?page=2",
        ),
        # On a script's address the query may name the page: only the sure trackers go.
        (
            "https://news.example/article.php?cid=4711&utm_medium=rss",
            "https://news.example/article.php?cid=4711",
        ),
        ("https://news.example/?source=4711", "https://news.example/?source=4711"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_same_site_ignores_www() -> None:
    assert same_site("https://www.example.org/a", "http://example.org/b")
    assert not same_site("https://example.org/a", "https://elsewhere.org/a")


def test_text_is_nfc_with_folded_whitespace() -> None:
    decomposed = "Cafe\u0301  in\tGaza \r\n\r\n\n  second   paragraph "
    assert normalize_text(decomposed) == "Caf\u00e9 in Gaza\nsecond paragraph"


def test_times_are_utc_and_far_future_ones_unknown() -> None:
    now = datetime(2025, 1, 22, tzinfo=UTC)
    eastern = datetime(2025, 1, 21, 12, tzinfo=UTC).astimezone(tz=None)
    assert to_utc(eastern, now) == datetime(2025, 1, 21, 12, tzinfo=UTC)
    assert to_utc(datetime(2025, 1, 21, 12), now).tzinfo is UTC
    assert to_utc(now + timedelta(days=30), now) is None


ARABIC = "وقف إطلاق النار في غزة"
HEBREW = "הפסקת האש בעזה"


@pytest.mark.parametrize(
    ("body", "content_type", "expected", "codec"),
    [
        (
            f'<meta charset="windows-1256"><p>{ARABIC}</p>'.encode("cp1256"),
            "text/html",
            ARABIC,
            "cp1256",
        ),
        (f"<p>{HEBREW}</p>".encode("cp1255"), "text/html; charset=windows-1255", HEBREW, "cp1255"),
        # The HTTP header wins over <meta>, as in browsers.
        (
            f'<meta charset="utf-8"><p>{HEBREW}</p>'.encode("cp1255"),
            "text/html; charset=windows-1255",
            HEBREW,
            "cp1255",
        ),
        # A declared charset that cannot decode the bytes is not trusted.
        (f"<p>{ARABIC}</p>".encode(), "text/html; charset=ascii", ARABIC, "utf-8"),
        ("<p>Café</p>".encode("latin-1"), 'text/html; charset="ISO-8859-1"', "Café", "cp1252"),
        (b"\xef\xbb\xbf<p>BOM</p>", None, "<p>BOM</p>", "utf-8-sig"),
        # A CMS default left in place: UTF-8 bytes under an 8-bit declaration are UTF-8,
        # not mojibake ("fÃ¼r"), in the header or in <meta>.
        ("<p>Grüße für Zürich</p>".encode(), "text/html; charset=iso-8859-1", "für", "utf-8"),
        (f'<meta charset="windows-1255"><p>{HEBREW}</p>'.encode(), "text/html", HEBREW, "utf-8"),
    ],
)
def test_decode_html(body: bytes, content_type: str | None, expected: str, codec: str) -> None:
    text, used = decode_html(body, content_type)
    assert expected in text
    assert used == codec


def test_undeclared_legacy_encoding_is_detected() -> None:
    text = (
        "<html><body><p>"
        + "عبرت مئات الشاحنات المحملة بالمساعدات الإنسانية معبر رفح. " * 8
        + "</p></body></html>"
    )
    decoded, codec = decode_html(text.encode("cp1256"), "text/html")
    assert "الشاحنات المحملة" in decoded, codec


def test_rss_entries_have_absolute_canonical_links_and_utc_times() -> None:
    body = (SITE / "harbor-times" / "rss.xml").read_bytes().replace(b"{base}", b"http://h.example")
    feed = parse_feed(body, "http://h.example/harbor-times/rss.xml", "application/rss+xml")
    assert feed.title == "The Harbor Times - Middle East"
    assert feed.bozo is None
    assert [item.guid for item in feed.items] == [
        "harbor-times-2025-01-22-aid-convoys",
        "harbor-times-2025-01-21-cairo-center",
        "harbor-times-2025-01-22-rafah-ar",
    ]
    assert feed.items[0].published_at == datetime(2025, 1, 22, 9, 30, tzinfo=UTC)
    assert feed.items[0].author == "Lina Haddad"


def test_atom_relative_links_resolve_against_the_feed_url() -> None:
    body = (
        (SITE / "gulf-observer" / "atom.xml").read_bytes().replace(b"{base}", b"http://g.example")
    )
    feed = parse_feed(body, "http://g.example/gulf-observer/atom.xml", "application/atom+xml")
    assert feed.items[0].link == "http://g.example/gulf-observer/news/un-aid-deliveries-double.html"
    assert len(feed.items) == 5


def test_entries_without_links_are_counted_and_duplicate_guids_dropped() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>no link</title><description>x</description></item>
    <item><link>https://a.example/1</link><guid>1</guid></item>
    <item><link>https://a.example/1-again</link><guid>1</guid></item>
    <item><link>/relative</link><pubDate>Sat, 01 Jan 2999 00:00:00 GMT</pubDate></item>
    <item><link>javascript:alert(1)</link></item>
    </channel></rss>"""
    feed = parse_feed(body, "https://a.example/feed", None)
    assert [item.link for item in feed.items] == [
        "https://a.example/1",
        "https://a.example/relative",
    ]
    assert feed.skipped == 2
    assert feed.items[1].published_at is None  # a date in 2999 is a mistake


def test_malformed_but_readable_feed_is_kept_with_its_flaw() -> None:
    body = b"<rss version='2.0'><channel><title>t &nbsp; x</title><item><link>https://a.example/1</link></item></channel></rss>"
    feed = parse_feed(body, "https://a.example/feed", "application/rss+xml")
    assert [item.link for item in feed.items] == ["https://a.example/1"]
    assert feed.bozo is not None


@pytest.mark.parametrize(
    "body", [b"", b"\x89PNG\r\n\x1a\n\x00\x00", b"<html><body>Not a feed</body></html>"]
)
def test_garbage_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError, match="is not RSS or Atom"):
        parse_feed(body, "https://a.example/feed", "text/html")
