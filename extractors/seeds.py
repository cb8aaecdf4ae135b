"""The seed corpus: the articles every later one is measured against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analysis.dedup import Signature, content_hash, signature
from extractors.normalize import canonical_url, normalize_inline, normalize_text

# A seed saved from a blog ends with its short link; it is the seed's address, not its text.
_SHORTLINK = re.compile(r"^\s*Shortlink for this post:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
# A first line this short, without closing punctuation and set apart by a blank line, is a headline.
MAX_TITLE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Seed:
    name: str  # the file name, stored as articles.seed_name
    url: str | None
    title: str | None
    text: str
    content_hash: str
    signature: Signature | None


def load_seeds(folder: Path) -> list[Seed]:
    """Every *.txt file in `folder`, sorted by name; a missing folder means no seeds."""
    if not folder.is_dir():
        return []
    return [read_seed(path) for path in sorted(folder.glob("*.txt"))]


def read_seed(path: Path) -> Seed:
    raw = path.read_text(encoding="utf-8")
    url = None
    match = _SHORTLINK.search(raw)
    if match:
        url = canonical_url(match.group(1))
        raw = raw[: match.start()] + raw[match.end() :]
    title = None
    head, sep, rest = raw.lstrip().partition("\n")
    if (
        sep
        and rest.startswith(("\n", "\r\n"))
        and len(head) <= MAX_TITLE_CHARS
        and not head.rstrip().endswith((".", "!", "?", '"', "”"))
    ):
        title, raw = normalize_inline(head), rest
    text = normalize_text(raw)
    return Seed(
        name=path.name,
        url=url,
        title=title,
        text=text,
        content_hash=content_hash(text),
        signature=signature(text),
    )
