"""The fetcher against the real loopback server: guards, limits, conditional GET."""

from __future__ import annotations

import asyncio

import pytest

from extractors.fetch import PAGE_ACCEPT, check_url, fetch, make_client
from newsmon.errors import (
    BlockedURLError,
    PermanentFetchError,
    ResponseTooLargeError,
    TransientFetchError,
)
from newsmon.samplesite import SiteServer
from newsmon.settings import Settings

PAGE = "/harbor-times/2025/01/aid-convoys-expand.html"


def get(settings: Settings, url: str, **kwargs):
    async def run():
        async with make_client(settings) as client:
            return await fetch(
                client,
                url,
                settings=settings,
                max_bytes=kwargs.pop("max_bytes", 1 << 20),
                accept=PAGE_ACCEPT,
                **kwargs,
            )

    return asyncio.run(run())


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env().replace(allow_private_hosts=True, timeout=5.0)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/feed",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://localhost/",
    ],
)
def test_private_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(BlockedURLError, match="NEWSMON_ALLOW_PRIVATE_HOSTS"):
        asyncio.run(check_url(url, allow_private=False))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://a.example/x", "gopher://a.example"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(BlockedURLError, match="only http and https"):
        asyncio.run(check_url(url, allow_private=True))


def test_loopback_server_refused_without_the_setting(site: SiteServer, settings: Settings) -> None:
    with pytest.raises(BlockedURLError):
        get(settings.replace(allow_private_hosts=False), site.base_url + PAGE)


def test_conditional_get_answers_304(site: SiteServer, settings: Settings) -> None:
    first = get(settings, site.base_url + PAGE)
    assert first.status == 200 and first.etag and b"Aid convoys" in first.body
    second = get(settings, site.base_url + PAGE, etag=first.etag)
    assert second.status == 304 and second.body == b""


def test_size_cap_stops_the_download(site: SiteServer, settings: Settings) -> None:
    with pytest.raises(ResponseTooLargeError, match="byte limit"):
        get(settings, site.base_url + PAGE, max_bytes=1000)


def test_statuses_are_sorted_into_transient_and_permanent(
    site: SiteServer, settings: Settings
) -> None:
    with pytest.raises(TransientFetchError, match="HTTP 503; it will be retried") as busy:
        get(settings, site.base_url + "/faults/busy.html")
    assert busy.value.status == 503
    with pytest.raises(PermanentFetchError, match="HTTP 404") as gone:
        get(settings, site.base_url + "/faults/gone.html")
    assert not isinstance(gone.value, TransientFetchError)


def test_redirects_are_followed_and_limited(site: SiteServer, settings: Settings) -> None:
    site.override("/moved.html", status=301, headers={"Location": PAGE})
    site.override("/loop.html", status=302, headers={"Location": "/loop.html"})
    site.override("/to-file.html", status=302, headers={"Location": "file:///etc/passwd"})
    try:
        moved = get(settings, site.base_url + "/moved.html")
        assert moved.url == site.base_url + PAGE and moved.moved_permanently
        with pytest.raises(PermanentFetchError, match="more than 5 redirects"):
            get(settings, site.base_url + "/loop.html")
        # Every hop is checked again, not only the first URL.
        with pytest.raises(BlockedURLError, match="file:///etc/passwd"):
            get(settings, site.base_url + "/to-file.html")
    finally:
        for path in ("/moved.html", "/loop.html", "/to-file.html"):
            site.override(path)


def test_connection_refused_is_transient(settings: Settings) -> None:
    with pytest.raises(TransientFetchError, match="retried next run"):
        get(settings, "http://127.0.0.1:9/feed.xml")
