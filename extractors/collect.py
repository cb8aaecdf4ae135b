"""Poll many feeds and fetch many pages at once; extraction runs in a process pool.

Everything that goes wrong with one feed or page becomes data on its result
(FeedPoll.error, PageResult.outcome), so one bad source never stops a run.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import multiprocessing
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import chain, zip_longest
from typing import TypeVar

import numpy as np

from analysis import language, meaning
from analysis.topic import Topic
from extractors.article import extract_article
from extractors.feeds import ParsedFeed, parse_feed
from extractors.fetch import FEED_ACCEPT, PAGE_ACCEPT, Fetched, Fetcher
from extractors.robots import agent_token, allows, crawl_delay, fetch_robots, origin_of
from newsmon.errors import (
    BlockedByRobotsError,
    BlockedURLError,
    FeedParseError,
    FetchError,
    ResponseTooLargeError,
    TransientFetchError,
)
from newsmon.records import (
    Article,
    Feed,
    FeedPoll,
    FeedState,
    PageBatch,
    PageOutcome,
    PageResult,
    PendingEntry,
    RobotsTxt,
)
from newsmon.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# Content types worth handing to trafilatura; anything else is recorded as 'not_html'.
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")
# A Crawl-delay of an hour would stall the run; pages beyond the run's patience wait anyway.
MAX_CRAWL_DELAY = 30.0
SNIFF_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<article", b"<p>")


def poll_all(feeds: list[Feed], states: dict[str, FeedState], settings: Settings) -> list[FeedPoll]:
    """Conditional GET of every feed with one client; results in the order of `feeds`."""

    async def run() -> list[FeedPoll]:
        async with Fetcher(settings) as fetcher:
            return await _bounded(
                feeds,
                lambda feed: _poll_one(fetcher, feed, states.get(feed.url, FeedState())),
                settings.max_in_flight * 4,
            )

    return asyncio.run(run())


def fetch_all(
    entries: list[PendingEntry], robots: dict[str, RobotsTxt], settings: Settings
) -> PageBatch:
    """Fetch every page that robots.txt allows, extracting each in the process pool as it lands.

    `robots` holds the stored rules by origin; stale or missing ones are fetched first.
    """
    if not entries:
        return PageBatch([], [])
    executor = extraction_pool(settings.extract_workers)
    agent = agent_token(settings.user_agent)
    now = datetime.now(UTC)

    async def run() -> PageBatch:
        async with Fetcher(settings) as fetcher:
            origins = {origin_of(e.link) for e in entries}
            stale = sorted(o for o in origins if o not in robots or not robots[o].is_fresh(now))
            fetched = await _bounded(
                stale,
                lambda origin: fetch_robots(fetcher, origin, now, robots.get(origin)),
                settings.max_in_flight,
            )
            # An unreachable server gives back the stored copy (or None): nothing new to keep.
            new = [r for r in fetched if r is not None and r is not robots.get(r.origin)]
            current = {**robots, **{r.origin: r for r in new}}
            for origin, rules in current.items():
                delay = crawl_delay(rules, agent)
                if delay:
                    fetcher.slow_down(origin, min(delay, MAX_CRAWL_DELAY))
            pages = await _bounded(
                _interleave_hosts(entries),
                lambda entry: _fetch_one(fetcher, executor, entry, current, agent, settings),
                settings.max_in_flight * 4,
            )
            return PageBatch(pages, new)

    return asyncio.run(run())


def skip_off_topic(
    entries: list[PendingEntry], topic: Topic
) -> tuple[list[PendingEntry], PageBatch]:
    """Entries worth fetching, and the clearly off-topic ones as 'off_topic' pages."""
    wanted: list[PendingEntry] = []
    skipped: list[PageResult] = []
    for entry in entries:
        if topic.clearly_off_topic(entry.item.title or "", entry.item.summary or ""):
            log.info("entry %s: off topic by its title and summary; not fetched", entry.link)
            skipped.append(PageResult(entry, "off_topic"))
        else:
            wanted.append(entry)
    return wanted, PageBatch(skipped, [])


def split_by_host(entries: list[PendingEntry], parts: int) -> list[list[PendingEntry]]:
    """Up to `parts` groups of entries for separate tasks; a host's entries stay together,
    so per-host politeness still holds. Largest hosts first, each to the smallest group."""
    by_host: dict[str, list[PendingEntry]] = {}
    for entry in entries:
        by_host.setdefault(origin_of(entry.link), []).append(entry)
    groups: list[list[PendingEntry]] = [[] for _ in range(max(1, min(parts, len(by_host))))]
    for host_entries in sorted(by_host.values(), key=len, reverse=True):
        min(groups, key=len).extend(host_entries)
    return [group for group in groups if group]


def merge(batches: list[PageBatch]) -> PageBatch:
    return PageBatch(
        [page for b in batches for page in b.pages], [rules for b in batches for rules in b.robots]
    )


def extract_captured(
    pages: list[tuple[PendingEntry, Fetched]], settings: Settings
) -> list[PageResult]:
    """Extract pages fetched earlier (a web archive's responses) in the process pool."""
    executor = extraction_pool(settings.extract_workers)

    async def run() -> list[PageResult]:
        return await _bounded(
            pages, lambda page: _extract(executor, *page), settings.max_in_flight * 4
        )

    return asyncio.run(run())


_pools: dict[int, Executor] = {}
_pools_lock = threading.Lock()


def extraction_pool(workers: int) -> Executor | None:
    """A process pool kept for the life of the process (None: extract in a thread).

    'spawn', not 'fork': the flow process runs Prefect's threads, and forking a
    process with threads can deadlock the child on a lock held at fork time.
    """
    if workers <= 0 or multiprocessing.current_process().daemon:
        return None  # a Dask worker, say: its processes may not have children
    with _pools_lock:  # feeds parsed at once ask for it from several threads
        if workers not in _pools:
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            # Start the processes (and load the language model) now, so that time limits on
            # tasks measure the task alone.
            for ready in [pool.submit(language.warm_up) for _ in range(workers)]:
                ready.result()
            _pools[workers] = pool
        return _pools[workers]


class PoolEmbedder:
    """The embedder NEWSMON_EMBEDDER names, run in the extraction pool's processes: each
    loads the model once, and the leads are shared out between them."""

    def __init__(self, spec: str, workers: int) -> None:
        self.name = spec
        self._workers = workers

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        executor = extraction_pool(self._workers)
        if executor is None or not texts:  # no pool (a Dask worker, say): embed here
            return meaning.embed_leads(self.name, texts)
        # Every workers-th text to each process: leads (long) and sentences (short) come in
        # runs, and cutting them in consecutive parts left one process with most of the work.
        parts = [list(texts[k :: self._workers]) for k in range(min(self._workers, len(texts)))]
        embed = functools.partial(meaning.embed_leads, self.name)
        embedded = list(executor.map(embed, parts))
        vectors = np.empty((len(texts), embedded[0].shape[1]), dtype=embedded[0].dtype)
        for k, part in enumerate(embedded):
            vectors[k :: self._workers] = part
        return vectors


def pool_embedder(settings: Settings) -> PoolEmbedder | None:
    """None when NEWSMON_EMBEDDER is 'none': no meaning layer."""
    return (
        None
        if settings.embedder == "none"
        else PoolEmbedder(settings.embedder, settings.extract_workers)
    )


def start_extraction_pool(workers: int) -> None:
    """Start the pool in the background: its processes load trafilatura and the language
    model (about half a second of CPU each) while the run opens the database and polls."""

    def start() -> None:
        try:
            extraction_pool(workers)
        except Exception as exc:  # the pool's first real use tries again and says why
            log.debug("extraction pool did not start in the background: %r", exc)

    threading.Thread(target=start, name="newsmon-pool-start", daemon=True).start()


def close_extraction_pools() -> None:
    """Stop the pools' processes now. Interpreter exit does it too, but a multiprocessing
    child exits without running exit handlers, and would wait for them forever.

    Waits for a pool still starting (start_extraction_pool), so none outlives this."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(cancel_futures=True)


async def _bounded(items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int) -> list[R]:
    semaphore = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> R:
        async with semaphore:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def _interleave_hosts(entries: list[PendingEntry]) -> list[PendingEntry]:
    """Round-robin over hosts, so one big site does not hold every slot while others wait."""
    by_host: dict[str, list[PendingEntry]] = {}
    for entry in entries:
        by_host.setdefault(origin_of(entry.link), []).append(entry)
    rounds = zip_longest(*by_host.values())
    return [entry for entry in chain.from_iterable(rounds) if entry is not None]


async def _poll_one(fetcher: Fetcher, feed: Feed, previous: FeedState) -> FeedPoll:
    address = previous.current_url or feed.url
    try:
        fetched = await fetcher.get(
            address,
            max_bytes=fetcher.settings.max_feed_bytes,
            accept=FEED_ACCEPT,
            etag=previous.etag,
            last_modified=previous.last_modified,
        )
    except FetchError as exc:
        error = f"{exc}{_feed_hint(exc)}"
        log.warning("feed %s: %s", feed.name, error)
        retry_after = exc.retry_after if isinstance(exc, TransientFetchError) else None
        return FeedPoll(feed, exc.status, state=previous, error=error, retry_after=retry_after)
    moved_to = fetched.url if fetched.moved_permanently and fetched.url != address else None
    if moved_to:
        log.warning(
            "feed %s: moved permanently to %s; polling it there from now on", feed.name, moved_to
        )
    if fetched.status == 304:
        log.info("feed %s: not modified (304)", feed.name)
        return FeedPoll(feed, 304, not_modified=True, state=previous, moved_to=moved_to)
    body_hash = hashlib.sha256(fetched.body).hexdigest()
    state = FeedState(fetched.etag, fetched.last_modified, body_hash)
    if body_hash == previous.body_hash:
        # Some servers ignore conditional GET, or send a fresh ETag for the same bytes.
        log.info("feed %s: same content as last time", feed.name)
        return FeedPoll(feed, fetched.status, not_modified=True, state=state, moved_to=moved_to)
    try:
        parsed = await _parse_off_loop(fetched, fetcher.settings)
    except FeedParseError as exc:
        log.warning("feed %s: %s", feed.name, exc)
        return FeedPoll(feed, fetched.status, state=previous, error=str(exc), moved_to=moved_to)
    flaws = [f"tolerated {parsed.bozo}"] if parsed.bozo else []
    if parsed.charset_note:
        flaws.append(parsed.charset_note)
    if parsed.skipped:
        flaws.append(f"{parsed.skipped} without a link skipped")
    log.info(
        "feed %s: %d entries%s",
        feed.name,
        len(parsed.items),
        f" ({'; '.join(flaws)})" if flaws else "",
    )
    return FeedPoll(
        feed=feed,
        status=fetched.status,
        items=parsed.items,
        title=parsed.title,
        state=state,
        bozo="; ".join(flaws) or None,
        moved_to=moved_to,
    )


async def _parse_off_loop(fetched: Fetched, settings: Settings) -> ParsedFeed:
    """parse_feed in the extraction pool, so a slow feed never stalls the other requests in
    flight; one that takes longer than NEWSMON_FEED_PARSE_TIMEOUT is stopped and fails."""
    try:
        return await _parse_in_pool(fetched, settings)
    except BrokenExecutor:  # the pool was stopped for another feed's sake: one more try
        try:
            return await _parse_in_pool(fetched, settings)
        except BrokenExecutor:
            raise FeedParseError(
                fetched.url, f"Feed {fetched.url}: the parsing process died (out of memory?)"
            ) from None


async def _parse_in_pool(fetched: Fetched, settings: Settings) -> ParsedFeed:
    # A new pool waits for its processes to start: in a thread, never on the event loop.
    executor = await asyncio.to_thread(extraction_pool, settings.extract_workers)
    parse = functools.partial(parse_feed, fetched.body, fetched.url, fetched.content_type)
    future = asyncio.get_running_loop().run_in_executor(executor, parse)
    try:
        return await asyncio.wait_for(future, settings.feed_parse_timeout)
    except TimeoutError:
        if executor is not None:
            _stop_pool(executor)  # the only way to stop a parse that runs away
        raise FeedParseError(
            fetched.url,
            f"Feed {fetched.url} took longer than {settings.feed_parse_timeout:g}s to parse "
            "and was stopped; it is tried again after its backoff (NEWSMON_FEED_PARSE_TIMEOUT)",
        ) from None
    except BrokenExecutor:
        _forget_pool(executor)
        raise


def _forget_pool(executor: Executor | None) -> None:
    for workers, pool in list(_pools.items()):
        if pool is executor:
            del _pools[workers]


def _stop_pool(executor: Executor) -> None:
    """Kill a process pool's workers now; pages in flight in it fail and are retried."""
    _forget_pool(executor)
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


async def _fetch_one(
    fetcher: Fetcher,
    executor: Executor | None,
    entry: PendingEntry,
    robots: dict[str, RobotsTxt],
    agent: str,
    settings: Settings,
) -> PageResult:
    try:
        rules = robots.get(origin_of(entry.link))
        if rules is None:
            raise TransientFetchError(
                entry.link,
                f"robots.txt of {origin_of(entry.link)} is unreachable; "
                "the page waits for the next run",
            )
        if not allows(rules, entry.link, agent):
            raise BlockedByRobotsError(
                entry.link, f"{entry.link} is disallowed by robots.txt for {agent}"
            )
        fetched = await fetcher.get(
            entry.link, max_bytes=settings.max_page_bytes, accept=PAGE_ACCEPT
        )
    except FetchError as exc:
        log.warning("page %s: %s", entry.link, exc)
        return PageResult(entry, _outcome_of(exc), status=exc.status, error=str(exc))
    return await _extract(executor, entry, fetched)


async def _extract(executor: Executor | None, entry: PendingEntry, fetched: Fetched) -> PageResult:
    """The article in a fetched page, extracted in the pool; whatever goes wrong is data."""
    if not _looks_like_html(fetched):
        return PageResult(
            entry,
            "not_html",
            status=fetched.status,
            error=f"{entry.link} is {fetched.content_type or 'of no declared type'}, not HTML",
        )
    extract = functools.partial(
        extract_article, fetched.body, fetched.url, fetched.content_type, fetched.content_language
    )
    try:
        article = await asyncio.get_running_loop().run_in_executor(executor, extract)
    except BrokenExecutor as exc:
        _forget_pool(executor)  # a worker died (OOM?, or stopped): the next page gets a fresh pool
        return PageResult(
            entry, "failed", status=fetched.status, error=f"extraction pool broke: {exc}"
        )
    except Exception as exc:  # a crash on one page must not sink the others
        log.exception("page %s: extraction crashed", entry.link)
        return PageResult(
            entry, "failed", status=fetched.status, error=f"extraction crashed: {exc!r}"
        )
    if not isinstance(article, Article):  # the page's title, date...: kept with its status
        return PageResult(
            entry,
            "no_text",
            status=fetched.status,
            error=f"{entry.link}: no article text found",
            declared=article,
        )
    return PageResult(entry, "ok", article=article, status=fetched.status)


def _feed_hint(exc: FetchError) -> str:
    """What an operator can do about a feed that failed this way, if anything."""
    if isinstance(exc, ResponseTooLargeError):
        return "; raise NEWSMON_MAX_FEED_BYTES if the feed is really that large"
    if isinstance(exc, TransientFetchError | BlockedURLError) or exc.status == 410:
        return ""  # their messages say it already, or the feed gets disabled with a reason
    return "; check the feed's URL in the feeds file"


def _outcome_of(exc: FetchError) -> PageOutcome:
    if isinstance(exc, TransientFetchError):
        return "failed"
    if isinstance(exc, ResponseTooLargeError):
        return "too_large"
    if isinstance(exc, BlockedByRobotsError):
        return "blocked_by_robots"
    if isinstance(exc, BlockedURLError):
        return "blocked"
    return "http_error"


def _looks_like_html(fetched: Fetched) -> bool:
    ctype = (fetched.content_type or "").split(";")[0].strip().lower()
    if ctype in HTML_TYPES:
        return True
    if ctype and ctype != "text/plain" and ctype != "application/octet-stream":
        return False
    head = fetched.body[:1024].lower()
    return any(marker in head for marker in SNIFF_MARKERS)
