"""The Atom feed of digests (RFC 4287): one entry per digest, newest first, rewritten in
full each time.

One entry per digest, not per story: an entry is then exactly what the channels received,
once, and a feed reader marks it read once; an entry per story would come back as
"updated" each time its story grows. Rewriting from the digests table makes the file
idempotent: a digest run that is repeated, or crashes half-way, never leaves a duplicated
or missing entry. Links are absolute: under NEWSMON_PUBLIC_URL when it is set, else
file:// addresses that open on this machine only.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import lxml.html

from publish.render import Publication
from storage.digests import Recorded

ATOM = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


def entry_id(digest_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'newsmon:digest:{digest_id}')}"


def write_feed(
    path: Path, digests: list[Recorded], now: datetime, publication: Publication
) -> Path:
    """Write `path` atomically from the latest recorded digests."""

    def address(name: str) -> str:
        return (
            publication.public_url + name
            if publication.public_url
            else (path.parent.resolve() / name).as_uri()
        )

    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    feed_key = publication.public_url or str(path.resolve())
    _text(feed, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'newsmon:feed:{feed_key}')}")
    _text(feed, "title", f"{publication.topic}: new developments")
    _text(feed, "updated", (digests[0].created_at if digests else now).isoformat())
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "newsmon")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=address(path.name))
    ET.SubElement(
        feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=address("index.html")
    )
    _text(feed, "generator", "newsmon")
    for digest in digests:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", entry_id(digest.digest_id))
        _text(entry, "title", digest.title)
        _text(entry, "updated", digest.created_at.isoformat())
        _text(entry, "published", digest.created_at.isoformat())
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="alternate",
            type="text/html",
            href=address(f"{digest.digest_id}.html"),
        )
        if digest.summary:
            _text(entry, "summary", digest.summary)
        content = _text(entry, "content", _main_part(digest.html), type="html")
        content.set(XML_BASE, address(""))  # the digest's relative links lead from its folder
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".atom.partial")
    ET.ElementTree(feed).write(partial, encoding="utf-8", xml_declaration=True)
    os.replace(partial, path)
    return path


def _main_part(html: str) -> str:
    """The digest's <main> (its body, for digests written before it had one): an entry's
    content is a fragment, not a whole page with its own <head>."""
    root = lxml.html.document_fromstring(html)
    part = root.find(".//main")
    if part is None:
        part = root.find(".//body")
    if part is None:
        return html
    return "".join(lxml.html.tostring(child, encoding="unicode") for child in part)


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element
