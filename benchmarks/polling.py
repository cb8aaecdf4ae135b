"""3. Polling: 500 feeds on 100 local sites, polled twice; the second poll is answered with 304.

Politeness stays at its defaults (2 requests per host, 1 s between two starts on
a host, 10 in flight), as in production: the figure is what an operator sees.
Each feed lists 20 entries, all pointing at one shared set of 40 pages
(syndication), so the first poll also exercises deduplication by URL.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import SiteProcess, emit, peak_rss_mb, warm_up_prefect, write_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_site(folder / "site", args.pages)
        hosts = [f"127.0.0.{2 + n}" for n in range(args.hosts)]
        os.environ.update(NEWSMON_ALLOW_PRIVATE_HOSTS="127.0.0.0/8", NEWSMON_SNAPSHOT="false")
        from flows.poll import poll_feeds

        with SiteProcess(folder / "site", hosts) as site:
            pages = [
                f"{site.base_urls[k % args.hosts]}/news/story-{k}.html" for k in range(args.pages)
            ]
            feeds_dir = folder / "site" / "feeds"
            feeds_dir.mkdir()
            lines = []
            for n in range(args.feeds):
                items = "".join(
                    f"<item><title>Story {k}</title><link>{pages[k]}</link></item>"
                    for k in ((n + i) % args.pages for i in range(20))
                )
                (feeds_dir / f"feed-{n}.xml").write_text(
                    f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
                    f"{items}</channel></rss>",
                    encoding="utf-8",
                )
                lines.append(
                    f'[[feeds]]\nurl = "{site.base_urls[n % args.hosts]}/feeds/feed-{n}.xml"\n'
                )
            feeds = folder / "feeds.toml"
            feeds.write_text("".join(lines), encoding="utf-8")
            db = str(folder / "poll.duckdb")

            warm_up_prefect()
            started = time.perf_counter()
            first = poll_feeds(feeds_file=str(feeds), db_path=db)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            second = poll_feeds(feeds_file=str(feeds), db_path=db)
            second_s = time.perf_counter() - started
        assert first.articles_new == args.pages and second.feeds_unchanged == args.feeds

    emit(
        "polling",
        feeds=args.feeds,
        hosts=args.hosts,
        first_poll_s=round(first_s, 2),
        first_poll_pages=first.articles_new,
        second_poll_s=round(second_s, 2),
        second_poll_not_modified=second.feeds_unchanged,
        target_second_poll_s=20,
        local_servers_cpu_s=site.cpu_seconds,
        peak_rss_mb=peak_rss_mb(),
    )


if __name__ == "__main__":
    main()
