"""Feed bytes to FeedItems with feedparser. Pure: never given a URL to fetch."""

from __future__ import annotations

import calendar
import codecs
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from charset_normalizer.md import mess_ratio

from extractors.encoding import charset_from_content_type, codec_name
from extractors.normalize import normalize_inline, storable, to_utc
from newsmon.errors import FeedParseError
from newsmon.records import FeedItem

MAX_SUMMARY_CHARS = 5000
# A DTD that declares entities is how a feed makes a parser expand a few KB into gigabytes
# (feedparser's loose parser expands them without limit). News feeds never need one.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
MESS_SAMPLE = 100_000  # characters of each decoding compared
# Character references XML forbids (NUL and other C0 controls, UTF-16 surrogates): feedparser's
# loose parser crashes on some of them, so they become U+FFFD before it sees them.
_FORBIDDEN_REFERENCE = re.compile(
    rb"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2})"
    rb"|0*(?:[0-8]|1[1249]|1[5-9]|2[0-9]|3[01]"
    rb"|55(?:29[6-9]|[3-9][0-9]{2})|56[0-9]{3}|57(?:[0-2][0-9]{2}|3[0-3][0-9]|34[0-3])));"
)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: list[FeedItem]
    bozo: str | None  # the exception class feedparser tolerated, if any
    skipped: int  # entries without a usable link
    charset_note: str | None = None  # the HTTP header and the document disagreed: who won


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Items in feed order, GUIDs deduplicated, links made absolute.

    Raises FeedParseError when the body is not a feed at all; a feed with
    recoverable flaws (feedparser's 'bozo') is kept and the flaw is reported.
    """
    if _declares_entities(body):
        raise FeedParseError(
            url,
            f"Feed {url} declares XML entities (<!ENTITY>), which newsmon refuses to expand "
            "(a few KB of them can become gigabytes); ask the publisher to remove its DTD",
        )
    content_type, charset_note = _settle_charset(body, content_type)
    body = _FORBIDDEN_REFERENCE.sub(b"&#xFFFD;", body)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # feedparser fetches by itself when handed a URL-like string: give it a file.
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    except Exception as exc:  # feedparser's own bug on odd input: this feed fails, not the run
        raise FeedParseError(
            url, f"Feed {url} could not be parsed ({type(exc).__name__}: {exc}); tell its publisher"
        ) from None
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
        guid = storable(entry.get("id") or "")[:2000] or None
        key = guid or link
        if key in seen:
            continue
        seen.add(key)
        items.append(
            FeedItem(
                link=link,
                guid=guid,
                title=normalize_inline(entry.get("title")),
                summary=normalize_inline(entry.get("summary"), MAX_SUMMARY_CHARS),
                author=normalize_inline(entry.get("author")),
                published_at=_entry_time(entry),
            )
        )
    return ParsedFeed(
        title=normalize_inline(parsed.feed.get("title")),
        items=items,
        bozo=bozo,
        skipped=skipped,
        charset_note=charset_note,
    )


def _declares_entities(body: bytes) -> bool:
    """True when the document declares an entity outside CDATA (in UTF-16 too)."""
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in body[:4]:
        try:
            body = body.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return False  # not a feed feedparser can read either
    return _ENTITY_DECLARATION.search(_CDATA.sub(b"", body)) is not None


def _settle_charset(body: bytes, content_type: str | None) -> tuple[str | None, str | None]:
    """The Content-Type to give feedparser, and a note when header and document disagree.

    feedparser lets the HTTP charset win (RFC 3023), which servers often set to a default
    (iso-8859-1) whatever the feed is in. When the header's decoding reads as mojibake and
    the document's own declaration decodes cleanly, the declaration wins.
    """
    header = charset_from_content_type(content_type)
    match = _XML_ENCODING.match(body[:1024])
    declared = match.group(1).decode("ascii") if match else None
    header_codec, declared_codec = codec_name(header), codec_name(declared)
    if not header or not declared or not declared_codec or header_codec == declared_codec:
        return content_type, None
    kept = f"the HTTP header says {header}, the document {declared}: {header} used"
    try:
        by_document = body.decode(declared_codec)
    except UnicodeDecodeError:
        return content_type, kept
    try:
        by_header = body.decode(header_codec) if header_codec else None
    except UnicodeDecodeError:
        by_header = None
    if by_header is not None and mess_ratio(by_header[:MESS_SAMPLE]) <= mess_ratio(
        by_document[:MESS_SAMPLE]
    ):
        return content_type, kept
    media_type = (content_type or "").split(";")[0].strip().lower()
    # text/xml without a charset means us-ascii to feedparser (RFC 3023).
    without_charset = "application/xml" if media_type in ("", "text/xml") else media_type
    return without_charset, (
        f"the HTTP header says {header}, the document {declared}: {declared} used "
        f"(it reads cleanly, {header} does not)"
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
    absolute = urljoin(feed_url, storable(link).strip()) if link else ""
    return absolute if absolute.startswith(("http://", "https://")) else None


def _entry_time(entry: Any) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # not entry.get: that maps keys and warns about it
        if value:
            try:
                return to_utc(datetime.fromtimestamp(calendar.timegm(value), UTC))
            except (OverflowError, ValueError, OSError):  # year 1, or 99999
                return None
    return None
