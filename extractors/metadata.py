"""A page's title, authors, site name, date and canonical URL, from what its publisher declares.

News pages declare these in <meta> tags (OpenGraph, Dublin Core), JSON-LD and
<link rel=canonical>; reading them takes a fraction of a millisecond. trafilatura's
own metadata pass also hunts for licences, categories and tags through every link
of the page, which on a link-heavy news page costs more than half of the text
extraction itself (benchmarks/pipeline.py). Its parts serve as fallbacks only: the
title pass for pages that declare no title, the byline search for pages that name no
author, and htmldate for pages that declare no usable date.

Authors are people (or the news agency a story came from), never the publisher
itself: CMSs fill `<meta name=author>` with the site's name ("NDR", "Condé Nast"), an
e-mail address or a URL, while the JSON-LD article lists the real writers, so the
JSON-LD article's authors come first and every candidate that names the publisher is
passed over. Dates go the same way: the first declared date that reads as a plausible
publication time wins, so a placeholder like 0001-01-01 falls through to the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

from extractors.normalize import to_utc

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "liveblogposting",
    "webpage",
}
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·]\s+")
# Meta names that hold authors, in the order they are trusted.
AUTHOR_META = (
    "author",
    "article:author",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
    "cxenseparse:author",
    "articleauthor",
    "byl",
)
# Meta names that hold the publication time, in the order they are trusted.
DATE_META = (
    "article:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "dcterms.issued",
    "prism.publicationdate",
    "parsely-pub-date",
    "sailthru.date",
    "og:published_time",
)
PUBLISHER_META = ("og:site_name", "publisher", "dc.publisher", "application-name")
_NAME_SEPARATORS = re.compile(
    r"\s*(?:[,;|]|\s&\s|\s(?:and|und|og|och|et|y|e|en|i|ve|и)\s)\s*", re.IGNORECASE
)
_BYLINE_PREFIX = re.compile(
    r"^(?:by|von|par|por|av|door|od|från|fra|af|tekst|text|aut(?:h)?or(?:in|es|s)?|written by)"
    r"[:\s]+",
    re.IGNORECASE,
)
_ROLE_SUFFIX = re.compile(r"\s*(?:\([^)]*\)|\s[/–—-]\s.*)$")  # "Name (abc)", "Name / Journalist"
_ADDRESS = re.compile(r"@|https?:|www\.", re.I)
_NOT_A_NAME = re.compile(_ADDRESS.pattern + r"|\.(?:com|de|org|net|co\.uk)\b|^\W*\d+\W*$", re.I)
_BYLINE = XPath(
    '//*[contains(@class, "uthor") or contains(@class, "yline") or contains(@id, "uthor")'
    ' or contains(@itemprop, "author")]'
)
# Links to one author's page (/autoren/name/max-kolter, /author/jane-doe), not to the list
# of authors (/autoren): the last resort.
_AUTHOR_LINK = XPath(
    '//a[re:test(@href, "/(author|autor|auteur|yazar)[a-z]*/[^/?#]", "i")]',
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_COMMENTS = re.compile("comment|respon|reply|caption|credit|teaser|related", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"\b\d[\d.:/-]*(?:\s*(?:uhr|am|pm|h))?\b", re.IGNORECASE)
MAX_BYLINE_CHARS = 120
_JSON_WRAPPERS = re.compile(r"^\s*(?://)?\s*(?:<!\[CDATA\[|<!--)|(?://)?\s*(?:\]\]>|-->)\s*$")
MAX_NAME_CHARS = 80
NAME_PARTICLES = {
    *("von", "van", "der", "den", "de", "da", "das", "dos", "del", "della", "di", "du", "la"),
    *("le", "y", "e", "bin", "bint", "ibn", "al", "el", "ben", "zu", "ter", "op"),
}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "ne", "or", "gv"}  # co.uk, com.tr...
MAX_NAME_WORDS = 5  # "Dr. Maria de la Cruz": a longer run of words is a sentence, not a name


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None
    author: str | None  # one or more names, ", "-separated
    site_name: str | None
    published: datetime | None  # UTC, within the plausible window
    url: str | None  # canonical URL as declared, possibly relative


def page_metadata(tree: HtmlElement, url: str) -> PageMeta:
    meta = _meta_tags(tree)
    ld = _json_ld_article(tree)
    site_name = _first(
        _one(meta, "og:site_name"), _name(ld.get("publisher")), _one(meta, "application-name")
    )
    title = _first(
        _one(meta, "og:title"),
        _one(meta, "twitter:title"),
        _text(ld.get("headline")),
        _strip_site(_text(tree.findtext(".//title")), site_name),
    )
    fallback = extract_metadata(tree, default_url=url) if title is None else None
    return PageMeta(
        title=title or (fallback.title if fallback else None),
        author=_authors(tree, meta, ld, _publisher_keys(meta, ld, url)),
        site_name=site_name or (fallback.sitename if fallback else None),
        published=_published(tree, meta, ld),
        url=_canonical(tree, meta) or (fallback.url if fallback else None),
    )


def _meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    """name/property/itemprop (lowercased) -> every content declared under it, in order."""
    found: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = _text(element.get("content"))
        if key and content:
            found.setdefault(key.strip().lower(), []).append(content)
    return found


def _one(meta: dict[str, list[str]], key: str) -> str | None:
    values = meta.get(key)
    return values[0] if values else None


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:  # some CMSs wrap it in <![CDATA[ ]]> or <!-- -->, or leave raw newlines in strings
            data = json.loads(_JSON_WRAPPERS.sub("", script), strict=False)
        except ValueError:
            continue
        for item in _items(data):
            if _types(item) & ARTICLE_TYPES and ("headline" in item or "author" in item):
                return item
    return {}


def _items(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for value in data:
            yield from _items(value)
    elif isinstance(data, dict):
        yield data
        yield from _items(data.get("@graph", []))


def _types(item: dict[str, Any]) -> set[str]:
    kinds = item.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _canonical(tree: HtmlElement, meta: dict[str, list[str]]) -> str | None:
    for link in tree.iter("link"):
        href = link.get("href")
        if "canonical" in (link.get("rel") or "").lower().split() and href:
            return str(href).strip()
    return _one(meta, "og:url")


# Authors


def _authors(
    tree: HtmlElement, meta: dict[str, list[str]], ld: dict[str, Any], publishers: set[str]
) -> str | None:
    """The first source that names someone other than the publisher: the JSON-LD article,
    the author meta tags, rel=author links, the page's byline, then links to author pages;
    failing all, the JSON-LD article's author as declared, even if it is the publisher."""

    declared = _ld_names(ld.get("author"))

    def sources() -> Iterator[Iterable[str]]:
        yield declared
        for key in AUTHOR_META:
            values = meta.get(key, [])
            yield (_first_last(v) for v in values) if key == "dc.creator" else values
        yield (link.text_content() for link in tree.xpath('//a[@rel="author"]'))
        yield from ([line] for line in _marked_lines(tree, _BYLINE))
        yield _marked_lines(tree, _AUTHOR_LINK)

    for candidates in sources():
        names = _names(candidates, publishers)
        if names:
            return ", ".join(names)
    # Nobody named: whom the JSON-LD article credits ("ndr.de", "Guardian staff reporter").
    return ", ".join(n for n in dict.fromkeys(declared) if not _ADDRESS.search(n)) or None


