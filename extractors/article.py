"""Page bytes to an Article: decode, extract with trafilatura, normalize, fingerprint. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura

from extractors.dedup import Signature, content_hash, signature
from extractors.encoding import decode_html
from extractors.normalize import canonical_url, normalize_inline, normalize_text, same_site, to_utc

# Page comments are readers' words, not the article's.
EXTRACTION_OPTIONS = {"include_comments": False, "include_tables": True, "with_metadata": True}
_HTML_LANG = re.compile(
    r"""<html[^>]*?\slang\s*=\s*["']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?""", re.I
)


@dataclass(frozen=True, slots=True)
class Article:
    canonical_url: str
    title: str | None
    author: str | None
    site_name: str | None
    language: str | None
    published_at: datetime | None  # from the page; the feed's time is preferred by the caller
    text: str
    content_hash: str
    signature: Signature
    encoding: str


def extract_article(
    body: bytes, url: str, content_type: str | None = None, content_language: str | None = None
) -> Article | None:
    """The article in `body` (fetched from `url`), or None when the page holds no text.

    The canonical URL is the page's <link rel=canonical> (or og:url) when it is
    on the same site as `url`, else `url` itself, both without tracking parameters.
    """
    html, encoding = decode_html(body, content_type)
    document = trafilatura.bare_extraction(html, url=url, **EXTRACTION_OPTIONS)
    text = normalize_text(getattr(document, "text", None) or "")
    fingerprint = signature(text)
    if document is None or fingerprint is None:
        return None  # fewer than three words is not an article
    declared = document.url if document.url and same_site(document.url, url) else url
    return Article(
        canonical_url=canonical_url(declared),
        title=normalize_inline(document.title),
        author=normalize_inline(document.author),
        site_name=normalize_inline(document.sitename),
        language=_language(html, content_language),
        published_at=_page_date(document.date),
        text=text,
        content_hash=content_hash(text),
        signature=fingerprint,
        encoding=encoding,
    )


def _language(html: str, content_language: str | None) -> str | None:
    """ISO 639 code from <html lang>, else the Content-Language header."""
    match = _HTML_LANG.search(html[:4096])
    if match:
        return match.group(1).lower()
    if content_language:
        return content_language.split(",")[0].split("-")[0].strip().lower() or None
    return None


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(value).replace(tzinfo=UTC))
    except ValueError:
        return None
