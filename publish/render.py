"""A digest as Markdown, HTML, JSON and plain text.

Article text is untrusted: the HTML template is autoescaped by jinja2, and in
Markdown every character that could start markup or raw HTML is backslash-escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from storage.digests import Digest

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("publish", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = lambda text: _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    env.filters["when"] = lambda at: f"{at:%Y-%m-%d %H:%M} UTC"
    env.filters["number"] = lambda value: f"{value:,.15g}"
    env.filters["signed"] = lambda value: f"{value:+,.15g}"
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def title_of(digest: Digest) -> str:
    return f"newsmon digest {digest.created_at:%Y-%m-%d %H:%M} UTC"


def render(digest: Digest) -> dict[str, str]:
    """{'markdown': ..., 'html': ..., 'json': ...} for one digest."""
    context = _context(digest)
    return {
        "markdown": _TEXT.get_template("digest.md.j2").render(context),
        "html": _HTML.get_template("digest.html.j2").render(context),
        "json": json.dumps(_as_json(digest), ensure_ascii=False, indent=2),
    }


def render_text(digest: Digest, title: str) -> str:
    """For the terminal (`newsmon diff`): every development, nothing cut."""
    return _TEXT.get_template("digest.txt.j2").render(_context(digest, title))


def _context(digest: Digest, title: str | None = None) -> dict[str, Any]:
    developments, stories = len(digest.development_ids), len(digest.stories)
    since = f" since {digest.since:%Y-%m-%d %H:%M} UTC" if digest.since else ""
    summary = (
        f"{developments} new development{'s' * (developments != 1)} in {stories} "
        f"stor{'ies' if stories != 1 else 'y'}{since}."
    )
    return {"digest": digest, "title": title or title_of(digest), "summary": summary}


def _as_json(digest: Digest) -> dict[str, Any]:
    return {
        "digest_id": digest.digest_id,
        "created_at": digest.created_at.isoformat(),
        "since": digest.since.isoformat() if digest.since else None,
        "stories": [
            {
                **_ids_as_strings({k: v for k, v in asdict(story).items() if k != "developments"}),
                "also_reported_by": story.also_reported_by,
                "developments": [
                    _ids_as_strings({**asdict(d), "first_seen_at": d.first_seen_at.isoformat()})
                    for d in story.developments
                ],
            }
            for story in digest.stories
        ],
    }


def _ids_as_strings(fields: dict[str, Any]) -> dict[str, Any]:
    """64-bit ids as strings: JavaScript's numbers hold 53 bits, and would round them."""
    return {k: str(v) if k.endswith("_id") and isinstance(v, int) else v for k, v in fields.items()}
