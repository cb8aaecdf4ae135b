"""Page bytes to an Article: decode, extract with trafilatura, normalize, fingerprint. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import trafilatura
from trafilatura.utils import load_html

from analysis.dedup import content_hash, signature
from extractors.encoding import decode_html
from extractors.metadata import page_metadata
from extractors.normalize import canonical_url, normalize_inline, normalize_text, same_site, to_utc
from newsmon.records import Article

_HTML_LANG = re.compile(
    r"""<html[^>]*?\slang\s*=\s*["']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?""", re.I
)


def extract_article(
    body: bytes, url: str, content_type: str | None = None, content_language: str | None = None
) -> Article | None:
    """The article in `body` (fetched from `url`), or None when the page holds no text.

    The canonical URL is the page's <link rel=canonical> (or og:url) when it is
    on the same site as `url`, else `url` itself, both without tracking parameters.
    """
    html, encoding = decode_html(body, content_type)
    tree = load_html(html)
    if tree is None:
        return None
    meta = page_metadata(tree, url)
    # Page comments are readers' words, not the article's; metadata: extractors/metadata.py.
    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=True, with_metadata=False
    )
    text = normalize_text(getattr(document, "text", None) or "")
    fingerprint = signature(text)
    if document is None or fingerprint is None:
        return None  # fewer than three words is not an article
    declared = urljoin(url, meta.url) if meta.url else url
    return Article(
        canonical_url=canonical_url(declared if same_site(declared, url) else url),
        title=normalize_inline(meta.title),
        author=normalize_inline(meta.author),
        site_name=normalize_inline(meta.site_name),
        language=_language(html, content_language),
        published_at=_page_date(meta.published),
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
    """ISO 8601 as declared (an offset is honoured; none means UTC), an RFC 2822 date, or
    seconds or milliseconds since 1970 (some CMSs write those)."""
    if not value:
        return None
    digits = value.strip()
    if digits.isdigit() and len(digits) in (10, 13):
        return to_utc(datetime.fromtimestamp(int(digits) / 10 ** (len(digits) - 10), UTC))
    try:
        return to_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        pass
    try:
        return to_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
