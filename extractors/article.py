"""Page bytes to an Article: decode, extract with trafilatura, normalize, fingerprint. Pure."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from analysis.dedup import content_hash, signature
from analysis.language import text_language
from extractors.encoding import decode_html
from extractors.metadata import page_metadata
from extractors.normalize import canonical_url, normalize_inline, normalize_text, same_site
from newsmon.records import Article, PageFields

# Less text than this from trafilatura's main extractor: let its fallbacks look too.
SHORT_ARTICLE_CHARS = 1000


def extract_article(
    body: bytes, url: str, content_type: str | None = None, content_language: str | None = None
) -> Article | PageFields | None:
    """The article in `body` (fetched from `url`); only what the page says of itself when it
    holds no article text; None when it is not HTML at all.

    The canonical URL is the page's <link rel=canonical> (or og:url) when it is
    on the same site as `url`, else `url` itself, both without tracking parameters.
    """
    html, encoding = decode_html(body, content_type)
    tree = load_html(html)
    if tree is None:
        return None
    meta = page_metadata(tree, url)
    text = normalize_text(_body_text(tree, url))
    title = normalize_inline(meta.title)
    declared = urljoin(url, meta.url) if meta.url else url
    canonical = canonical_url(declared if same_site(declared, url) else url)
    author, site_name = normalize_inline(meta.author), normalize_inline(meta.site_name)
    language = text_language(f"{title or ''}\n{text}", _declared_language(tree, content_language))
    fingerprint = signature(text)
    if fingerprint is None:  # fewer than three words is not an article
        return PageFields(canonical, title, author, site_name, language, meta.published)
    return Article(
        canonical,
        title,
        author,
        site_name,
        language,
        meta.published,
        text=text,
        content_hash=content_hash(text),
        signature=fingerprint,
        encoding=encoding,
    )


def _body_text(tree: HtmlElement, url: str) -> str:
    """trafilatura's main extractor alone, and its fallbacks (readability, jusText) only
    when that finds less than a short article.

    Measured on real news pages (benchmarks/extraction.py): the fallbacks cost a third
    of the extraction time, and where they replace the main result with a bigger block
    they mostly take in teasers and related links (body F1 0.46-0.61 on such pages,
    0.95-0.98 without them). When the main extractor finds little, the page is usually
    laid out in a way it does not know, which is what the fallbacks are for.
    """
    text = _trafilatura_text(tree, url, fast=True)
    if len(text) >= SHORT_ARTICLE_CHARS:
        return text
    return _trafilatura_text(tree, url, fast=False) or text


def _trafilatura_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    # Page comments are readers' words, not the article's; metadata: extractors/metadata.py.
    document = trafilatura.bare_extraction(
        tree, url=url, fast=fast, include_comments=False, include_tables=True, with_metadata=False
    )
    return getattr(document, "text", None) or ""


def _declared_language(tree: HtmlElement, content_language: str | None) -> str | None:
    """ISO 639 code from <html lang> as parsed (a lang inside an IE conditional comment is
    a comment, not the page's), else the Content-Language header."""
    for value in (tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")):
        code = _code(value)
        if code:
            return code
    return _code((content_language or "").split(",")[0])


def _code(value: str | None) -> str | None:
    code = re.split(r"[-_]", (value or "").strip(), maxsplit=1)[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None
