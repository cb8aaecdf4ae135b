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
import httpx

from publish.channels import Message, service


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


FORMATS = {"markdown": apprise.NotifyFormat.MARKDOWN, "html": apprise.NotifyFormat.HTML}


def send(url: str, message: Message) -> str | None:
    """Send one message to one apprise URL; None on success, else why not (no secrets)."""
    if message.body_format == "json":
        return _post_json(url, message.body)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return f"{channel_label(url)} is not a URL apprise understands; check NEWSMON_NOTIFY_URLS"
    # apprise ships no type hints; LogCapture is its documented way to read why a send failed.
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        delivered = notifier.notify(
            title=message.title, body=message.body, body_format=FORMATS[message.body_format]
        )
    if delivered:
        return None
    reason = _redact(captured.getvalue().strip().splitlines()[-1:] or ["no reason given"], url)
    return _refused(url, reason)


def _post_json(url: str, payload: str) -> str | None:
    """POST the structured payload where apprise's json:// would post its own, with the
    URL's user, password, +headers and -parameters as apprise reads them."""
    plugin = service(url)
    if plugin is None:
        return f"{channel_label(url)} is not a URL apprise understands; check NEWSMON_NOTIFY_URLS"
    port = f":{plugin.port}" if plugin.port else ""
    target = f"{'https' if plugin.secure else 'http'}://{plugin.host}{port}{plugin.fullpath}"
    auth = (plugin.user, plugin.password or "") if plugin.user else None
    headers = {"Content-Type": "application/json; charset=utf-8", **plugin.headers}
    try:
        response = httpx.request(
            plugin.method,
            target,
            content=payload.encode("utf-8"),
            headers=headers,
            params=plugin.params,
            auth=auth,
            timeout=10.0,
            verify=plugin.verify_certificate,
        )
    except httpx.HTTPError as exc:
        return _refused(url, type(exc).__name__)
    if response.is_success:
        return None
    return _refused(url, f"HTTP {response.status_code}")


def _refused(url: str, reason: str) -> str:
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
