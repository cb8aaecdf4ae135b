"""What each channel receives: the digest in the format its service wants, in messages that
fit the size its service accepts.

- a JSON webhook (json://, jsons://) gets one structured payload: apprise's fields (version,
  title, message, type) plus `digest`, the JSON digest itself, ids as strings;
- e-mail gets the HTML digest, the page the digest folder has;
- chat and the rest get Markdown.

The size limits are apprise's own knowledge of each service (Telegram 4,096 characters,
Discord 2,000 ...). A digest over the limit is split between stories, then between
bullets, then between words, never inside one; the parts are numbered in their titles,
and the last links to the full digest when NEWSMON_PUBLIC_URL says where it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import apprise

EMAIL_SCHEMES = frozenset({"mailto", "mailtos"})
JSON_SCHEMES = frozenset({"json", "jsons"})


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    body_format: str  # "markdown", "html" or "json"


def service(url: str) -> Any:
    """apprise's object for the URL (None if apprise does not know it), found quietly: its
    log lines quote the URL, a secret."""
    quiet = logging.getLogger("apprise")
    was, quiet.disabled = quiet.disabled, True
    try:
        return apprise.Apprise.instantiate(url)
    finally:
        quiet.disabled = was


def messages_for(url: str, rendered: dict[str, str], full_digest: str | None) -> list[Message]:
    """The messages that carry one digest to the channel `url`, in order."""
    title = json.loads(rendered["json"]).get("title") or "newsmon digest"
    scheme = url.split("://", 1)[0].lower()
    if scheme in JSON_SCHEMES:
        payload = {
            "version": "1.0",
            "title": title,
            "message": rendered["markdown"],
            "type": "info",
            "digest": json.loads(rendered["json"]),
        }
        return [Message(title, json.dumps(payload, ensure_ascii=False), "json")]
    plugin = service(url)
    limit = int(getattr(plugin, "body_maxlen", 0) or 0) or 32768
    title_limit = int(getattr(plugin, "title_maxlen", 250) or 0)
    if scheme in EMAIL_SCHEMES and len(rendered["html"]) <= limit:
        return [Message(title[:title_limit] if title_limit else title, rendered["html"], "html")]
    if not title_limit:  # the service shows no title (Telegram): it opens the body instead
        return [
            Message("", body, "markdown")
            for body in split(rendered["markdown"], limit, full_digest, numbered=True)
        ]
    body = _without_title(rendered["markdown"])
    parts = split(body, limit, full_digest, numbered=False)
    return [
        Message(_numbered(title, n, len(parts), title_limit), part, "markdown")
        for n, part in enumerate(parts, start=1)
    ]


def split(text: str, limit: int, full_digest: str | None, numbered: bool) -> list[str]:
    """`text` in parts of at most `limit` characters, cut between stories ('## '), else
    between lines, else between words. With `numbered`, each part after the first opens
    with "(2/3)"; the last ends with the link to the full digest, if there is one."""
    link = f"\n\n[The full digest]({full_digest})" if full_digest else ""
    if full_digest and full_digest in text:
        link = ""  # the Markdown digest links to itself already
    if len(text) + len(link) <= limit:
        return [text + link]
    budget = limit - len(link) - (len(" (99/99)\n\n") if numbered else 0)
    if budget < 20:
        raise ValueError(f"a message limit of {limit} characters cannot carry a digest")
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, budget):
        gap = "\n\n" if piece.startswith("## ") else "\n"
        joined = f"{current}{gap}{piece}" if current else piece
        if len(joined) <= budget:
            current = joined
        else:
            parts.append(current)
            current = piece
    parts.append(current)
    parts = [part.strip("\n") for part in parts if part.strip()]
    if numbered:
        parts = [parts[0]] + [f"({n}/{len(parts)})\n\n{p}" for n, p in enumerate(parts[1:], 2)]
    parts[-1] += link
    return parts


def _pieces(text: str, budget: int) -> list[str]:
    """Stories whole where they fit, else their lines, else a line's words."""
    sections: list[str] = []
    for section in text.split("\n## "):
        sections.append(section if not sections else "## " + section)
    pieces: list[str] = []
    for section in sections:
        if len(section) <= budget:
            pieces.append(section)
            continue
        for line in section.split("\n"):
            if len(line) <= budget:
                pieces.append(line)
                continue
            words: list[str] = []
            for word in line.split(" "):
                if words and len(" ".join([*words, word])) > budget:
                    pieces.append(" ".join(words))
                    words = []
                while len(word) > budget:  # one "word" longer than a message: a long URL
                    pieces.append(word[:budget])
                    word = word[budget:]
                words.append(word)
            pieces.append(" ".join(words))
    return pieces


def _without_title(markdown: str) -> str:
    """The Markdown digest without its '# title' line: the service shows the title."""
    first, _, rest = markdown.partition("\n")
    return rest.lstrip("\n") if first.startswith("# ") else markdown


def _numbered(title: str, n: int, count: int, limit: int) -> str:
    mark = f" ({n}/{count})" if count > 1 else ""
    if len(title) + len(mark) > limit:
        title = title[: max(0, limit - len(mark) - 1)].rsplit(" ", 1)[0] + "…"
    return title + mark
