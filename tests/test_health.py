"""Feed health: the state machine, one row per kind of poll outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsmon.health import MAX_FEED_BACKOFF, next_state
from newsmon.records import Feed, FeedPoll, FeedState

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
FEED = Feed("https://news.example/rss", "News")
BASE = 300.0  # NEWSMON_FEED_BACKOFF
STORED = FeedState(etag='"v1"', last_modified="Mon, 01 Dec 2026", body_hash="h1",
                   current_url=FEED.url)  # fmt: skip
FAILING = FeedState(etag='"v1"', body_hash="h1", current_url=FEED.url, consecutive_failures=3,
                    next_poll_at=NOW - timedelta(minutes=1), last_error="HTTP 503")  # fmt: skip
SEEN = FeedState(etag='"v2"', last_modified="Tue, 02 Dec 2026", body_hash="h2")  # this poll's


def poll(status: int | None, error: str | None = None, **more: object) -> FeedPoll:
    return FeedPoll(FEED, status, error=error, **more)


CASES = [
    # (what happened, stored state, poll, expected state)
    ("200 with new entries", STORED, poll(200, state=SEEN),
     FeedState('"v2"', "Tue, 02 Dec 2026", "h2", FEED.url)),
    ("304 not modified", STORED, poll(304, not_modified=True, state=STORED), STORED),
    ("301 moved, polled there from now on", STORED,
     poll(200, state=SEEN, moved_to="https://new.example/rss"),
     FeedState('"v2"', "Tue, 02 Dec 2026", "h2", "https://new.example/rss")),
    ("308 moved while failing", STORED,
     poll(503, "HTTP 503", moved_to="https://new.example/rss"),
     FeedState('"v1"', "Mon, 01 Dec 2026", "h1", "https://new.example/rss", 1,
               NOW + timedelta(seconds=BASE), None, "HTTP 503")),
    ("410 gone: disabled", STORED, poll(410, "HTTP 410"),
     FeedState('"v1"', "Mon, 01 Dec 2026", "h1", FEED.url, 1, NOW + timedelta(seconds=BASE),
               "HTTP 410 Gone on 2026-12-02: the publisher removed this feed; delete it from the "
               "feeds file, or run `newsmon enable https://news.example/rss` if it comes back",
               "HTTP 410")),
    ("429 with Retry-After longer than the backoff", STORED,
     poll(429, "HTTP 429", retry_after=7200.0),
     FeedState('"v1"', "Mon, 01 Dec 2026", "h1", FEED.url, 1, NOW + timedelta(hours=2), None,
               "HTTP 429")),
    ("5xx after three failures: the pause doubles each time", FAILING, poll(502, "HTTP 502"),
     FeedState('"v1"', None, "h1", FEED.url, 4, NOW + timedelta(seconds=BASE * 8), None,
               "HTTP 502")),
    ("timeout: no response at all", STORED, poll(None, "timed out"),
     FeedState('"v1"', "Mon, 01 Dec 2026", "h1", FEED.url, 1, NOW + timedelta(seconds=BASE),
               None, "timed out")),
    ("parse error: the old validators stay, so the feed is fetched whole again", STORED,
     poll(200, "not a feed", state=STORED),
     FeedState('"v1"', "Mon, 01 Dec 2026", "h1", FEED.url, 1, NOW + timedelta(seconds=BASE),
               None, "not a feed")),
    ("recovery: a success clears the failures", FAILING, poll(200, state=SEEN),
     FeedState('"v2"', "Tue, 02 Dec 2026", "h2", FEED.url)),
    ("backoff never exceeds a day", FeedState(consecutive_failures=20), poll(503, "HTTP 503"),
     FeedState(None, None, None, None, 21, NOW + MAX_FEED_BACKOFF, None, "HTTP 503")),
]  # fmt: skip


@pytest.mark.parametrize(("stored", "outcome", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_next_state(stored: FeedState, outcome: FeedPoll, expected: FeedState) -> None:
    assert next_state(stored, outcome, NOW, base_backoff=BASE) == expected


def test_a_disabled_feed_stays_disabled_until_enabled() -> None:
    disabled = FeedState(disabled_reason="HTTP 410 Gone on 2026-11-01: ...")
    after = next_state(disabled, poll(200, state=SEEN), NOW, base_backoff=BASE)
    assert after.disabled_reason == disabled.disabled_reason and not after.is_due(NOW)


def test_pages_left_to_retry_keep_the_old_validators() -> None:
    """A success whose pages failed must not mark the entries seen: the next conditional
    GET has to bring them back."""
    after = next_state(STORED, poll(200, state=SEEN), NOW, base_backoff=BASE, pages_retried=True)
    assert (after.etag, after.body_hash, after.consecutive_failures) == ('"v1"', "h1", 0)


def test_only_a_due_feed_is_polled() -> None:
    backing_off = next_state(STORED, poll(503, "HTTP 503"), NOW, base_backoff=BASE)
    assert not backing_off.is_due(NOW) and backing_off.is_due(NOW + timedelta(seconds=BASE))
