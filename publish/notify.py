"""Sending a digest to apprise URLs (Slack, Matrix, e-mail, ntfy, a JSON webhook, ...).

The URLs carry tokens and passwords, so they are secrets: the database keeps a
hash of each as the channel's key and only its scheme and host as its label,
and nothing here logs a URL or an error text that could contain one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlsplit

import apprise


def channel_key(url: str) -> str:
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


WEBHOOKS = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys"})


def channel_label(url: str) -> str:
    """'json://127.0.0.1:9000' for a webhook, 'slack://…' for the rest: no secrets."""
    parts = urlsplit(url.strip())
    if parts.scheme in WEBHOOKS and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}"
    return f"{parts.scheme}://…"


def send(url: str, title: str, body: str) -> str | None:
    """Send `body` (Markdown) to one apprise URL; None on success, else why not (no secrets)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return f"{channel_label(url)} is not a URL apprise understands; check NEWSMON_NOTIFY_URLS"
    # apprise ships no type hints; LogCapture is its documented way to read why a send failed.
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        delivered = notifier.notify(
            title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN
        )
    if delivered:
        return None
    reason = _redact(captured.getvalue().strip().splitlines()[-1:] or ["no reason given"], url)
    return f"{channel_label(url)} did not accept the digest ({reason}); it is retried next run"


def _redact(lines: list[str], url: str) -> str:
    """The last log line apprise wrote, with anything from the URL that could be secret cut."""
    text = lines[0]
    parts = urlsplit(url.strip())
    secrets = [url.strip(), parts.netloc, parts.path, parts.query, parts.username, parts.password]
    secrets += re.findall(r"[A-Za-z0-9_\-]{8,}", url)
    for secret in sorted({s for s in secrets if s and len(s) > 3}, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text[:200]
