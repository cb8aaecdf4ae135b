"""Which feed entries still need their page fetched."""

from __future__ import annotations

import duckdb

from extractors.normalize import canonical_url
from newsmon.records import FeedPoll, PendingEntry
from storage import articles


def new_entries(
    conn: duckdb.DuckDBPyConnection | None, polls: list[FeedPoll]
) -> list[PendingEntry]:
    """Entries whose canonical link and GUID are not stored yet, each link once.

    Feed order is kept, so the first feed in the feeds file that carries a story
    is the one its article is attributed to. Without a connection (the database
    is locked) every entry counts as new: the writer drops what is stored already.
    """
    candidates = [
        PendingEntry(
            feed_url=poll.feed.url, url=canonical_url(item.link), link=item.link, item=item
        )
        for poll in polls
        for item in poll.items
    ]
    stored: set[str] = set()
    stored_guids: set[tuple[str, str]] = set()
    if conn is not None:
        stored = articles.stored_urls(conn, [c.url for c in candidates])
        guids_by_feed: dict[str, list[str]] = {}
        for c in candidates:
            if c.item.guid and c.feed_url:
                guids_by_feed.setdefault(c.feed_url, []).append(c.item.guid)
        stored_guids = {
            (feed_url, guid)
            for feed_url, guids in guids_by_feed.items()
            for guid in articles.stored_guids(conn, feed_url, guids)
        }
    pending: list[PendingEntry] = []
    seen: set[str] = set()
    for c in candidates:
        if c.url in stored or c.url in seen or (c.feed_url, c.item.guid) in stored_guids:
            continue
        seen.add(c.url)
        pending.append(c)
    return pending