def _marked_lines(tree: HtmlElement, marked: XPath) -> Iterator[str]:
    """Short texts of the elements `marked` selects (bylines, say), outside reader comments.

    One cheap XPath; trafilatura's own byline search prunes a copy of the whole tree
    and costs 30-90 ms on a large news page. Child elements' texts are kept apart, so
    "<b>Sommer</b><i>Sendung: hr</i>" is not read as one word."""
    for element in marked(tree):
        marks = (f"{a.get('class', '')} {a.get('id', '')}" for a in element.iterancestors())
        if any(_COMMENTS.search(mark) for mark in marks):
            continue
        line = _DATE_OR_TIME.sub(" ", " ".join(" ".join(element.itertext()).split())).strip()
        if 0 < len(line) <= MAX_BYLINE_CHARS:
            yield line


def _names(candidates: Iterable[str], publishers: set[str]) -> list[str]:
    """Distinct person-like names in `candidates`, each split at separators ("A and B")."""
    found: list[str] = []
    for candidate in candidates:
        if _NOT_A_NAME.search(candidate.strip()):
            continue
        for part in _NAME_SEPARATORS.split(_BYLINE_PREFIX.sub("", " ".join(candidate.split()))):
            name = _ROLE_SUFFIX.sub("", part).strip(" .:-–—")
            if _is_name(name, publishers) and name not in found:
                found.append(name)
    return found


