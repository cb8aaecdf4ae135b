"""The only network code: guarded, size-capped, conditional GETs with httpx."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from newsmon.errors import (
    BlockedURLError,
    PermanentFetchError,
    ResponseTooLargeError,
    TransientFetchError,
)
from newsmon.settings import Settings

MAX_REDIRECTS = 5  # what browsers tolerate is ~20; feeds and articles need 1 or 2
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
# 429 and 5xx are the server saying "later"; other 4xx will not change by waiting.
TRANSIENT_STATUSES = frozenset(
    {408, 425, 429, 500, 502, 503, 504, 507, 508, 509, 520, 521, 522, 523, 524}
)
# feedparser's own ACCEPT_HEADER, shortened: feeds first, then anything XML-ish.
FEED_ACCEPT = (
    "application/atom+xml,application/rdf+xml,application/rss+xml,"
    "application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"
)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200-299, or 304 when the conditional GET said "not modified"
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    content_language: str | None
    moved_permanently: bool  # every redirect on the way was 301/308


def make_client(settings: Settings) -> httpx.AsyncClient:
    """One client per run: shared connection pool, real User-Agent, redirects followed by hand."""
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=False,
        limits=httpx.Limits(
            max_connections=settings.max_in_flight, max_keepalive_connections=settings.max_in_flight
        ),
    )


async def check_url(url: str, allow_private: bool) -> None:
    """Refuse non-http(s) URLs and, unless allowed, hosts that resolve to private addresses.

    Checked again on every redirect hop, so a public URL cannot bounce us onto
    169.254.169.254 or the loopback interface.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedURLError(url, f"Refused {url}: only http and https URLs are fetched")
    if allow_private:
        return
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443)
        except OSError as exc:
            raise TransientFetchError(
                url, f"Could not resolve {host} ({exc}); retried next run"
            ) from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise BlockedURLError(
                url,
                f"Refused {url}: {host} resolves to the non-public address {address}; "
                "set NEWSMON_ALLOW_PRIVATE_HOSTS=true only if you mean to poll your own network",
            )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    settings: Settings,
    max_bytes: int,
    accept: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET `url`, following up to MAX_REDIRECTS redirects; raises a FetchError subclass."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    redirected, permanent = False, True
    for _ in range(MAX_REDIRECTS + 1):
        await check_url(url, settings.allow_private_hosts)
        try:
            async with client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status in REDIRECT_STATUSES and "location" in response.headers:
                    redirected, permanent = True, permanent and status in PERMANENT_REDIRECTS
                    url = urljoin(url, response.headers["location"])
                    continue
                if status in TRANSIENT_STATUSES:
                    raise TransientFetchError(
                        url, f"{url} answered HTTP {status}; it will be retried next run", status
                    )
                if status >= 400:
                    raise PermanentFetchError(url, f"{url} answered HTTP {status}", status)
                body = b"" if status == 304 else await _read_capped(response, url, max_bytes)
                return Fetched(
                    url=url,
                    status=status,
                    body=body,
                    content_type=response.headers.get("content-type"),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    content_language=response.headers.get("content-language"),
                    moved_permanently=redirected and permanent,
                )
        except httpx.TimeoutException:
            raise TransientFetchError(
                url, f"{url} timed out after {settings.timeout:g}s; it will be retried next run"
            ) from None
        except httpx.HTTPError as exc:
            raise TransientFetchError(
                url, f"{url} failed: {type(exc).__name__}: {exc}; it will be retried next run"
            ) from None
    raise PermanentFetchError(url, f"{url}: more than {MAX_REDIRECTS} redirects; fix the link")


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The decoded body, stopping as soon as it passes `max_bytes` (gzip bombs included)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(
            url, f"{url} is {int(declared):,} bytes, over the {max_bytes:,} byte limit"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLargeError(
                url, f"{url} passed the {max_bytes:,} byte limit while downloading"
            )
        chunks.append(chunk)
    return b"".join(chunks)
