"""A page's title, author, site name, date and canonical URL, from what its publisher declares.

News pages declare these in <meta> tags (OpenGraph, Dublin Core), JSON-LD and
<link rel=canonical>; reading them takes a fraction of a millisecond. trafilatura's
own metadata pass also hunts for licences, categories and tags through every link
of the page, which on a link-heavy news page costs more than half of the text
extraction itself (benchmarks/pipeline.py). It stays the fallback for pages that
declare no title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
}
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·]\s+")


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None
    author: str | None
    site_name: str | None
    published: str | None  # as written on the page (ISO 8601 nearly always)
    url: str | None  # canonical URL as declared, possibly relative


def page_metadata(tree: HtmlElement, url: str) -> PageMeta:
    meta = _meta_tags(tree)
    ld = _json_ld_article(tree)
    site_name = _first(
        meta.get("og:site_name"), _name(ld.get("publisher")), meta.get("application-name")
    )
    title = _first(
        meta.get("og:title"),
        meta.get("twitter:title"),
        _text(ld.get("headline")),
        _strip_site(_text(tree.findtext(".//title")), site_name),
    )
    if title is None:
        fallback = extract_metadata(tree, default_url=url)
        return PageMeta(
            fallback.title,
            fallback.author,
            site_name or fallback.sitename,
            fallback.date,
            _canonical(tree, meta) or fallback.url,
        )
    return PageMeta(
        title=title,
        author=_first(
            meta.get("author"),
            _name(ld.get("author")),
            meta.get("article:author") if not _is_url(meta.get("article:author")) else None,
            meta.get("dc.creator"),
            _text(next(iter(tree.xpath('//*[@rel="author"]//text()')), None)),
        ),
        site_name=site_name,
        published=_first(
            meta.get("article:published_time"),
            _text(ld.get("datePublished")),
            meta.get("date"),
            meta.get("pubdate"),
            meta.get("publishdate"),
            meta.get("dc.date"),
            meta.get("dcterms.created"),
            next(iter(tree.xpath("//time/@datetime")), None),
        ),
        url=_canonical(tree, meta),
    )


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """name/property/itemprop (lowercased) -> content; the first of each wins."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = _text(element.get("content"))
        if key and content:
            found.setdefault(key.strip().lower(), content)
    return found


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for item in _items(data):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and k.lower() in ARTICLE_TYPES for k in kinds):
                return item
    return {}


def _items(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for value in data:
            yield from _items(value)
    elif isinstance(data, dict):
        yield data
        yield from _items(data.get("@graph", []))


def _canonical(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    for link in tree.iter("link"):
        href = link.get("href")
        if "canonical" in (link.get("rel") or "").lower().split() and href:
            return str(href).strip()
    return meta.get("og:url")


def _name(value: Any) -> str | None:
    """A JSON-LD person or organisation (or a list of them) as text."""
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        return _text(value.get("name"))
    return _text(value)


def _strip_site(title: str | None, site_name: str | None) -> str | None:
    """'Headline | The Site' -> 'Headline' when the last part is the site's name."""
    if not title or not site_name:
        return title
    parts = TITLE_SEPARATORS.split(title)
    if len(parts) > 1 and parts[-1].strip().casefold() == site_name.casefold():
        return title[: title.rfind(parts[-1])].rstrip(" |-–—:·") or title
    return title


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _is_url(value: str | None) -> bool:
    return value is not None and value.startswith(("http://", "https://"))


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)
