"""The only network code: polite, guarded, size-capped, retried GETs with httpx.

A `Fetcher` lives for one run. It keeps one client (one connection pool), at
most `per_host` requests open to a host and `host_delay` seconds between two
request starts there, at most `max_in_flight` requests open in all, and it
retries timeouts, connection errors, 429 and 5xx with jittered exponential
backoff, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from newsmon.errors import (
    BlockedURLError,
    PermanentFetchError,
    ResponseTooLargeError,
    TransientFetchError,
)
from newsmon.settings import Network, Settings

log = logging.getLogger(__name__)

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
ROBOTS_ACCEPT = "text/plain,*/*;q=0.5"


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


@dataclass(frozen=True, slots=True)
class _Redirect:
    to: str
    permanent: bool


@dataclass(slots=True)
class _Host:
    """Politeness state of one host for the run."""

    slots: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


class Fetcher:
    """`async with Fetcher(settings) as fetcher: await fetcher.get(url, ...)`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=settings.max_in_flight,
                max_keepalive_connections=settings.max_in_flight,
            ),
        )
        self._in_flight = asyncio.Semaphore(max(1, settings.max_in_flight))
        self._hosts: dict[str, _Host] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.client.aclose()

    def slow_down(self, url: str, delay: float) -> None:
        """Space requests to `url`'s host by at least `delay` seconds (robots.txt Crawl-delay)."""
        host = self._host(url)
        host.delay = max(host.delay, delay)

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET `url`, retrying what is worth retrying; raises a FetchError subclass."""
        attempt = 0
        while True:
            try:
                return await self._follow(url, max_bytes, accept, etag, last_modified)
            except TransientFetchError as exc:
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    raise TransientFetchError(
                        url, f"{exc}; {_gave_up(exc, attempt)}", exc.status, exc.retry_after
                    ) from None
                attempt += 1
                log.info("%s; retry %d of %d in %.1fs", exc, attempt, self.settings.retries, wait)
                await asyncio.sleep(wait)

    def _retry_wait(self, exc: TransientFetchError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to leave it to the next run."""
        settings = self.settings
        if attempt >= settings.retries:
            return None
        wait: float | None = exc.retry_after
        if wait is not None:
            return wait if wait <= settings.retry_max_wait else None
        # "Equal jitter": half the exponential step, plus a random part of the other half.
        step = min(settings.retry_max_wait, settings.retry_backoff * 2.0**attempt)
        return step / 2 + random.uniform(0, step / 2)

    async def _follow(
        self,
        url: str,
        max_bytes: int,
        accept: str,
        etag: str | None,
        last_modified: str | None,
    ) -> Fetched:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirected, permanent, asked = False, True, url
        for _ in range(MAX_REDIRECTS + 1):
            await check_url(url, self.settings.allow_private_hosts)
            async with self._turn(url):
                response = await self._request(url, headers, max_bytes)
            if isinstance(response, _Redirect):
                redirected, permanent, url = True, permanent and response.permanent, response.to
                continue
            return replace(response, moved_permanently=redirected and permanent)
        raise PermanentFetchError(
            asked,
            f"{asked}: more than {MAX_REDIRECTS} redirects (the last to {url}); fix the link",
        )

    async def _request(
        self, url: str, headers: dict[str, str], max_bytes: int
    ) -> Fetched | _Redirect:
        """One hop: the response, or where it redirects to."""
        timeout = self.settings.timeout
        try:
            # httpx's timeout is per network read; this bounds the whole download.
            async with (
                asyncio.timeout(timeout),
                self.client.stream("GET", url, headers=headers) as response,
            ):
                status = response.status_code
                if status in REDIRECT_STATUSES and "location" in response.headers:
                    return _Redirect(
                        urljoin(url, response.headers["location"]), status in PERMANENT_REDIRECTS
                    )
                if status in TRANSIENT_STATUSES:
                    raise TransientFetchError(
                        url,
                        f"{url} answered HTTP {status}",
                        status,
                        retry_after(response.headers.get("retry-after")),
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
                    moved_permanently=False,
                )
        except (TimeoutError, httpx.TimeoutException):
            raise TransientFetchError(url, f"{url} timed out after {timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise TransientFetchError(url, f"{url} failed: {type(exc).__name__}: {exc}") from None

    @asynccontextmanager
    async def _turn(self, url: str) -> AsyncIterator[None]:
        """Wait for a slot at the host, its delay since the last start, and a global slot."""
        host = self._host(url)
        async with host.slots:
            async with host.turn:
                loop = asyncio.get_running_loop()
                wait = host.next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                host.next_start = loop.time() + host.delay
            async with self._in_flight:
                yield

    def _host(self, url: str) -> _Host:
        name = (urlsplit(url).hostname or "").lower()
        if name not in self._hosts:
            self._hosts[name] = _Host(
                asyncio.Semaphore(max(1, self.settings.per_host)), self.settings.host_delay
            )
        return self._hosts[name]


def _gave_up(exc: TransientFetchError, attempt: int) -> str:
    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
    if exc.retry_after is not None and exc.retry_after > 0:
        return f"asked to wait {exc.retry_after:g}s after {tries}: the next run tries again"
    return f"gave up after {tries}: the next run tries again"


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def check_url(url: str, allow_private: bool | tuple[Network, ...]) -> None:
    """Refuse non-http(s) URLs and hosts that resolve to non-public addresses.

    `allow_private` is NEWSMON_ALLOW_PRIVATE_HOSTS: True lets every address
    through, a tuple of networks only those. Checked again on every redirect
    hop, so a public URL cannot bounce us onto 169.254.169.254 or loopback.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedURLError(url, f"Refused {url}: only http and https URLs are fetched")
    if allow_private is True:
        return
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443)
        except OSError as exc:
            raise TransientFetchError(url, f"Could not resolve {host} ({exc})") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    allowed = allow_private or ()
    for address in addresses:
        if (not address.is_global or address.is_multicast) and not any(
            address in network for network in allowed
        ):
            raise BlockedURLError(
                url,
                f"Refused {url}: {host} resolves to the non-public address {address}; "
                "list its network in NEWSMON_ALLOW_PRIVATE_HOSTS only if you mean to poll it",
            )


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The decoded body, stopping as soon as it passes `max_bytes`.

    Decompression is ours, `max_bytes` at a time: httpx would inflate a whole
    network chunk at once, and 64 KB of a gzip bomb is 64 MB of zeros.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(
            url, f"{url} is {int(declared):,} bytes, over the {max_bytes:,} byte limit"
        )
    encoding = _content_encoding(response.headers.get("content-encoding", ""), url)
    inflate = None
    chunks: list[bytes] = []
    size = 0

    def keep(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLargeError(
                url, f"{url} passed the {max_bytes:,} byte limit while downloading"
            )
        chunks.append(chunk)

    try:
        async for raw in response.aiter_raw():
            if not raw:
                continue
            if encoding is None:
                keep(raw)
                continue
            inflate = inflate or _decompressor(encoding, raw)
            while raw:
                keep(inflate.decompress(raw, max_bytes - size + 1))
                raw = inflate.unconsumed_tail
        if inflate is not None:
            keep(inflate.flush())
    except zlib.error as exc:
        raise PermanentFetchError(url, f"{url} sent a corrupt compressed body ({exc})") from None
    return b"".join(chunks)


def _content_encoding(content_encoding: str, url: str) -> str | None:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return encoding
    raise PermanentFetchError(
        url, f"{url} sent Content-Encoding {content_encoding!r}, which was not asked for"
    )


def _decompressor(encoding: str, first: bytes) -> Any:
    """A gzip or zlib stream (the header says which); for 'deflate' without a zlib header,
    raw deflate, which some servers send under that name (httpx reads it too)."""
    if encoding == "deflate" and not first.startswith(b"\x1f\x8b") and not _zlib_header(first):
        return zlib.decompressobj(-zlib.MAX_WBITS)
    return zlib.decompressobj(zlib.MAX_WBITS | 32)


def _zlib_header(first: bytes) -> bool:
    """RFC 1950: compression method 8, and the first two bytes a multiple of 31."""
    return len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
