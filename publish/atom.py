"""The Atom feed of digests: one entry per digest, newest first, rewritten in full each time.

Rewriting from the digests table makes the file idempotent: a digest run that
is repeated, or crashes half-way, never leaves a duplicated or missing entry.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
FEED_TITLE = "newsmon: new developments"


def entry_id(digest_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'newsmon:digest:{digest_id}')}"


def write_feed(
    path: Path, digests: list[tuple[str, datetime, int, int, str]], now: datetime
) -> Path:
    """Write `path` atomically from (digest_id, created_at, developments, stories, html) rows."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(
        feed, "id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'newsmon:feed:{path.resolve()}')}"
    )
    _text(feed, "title", FEED_TITLE)
    _text(feed, "updated", (digests[0][1] if digests else now).isoformat())
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "newsmon")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=path.resolve().as_uri())
    _text(feed, "generator", "newsmon")
    for digest_id, created_at, developments, stories, html in digests:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", entry_id(digest_id))
        _text(
            entry,
            "title",
            f"{developments} developments, {stories} stories, {created_at:%Y-%m-%d %H:%M} UTC",
        )
        _text(entry, "updated", created_at.isoformat())
        html_file = path.with_name(f"{digest_id}.html")
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="alternate",
            type="text/html",
            href=html_file.resolve().as_uri(),
        )
        _text(entry, "content", html, type="html")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".atom.partial")
    ET.ElementTree(feed).write(partial, encoding="utf-8", xml_declaration=True)
    os.replace(partial, path)
    return path


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element
