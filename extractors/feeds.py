"""Feed bytes to FeedItems with feedparser. Pure: never given a URL to fetch."""

from __future__ import annotations

import calendar
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from extractors.normalize import normalize_inline, to_utc
from newsmon.errors import FeedParseError


@dataclass(frozen=True, slots=True)
class FeedItem:
    link: str
    guid: str | None
    title: str | None
    summary: str | None
    author: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: list[FeedItem]
    bozo: str | None  # the exception class feedparser tolerated, if any
    skipped: int  # entries without a usable link


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Items in feed order, GUIDs deduplicated, links made absolute.

    Raises FeedParseError when the body is not a feed at all; a feed with
    recoverable flaws (feedparser's 'bozo') is kept and the flaw is reported.
    """
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # feedparser fetches by itself when handed a URL-like string: give it a file.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    bozo = type(parsed.bozo_exception).__name__ if parsed.get("bozo") else None
    if not parsed.get("version") and not parsed.entries:
        reason = f" ({parsed.bozo_exception})" if bozo else ""
        raise FeedParseError(
            url, f"Feed {url} is not RSS or Atom{reason}; check the URL in the feeds file"
        )

    items: list[FeedItem] = []
    seen: set[str] = set()
    skipped = 0
    for entry in parsed.entries:
        link = _entry_link(entry, url)
        if link is None:
            skipped += 1
            continue
        guid = entry.get("id") or None
        key = guid or link
        if key in seen:
            continue
        seen.add(key)
        items.append(
            FeedItem(
                link=link,
                guid=guid,
                title=normalize_inline(entry.get("title")),
                summary=normalize_inline(entry.get("summary")),
                author=normalize_inline(entry.get("author")),
                published_at=_entry_time(entry),
            )
        )
    return ParsedFeed(
        title=normalize_inline(parsed.feed.get("title")), items=items, bozo=bozo, skipped=skipped
    )


def _entry_link(entry: Any, feed_url: str) -> str | None:
    link = entry.get("link") or ""
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link:
        guid = entry.get("id") or ""
        link = guid if entry.get("guidislink") or guid.startswith(("http://", "https://")) else ""
    absolute = urljoin(feed_url, link.strip()) if link else ""
    return absolute if absolute.startswith(("http://", "https://")) else None


def _entry_time(entry: Any) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # not entry.get: that maps keys and warns about it
        if value:
            return to_utc(datetime.fromtimestamp(calendar.timegm(value), UTC))
    return None
