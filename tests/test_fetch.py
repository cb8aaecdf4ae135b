"""The fetcher against the real loopback server: guards, limits, conditional GET."""

from __future__ import annotations

import asyncio
import ipaddress
import time
import tracemalloc
import zlib

import pytest

from extractors.fetch import PAGE_ACCEPT, Fetcher, check_url
from newsmon.errors import (
    BlockedURLError,
    ConfigError,
    PermanentFetchError,
    ResponseTooLargeError,
    TransientFetchError,
)
from newsmon.samplesite import SiteServer
from newsmon.settings import Settings

PAGE = "/harbor-times/2025/01/aid-convoys-expand.html"


def get(settings: Settings, url: str, **kwargs):
    async def run():
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(
                url, max_bytes=kwargs.pop("max_bytes", 1 << 20), accept=PAGE_ACCEPT, **kwargs
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
    site: SiteServer, settings: Settings, fault
) -> None:
    with pytest.raises(TransientFetchError, match="HTTP 503; gave up after 4 attempts") as busy:
        get(settings, fault("/busy-for-now.html", status=503))
    assert busy.value.status == 503
    with pytest.raises(PermanentFetchError, match="HTTP 404") as gone:
        get(settings, site.base_url + "/faults/gone.html")
    assert not isinstance(gone.value, TransientFetchError)


def test_redirects_are_followed_and_limited(site: SiteServer, settings: Settings, fault) -> None:
    moved = get(settings, fault("/moved.html", status=301, headers={"Location": PAGE}))
    assert moved.url == site.base_url + PAGE and moved.moved_permanently
    loop = fault("/loop.html", status=302, headers={"Location": "/loop.html"})
    with pytest.raises(PermanentFetchError, match="more than 5 redirects"):
        get(settings, loop)
    # The error names the link as given, first: that is what the operator finds in the feed.
    chain = fault("/hop0.html", status=302, headers={"Location": "/hop1.html"})
    for n in range(1, 7):
        fault(f"/hop{n}.html", status=302, headers={"Location": f"/hop{n + 1}.html"})
    with pytest.raises(PermanentFetchError) as too_many:
        get(settings, chain)
    assert str(too_many.value).startswith(chain + ":") and too_many.value.url == chain
    # Every hop is checked again, not only the first URL.
    to_file = fault("/to-file.html", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(BlockedURLError, match="file:///etc/passwd"):
        get(settings, to_file)


def test_redirect_to_cloud_metadata_is_refused(settings: Settings, fault) -> None:
    # Only the test server's own address is allowed, as an operator would allow one intranet host.
    allowed = settings.replace(allow_private_hosts=(ipaddress.ip_network("127.0.0.1/32"),))
    assert get(allowed, fault("/fine.html", body="<p>ok</p>")).status == 200
    bounce = fault(
        "/bounce.html", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(BlockedURLError, match="169.254.169.254"):
        get(allowed, bounce)


def test_private_host_allowlist_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"NEWSMON_ALLOW_PRIVATE_HOSTS": "127.0.0.1, 10.0.0.0/8"})
    asyncio.run(check_url("http://10.1.2.3/feed", settings.allow_private_hosts))
    with pytest.raises(BlockedURLError):
        asyncio.run(check_url("http://192.168.1.1/feed", settings.allow_private_hosts))
    with pytest.raises(ConfigError, match="NEWSMON_ALLOW_PRIVATE_HOSTS"):
        Settings.from_env({"NEWSMON_ALLOW_PRIVATE_HOSTS": "intranet"})


def test_connection_refused_is_transient(settings: Settings) -> None:
    with pytest.raises(TransientFetchError, match="the next run tries again"):
        get(settings, "http://127.0.0.1:9/feed.xml")


