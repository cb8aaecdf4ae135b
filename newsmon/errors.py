"""Every exception newsmon raises on purpose.

NewsmonError
├── ConfigError                 a setting or the feeds file is wrong; the run does not start
│   └── FeedsFileError          names the file, the line and the key
├── FetchError                  one URL could not be fetched (the run records it and goes on)
│   ├── TransientFetchError     timeouts, connection errors, 429, 5xx: a later run retries
│   └── PermanentFetchError     other 4xx, refused or oversized responses: recorded, not retried
│       ├── BlockedURLError     not http(s), or resolves to a private address
│       │   └── BlockedByRobotsError  the site's robots.txt disallows the page
│       └── ResponseTooLargeError  the body passed the size limit
├── FeedParseError              the body is not a feed at all, or one newsmon refuses to parse
├── DatabaseError               the DuckDB file could not be opened or migrated
│   └── DatabaseLockedError     another process holds it past NEWSMON_LOCK_WAIT
└── RunFailedError              a run finished, but did not do its job (every feed failed, a
                                digest channel failed): the flow ends Failed, the CLI exits 1
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Base class: catch this to handle anything newsmon raises on purpose."""


class ConfigError(NewsmonError):
    """A setting or the feeds file is wrong."""


class FeedsFileError(ConfigError):
    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.reason, self.line))


class FetchError(NewsmonError):
    """`status` is the HTTP status when there was a response, else None."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.url, str(self), self.status))


class TransientFetchError(FetchError):
    """Worth trying again later: the page or feed stays pending.

    `retry_after` is the wait in seconds the server asked for (Retry-After), if any.
    """

    def __init__(
        self, url: str, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(url, message, status)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.url, str(self), self.status, self.retry_after))


class PermanentFetchError(FetchError):
    """Trying again will not help: the item is recorded with its reason."""


class BlockedURLError(PermanentFetchError):
    """Refused before any request: wrong scheme or a private address."""


class BlockedByRobotsError(BlockedURLError):
    """The site's robots.txt disallows the page for our User-Agent."""


class ResponseTooLargeError(PermanentFetchError):
    """The download stopped at the size limit (NEWSMON_MAX_PAGE_BYTES / _FEED_BYTES)."""


class FeedParseError(NewsmonError):
    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.url, str(self)))


class DatabaseError(NewsmonError):
    """The DuckDB file could not be opened or migrated."""


class DatabaseLockedError(DatabaseError):
    """Another process holds the DuckDB file."""


class StoryEditError(NewsmonError):
    """A story merge or split that cannot be done as asked; the message says why."""


class RunFailedError(NewsmonError):
    """Raised at the end of a flow that ran through but failed at its job, so that Prefect
    shows the run as Failed. `result` is what the run did (a RunReport, a DigestResult)."""

    def __init__(self, message: str, result: object = None) -> None:
        self.result = result
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.result))
