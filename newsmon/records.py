"""The records the pipeline's stages hand each other, from a feed poll to a stored run.

Plain, immutable data with no I/O: every stage imports them from here, so reading
`newsmon status` or a spooled run pulls in neither the fetcher nor the extractor.
The flow of data: Feed -> FeedPoll (with FeedItems) -> PendingEntry -> PageResult
(with an Article) in a PageBatch -> RunRecords -> the writer's RunReport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from analysis.dedup import Signature
from analysis.topic import Topic

# What became of a feed entry's page: stored with this articles.status, or not stored.
PageOutcome = Literal[
    "ok",
    "no_text",
    "not_html",
    "too_large",
    "blocked",
    "blocked_by_robots",
    "http_error",
    "off_topic",  # not fetched: clearly off topic by the entry's title and summary
    "failed",  # not stored: the next run tries again
]
DuplicateKind = Literal["url", "exact", "near"]
ROBOTS_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Feed:
    """One [[feeds]] table of the feeds file."""

    url: str
    name: str


@dataclass(frozen=True, slots=True)
class FeedItem:
    link: str
    guid: str | None
    title: str | None
    summary: str | None
    author: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the database remembers of a feed between runs (see newsmon/health.py)."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    current_url: str | None = None  # where a permanent redirect sent the feed
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None  # backing off until then
    disabled_reason: str | None = None
    last_error: str | None = None  # why the last poll failed, if it did

    def is_due(self, now: datetime) -> bool:
        return self.disabled_reason is None and (
            self.next_poll_at is None or self.next_poll_at <= now
        )


@dataclass(frozen=True, slots=True)
class FeedPoll:
    feed: Feed
    status: int | None  # HTTP status; None when no response came back
    items: list[FeedItem] = field(default_factory=list)
    title: str | None = None
    not_modified: bool = False  # 304, or the same bytes as last time
    state: FeedState = FeedState()  # the conditional-GET state this poll saw
    bozo: str | None = None
    error: str | None = None
    retry_after: float | None = None  # the server asked for this many seconds of quiet
    moved_to: str | None = None  # set when a 301/308 moved the feed

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True, slots=True)
class PageFields:
    """What a page says of itself (a page with no article text says no more than this)."""

    canonical_url: str
    title: str | None
    author: str | None  # one or more names, ", "-separated
    site_name: str | None
    language: str | None  # ISO 639, read from the text (the page's declaration as a hint)
    published_at: datetime | None  # from the page; the feed's time is preferred by the caller


@dataclass(frozen=True, slots=True)
class Article(PageFields):
    """What extraction made of a page: normalized text, metadata and fingerprints."""

    text: str
    content_hash: str
    signature: Signature
    encoding: str


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A feed entry (or a backfilled URL) whose page is not stored yet."""

    feed_url: str | None  # None for pages that came from a backfill
    url: str  # the entry link in canonical form: the key that says "seen"
    link: str  # the link as the feed gave it
    item: FeedItem


@dataclass(frozen=True, slots=True)
class PageResult:
    entry: PendingEntry
    outcome: PageOutcome
    article: Article | None = None
    status: int | None = None
    error: str | None = None
    declared: PageFields | None = None  # a page without text: what it said of itself

    @property
    def fields(self) -> PageFields | None:
        """The page's title, author, language, date...: from the article, or the page."""
        return self.article or self.declared

    @property
    def retry_later(self) -> bool:
        """Transient failures are not stored, so the next run fetches the page again."""
        return self.outcome == "failed"


@dataclass(frozen=True, slots=True)
class RobotsTxt:
    """A site's robots.txt as fetched; extractors/robots.py reads the rules."""

    origin: str  # scheme://host[:port]
    fetched_at: datetime
    status: int | None
    body: str | None  # None: no rules, everything is allowed

    def is_fresh(self, now: datetime) -> bool:
        return now - self.fetched_at < ROBOTS_MAX_AGE


@dataclass(frozen=True, slots=True)
class PageBatch:
    pages: list[PageResult]
    robots: list[RobotsTxt]  # rules fetched in this run, to keep for a day


@dataclass(frozen=True, slots=True)
class Skip:
    """A damaged stretch of an archive (or a line of a URL list) that was left out."""

    offset: int  # byte offset (archive) or line number (URL list)
    length: int  # bytes (archive) or lines
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The original an article copies, and how it was recognised."""

    kind: DuplicateKind
    original_id: int
    similarity: float


@dataclass(frozen=True, slots=True)
class StoredArticle:
    article_id: int
    url: str
    title: str | None
    feed_url: str | None  # None for a backfilled page
    duplicate_kind: DuplicateKind | None = None
    duplicate_of: int | None = None
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one poll did, for the CLI, the Prefect artifact and poll_runs.

    The flow fills in the polling part; the writer and the analysis step return a
    copy with theirs (dataclasses.replace), so no stage changes another's record.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime
    feeds_polled: int = 0
    feeds_failed: int = 0
    feeds_unchanged: int = 0
    feeds_skipped: int = 0  # backing off or disabled
    entries_seen: int = 0
    articles_new: int = 0
    duplicates: int = 0
    pages_rejected: int = 0
    pages_failed: int = 0
    off_topic: int = 0  # entries skipped before fetching: clearly off topic
    developments: int = 0
    stored: list[StoredArticle] = field(default_factory=list)
    originals: dict[int, str] = field(default_factory=dict)  # id -> seed name or URL, for display
    errors: list[str] = field(default_factory=list)
    spooled: bool = False  # stored from the spool by a later run
    feeds_total: int = 0  # in the feeds file
    feeds_waiting: list[str] = field(default_factory=list)  # why each skipped feed waits

    def as_row(self) -> dict[str, object]:
        """The poll_runs row."""
        return {
            "id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "feeds_polled": self.feeds_polled,
            "feeds_failed": self.feeds_failed,
            "entries_seen": self.entries_seen,
            "articles_new": self.articles_new,
            "duplicates": self.duplicates,
            "pages_rejected": self.pages_rejected,
            "pages_failed": self.pages_failed,
            "feeds_skipped": self.feeds_skipped,
            "spooled": self.spooled,
            "off_topic": self.off_topic,
            "developments": self.developments,
        }


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    source: str  # absolute path and size of the file
    position: int  # where the next batch starts
    records: int  # read so far, in all runs
    stored: int  # articles stored so far, in all runs
    finished: bool
    skipped: tuple[Skip, ...] = ()  # damaged stretches met in this batch


@dataclass(frozen=True, slots=True)
class RunRecords:
    """Everything one poll gathered: what the writer stores, and what the spool keeps."""

    report: RunReport
    polls: list[FeedPoll]
    batch: PageBatch
    topic: Topic = Topic()  # what relevance and developments are measured against