def test_429_is_retried_after_the_time_the_server_asks(settings: Settings, fault, site) -> None:
    url = fault(
        "/throttled.html",
        sequence=[{"status": 429, "headers": {"Retry-After": "1"}}, {"body": "<p>at last</p>"}],
    )
    started = time.monotonic()
    fetched = get(settings, url)
    assert fetched.body == b"<p>at last</p>" and site.requests["/throttled.html"] == 2
    assert time.monotonic() - started >= 1.0


def test_a_retry_after_longer_than_we_wait_is_left_to_the_next_run(
    settings: Settings, fault, site
) -> None:
    url = fault("/later.html", status=503, headers={"Retry-After": "3600"})
    with pytest.raises(TransientFetchError, match="asked to wait 3600s") as exc:
        get(settings, url)
    assert exc.value.retry_after == 3600 and site.requests["/later.html"] == 1


def test_5xx_and_resets_are_retried_with_backoff(settings: Settings, fault, site) -> None:
    url = fault("/flaky.html", sequence=[{"status": 502}, {"reset": True}, {"body": "<p>ok</p>"}])
    assert get(settings, url).body == b"<p>ok</p>" and site.requests["/flaky.html"] == 3


def test_other_4xx_are_not_retried(settings: Settings, fault, site) -> None:
    with pytest.raises(PermanentFetchError, match="HTTP 403"):
        get(settings, fault("/forbidden.html", status=403))
    assert site.requests["/forbidden.html"] == 1


def test_a_slow_server_times_out(settings: Settings, fault) -> None:
    quick = settings.replace(timeout=0.3, retries=0)
    with pytest.raises(TransientFetchError, match="timed out after 0.3s"):
        get(quick, fault("/slow.html", delay=1.5))


def test_an_endless_body_stops_at_the_cap(settings: Settings, fault) -> None:
    with pytest.raises(ResponseTooLargeError, match="passed the 1,048,576 byte limit"):
        get(settings, fault("/endless.html", endless=True, body="<p>more</p>" * 100))


def test_a_gzip_bomb_stops_at_the_cap(settings: Settings, fault) -> None:
    # 200 MB of zeros in ~200 KB of gzip: the cap applies to the decoded bytes, and the
    # decoder holds a bounded amount at a time (measured on this request's allocations alone).
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError, match="byte limit"):
            get(settings, fault("/bomb.html", gzip_bomb=200))
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert peak_mb < 16  # the cap is 1 MiB; decoding it all would take 200


@pytest.mark.parametrize("wbits", [-15, 15, 31], ids=["raw deflate", "zlib", "gzip"])
def test_deflate_bodies_are_read_with_or_without_their_zlib_header(
    settings: Settings, fault, wbits: int
) -> None:
    # "deflate" means a zlib stream (RFC 9110), but some servers send raw deflate under
    # that name, and browsers and httpx read both.
    page = "<p>Aid trucks crossed at Rafah.</p>" * 200
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = packer.compress(page.encode()) + packer.flush()
    url = fault("/deflated.html", body=body, headers={"Content-Encoding": "deflate"})
    assert get(settings, url).body.decode() == page


def test_requests_to_one_host_are_limited_and_spaced(settings: Settings, fault, site) -> None:
    urls = [fault(f"/polite-{i}.html", delay=0.2, body="<p>x</p>") for i in range(6)]

    async def fetch_all(polite: Settings) -> float:
        site.wait_idle()
        site.max_concurrent = 0
        started = time.monotonic()
        async with Fetcher(polite) as fetcher:
            await asyncio.gather(
                *(fetcher.get(url, max_bytes=1000, accept=PAGE_ACCEPT) for url in urls)
            )
        return time.monotonic() - started

    asyncio.run(fetch_all(settings.replace(per_host=2)))
    assert site.max_concurrent == 2
    elapsed = asyncio.run(fetch_all(settings.replace(per_host=6, host_delay=0.15)))
    # Six starts 0.15 s apart: the last one begins 0.75 s after the first.
    assert elapsed >= 0.75
