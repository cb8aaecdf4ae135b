"""Feed health as one state machine: the stored state and a poll's outcome give the next state.

Pure: the writer reads the stored FeedState, applies `next_state` and writes the
result back, so failure counts, backoff, moves and disabling are decided here
and only here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from newsmon.records import FeedPoll, FeedState

MAX_FEED_BACKOFF = timedelta(days=1)


def next_state(
    state: FeedState,
    poll: FeedPoll,
    now: datetime,
    *,
    base_backoff: float,
    pages_retried: bool = False,
) -> FeedState:
    """The feed's state after `poll`.

    - Success (200, or 304 / the same bytes): failures reset, polled every run again; the
      poll's conditional-GET validators are kept unless some of its pages must be fetched
      again (`pages_retried`), in which case the old ones stay so the entries come back.
    - Failure (5xx, timeout, parse error, 4xx): one more failure, validators unchanged, and
      a pause of base_backoff * 2^(failures before), at least the server's Retry-After,
      at most a day.
    - 301/308: the new address is polled from now on, whatever the outcome.
    - 410 Gone: disabled until `newsmon enable`; a disabled feed stays disabled.
    """
    current_url = poll.moved_to or state.current_url
    disabled_reason = _disabled_reason(poll, now) or state.disabled_reason
    if poll.failed:
        pause = timedelta(seconds=base_backoff * 2**state.consecutive_failures)
        if poll.retry_after:
            pause = max(pause, timedelta(seconds=poll.retry_after))
        return FeedState(
            etag=state.etag,
            last_modified=state.last_modified,
            body_hash=state.body_hash,
            current_url=current_url,
            consecutive_failures=state.consecutive_failures + 1,
            next_poll_at=now + min(pause, MAX_FEED_BACKOFF),
            disabled_reason=disabled_reason,
            last_error=poll.error,
        )
    validators = state if pages_retried else poll.state
    return FeedState(
        etag=validators.etag,
        last_modified=validators.last_modified,
        body_hash=validators.body_hash,
        current_url=current_url,
        disabled_reason=disabled_reason,
    )


def newly_disabled(poll: FeedPoll) -> bool:
    """True when this poll disables the feed (its disabled_at is set to the poll's time)."""
    return poll.status == 410


def _disabled_reason(poll: FeedPoll, now: datetime) -> str | None:
    if not newly_disabled(poll):
        return None
    return (
        f"HTTP 410 Gone on {now:%Y-%m-%d}: the publisher removed this feed; delete it from the "
        f"feeds file, or run `newsmon enable {poll.feed.url}` if it comes back"
    )
