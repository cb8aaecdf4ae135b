"""A digest as Markdown, HTML, JSON and plain text, and the shared template environment.

Article text is untrusted: the HTML templates are autoescaped by jinja2, and in
Markdown every character that could start markup or raw HTML is backslash-escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from publish.chart import line_chart
from storage.digests import Digest

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


@dataclass(frozen=True, slots=True)
class Publication:
    """What a rendering needs besides its data: the topic's name, for titles, and the public
    address of the folder newsmon writes (NEWSMON_PUBLIC_URL), for links that readers can
    open from a message or a feed reader."""

    topic: str = "newsmon"
    public_url: str = ""  # ends with '/'; '' when none is set

    def root(self, depth: int = 0) -> str:
        """The prefix of links to the folder's files from a page `depth` folders down in it:
        the public URL if there is one, else a relative path (the files open where they are)."""
        return self.public_url or "../" * depth

    def digest_url(self, digest_id: str) -> str | None:
        return f"{self.public_url}{digest_id}.html" if self.public_url else None


RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "ps", "yi", "ckb", "dv", "sd", "ug"})


def direction(language: str | None) -> str:
    """'rtl' or 'ltr' for a language newsmon identified; 'auto' (the text decides) if none."""
    if not language:
        return "auto"
    return "rtl" if language.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"


def environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("publish", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = lambda text: _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    env.filters["when"] = lambda at: f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "-"
    env.filters["day"] = lambda at: f"{at.astimezone(UTC):%d %b}"
    env.filters["number"] = lambda value: f"{value:,.15g}"
    env.filters["signed"] = lambda value: f"{value:+,.15g}"
    env.filters["direction"] = direction
    env.globals["line_chart"] = line_chart
    return env


_TEXT = environment(autoescape=False)
HTML = environment(autoescape=True)


def title_of(digest: Digest, topic: str) -> str:
    """What a reader needs to decide to open it: how many, and the biggest change
    ("Gaza ceasefire: 5 new developments — aid trucks 1,800 → 4,200")."""
    count = len(digest.development_ids)
    if not count:
        return f"{topic}: nothing new"
    title = f"{topic}: {count} new development{'s' * (count != 1)}"
    changes = [c for story in digest.stories for c in story.figure_changes]
    if changes:
        top = changes[0]
        return f"{title} — {top.label} {top.previous_value:,.15g} → {top.value:,.15g}"
    stories = len(digest.stories)
    return f"{title} in {stories} stor{'ies' if stories != 1 else 'y'}"


def render(digest: Digest, publication: Publication | None = None) -> dict[str, str]:
    """{'markdown': ..., 'html': ..., 'json': ..., 'title': ...} for one digest."""
    publication = publication or Publication()
    context = _context(digest, title_of(digest, publication.topic), publication)
    return {
        "title": context["title"],
        "markdown": _TEXT.get_template("digest.md.j2").render(context),
        "html": HTML.get_template("digest.html.j2").render(context),
        "json": json.dumps(
            _as_json(digest, context["title"]), ensure_ascii=False, indent=2, default=_iso
        ),
    }


def render_text(digest: Digest, title: str) -> str:
    """For the terminal (`newsmon diff`): every development, nothing cut."""
    return _TEXT.get_template("digest.txt.j2").render(_context(digest, title, Publication()))


def _context(digest: Digest, title: str, publication: Publication) -> dict[str, Any]:
    developments, stories = len(digest.development_ids), len(digest.stories)
    since = f" since {digest.since:%Y-%m-%d %H:%M} UTC" if digest.since else ""
    summary = (
        f"{developments} new development{'s' * (developments != 1)} in {stories} "
        f"stor{'ies' if stories != 1 else 'y'}{since}."
    )
    return {
        "digest": digest,
        "title": title,
        "summary": summary,
        "root": publication.root(),
        "public_url": publication.public_url,
        "full_digest": publication.digest_url(digest.digest_id),
    }


def _as_json(digest: Digest, title: str) -> dict[str, Any]:
    return {
        "digest_id": digest.digest_id,
        "title": title,
        "created_at": digest.created_at.isoformat(),
        "since": digest.since.isoformat() if digest.since else None,
        "stories": [
            {
                **ids_as_strings(
                    {k: v for k, v in asdict(story).items() if k not in ("developments",)}
                ),
                "also_reported_by": [asdict(outlet) for outlet in story.also_reported],
                "developments": [ids_as_strings(asdict(d)) for d in story.developments],
            }
            for story in digest.stories
        ],
    }


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def ids_as_strings(fields: dict[str, Any]) -> dict[str, Any]:
    """64-bit ids as strings: JavaScript's numbers hold 53 bits, and would round them."""
    return {k: str(v) if k.endswith("_id") and isinstance(v, int) else v for k, v in fields.items()}