def _is_name(name: str, publishers: set[str]) -> bool:
    words = name.split()
    if not 0 < len(words) <= MAX_NAME_WORDS or len(name) > MAX_NAME_CHARS:
        return False
    if _NOT_A_NAME.search(name) or ":" in name or _is_phrase(words):
        return False  # a colon left after the byline's "By:" labels something else
    key = _key(name)
    return bool(key) and not any(
        key == p or (len(p) >= 3 and key.startswith(p)) for p in publishers
    )


def _is_phrase(words: list[str]) -> bool:
    """Words in lower case after the first, other than name particles ('von', 'de', 'bin'):
    a phrase such as 'Veröffentlicht am um', not a name. Agency codes ('dpa') are one word."""
    if len(words) < 2 or words[0] == words[0].upper():  # also scripts without case
        return False
    return any(w.islower() and w not in NAME_PARTICLES for w in words[1:])


def _publisher_keys(meta: dict[str, list[str]], ld: dict[str, Any], url: str) -> set[str]:
    """Spellings of the publisher's name: what the page declares, and its host's own label."""
    names = [v for key in PUBLISHER_META for v in meta.get(key, [])]
    names += _ld_names(ld.get("publisher"))
    names += [v.lstrip("@") for v in meta.get("twitter:site", [])]
    names.append(_site_label(urlsplit(url).hostname or ""))
    return {key for key in map(_key, names) if key}


def _site_label(host: str) -> str:
    """The name a site is registered under: 'bbc' in news.bbc.co.uk, 'n-tv' in www.n-tv.de."""
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else ""


def _ld_names(value: Any) -> list[str]:
    """Names in a JSON-LD author or publisher: a Person or Organization, a list, or text."""
    if isinstance(value, list):
        return [name for item in value for name in _ld_names(item)]
    if isinstance(value, dict):
        name = _text(value.get("name"))
        if name is None:  # schema.org Person may give the parts only
            parts = (_text(value.get("givenName")), _text(value.get("familyName")))
            name = " ".join(p for p in parts if p) or None
        return [name] if name else []
    text = _text(value)
    return [text] if text else []


def _first_last(value: str) -> str:
    """Dublin Core's 'Family, Given' as 'Given Family'."""
    family, comma, given = value.partition(",")
    if comma and given.strip() and "," not in given and len(family.split()) <= 2:
        return f"{given.strip()} {family.strip()}"
    return value


def _key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


# Dates


def _published(
    tree: HtmlElement, meta: dict[str, list[str]], ld: dict[str, Any]
) -> datetime | None:
    """The first declared date that is a plausible publication time, else htmldate's."""
    declared = [_text(ld.get("datePublished"))]
    declared += [v for key in DATE_META for v in meta.get(key, [])]
    declared += tree.xpath("//time/@datetime")[:1]
    for value in declared:
        moment = parse_date(value)
        if moment is not None:
            return moment
    found = find_date(
        tree, extensive_search=False, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S%z"
    )
    return parse_date(found)


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 as declared (an offset is honoured; none means UTC), an RFC 2822 date, or
    seconds or milliseconds since 1970 (some CMSs write those); None unless plausible."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit() and len(value) in (10, 13):
        return to_utc(datetime.fromtimestamp(int(value) / 10 ** (len(value) - 10), UTC))
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    try:
        return to_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


# Text


def _name(value: Any) -> str | None:
    """A JSON-LD person or organisation (or a list of them) as text."""
    return ", ".join(_ld_names(value)) or None


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


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)
