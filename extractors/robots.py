"""robots.txt: fetched once a day per site, obeyed for article pages (feeds are meant to be polled).

Follows RFC 9309: a 4xx means no rules; a 5xx or an unreachable server means
"not now", so the site's pages wait for a later run unless yesterday's copy is
still at hand. The rules are read by protego, which implements the RFC's matching
(`*` and `$` in paths, the longest matching rule wins, Allow on a tie); the standard
library's parser takes the first rule that matches and reads `*` and `$` literally,
so `Disallow: /*.pdf$` let PDFs through.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from urllib.parse import urlsplit

from protego import Protego

from extractors.fetch import ROBOTS_ACCEPT, Fetcher
from newsmon.errors import FetchError, TransientFetchError
from newsmon.records import RobotsTxt

log = logging.getLogger(__name__)

MAX_BYTES = 500 * 1024  # RFC 9309 lets crawlers ignore what comes after 500 KiB


def allows(rules: RobotsTxt, url: str, agent: str) -> bool:
    """True when `rules` let `agent` fetch `url`."""
    return rules.body is None or _parser(rules.body).can_fetch(url, agent)


def crawl_delay(rules: RobotsTxt, agent: str) -> float | None:
    if rules.body is None:
        return None
    delay = _parser(rules.body).crawl_delay(agent)
    return float(delay) if delay is not None else None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: 'newsmon' in 'newsmon/0.1 (...)'."""
    return user_agent.split("/")[0].split()[0] if user_agent.strip() else "*"


async def fetch_robots(
    fetcher: Fetcher, origin: str, now: datetime, cached: RobotsTxt | None
) -> RobotsTxt | None:
    """Today's rules for `origin`; the cached copy, or None, when the server is unreachable."""
    url = origin + "/robots.txt"
    try:
        fetched = await fetcher.get(url, max_bytes=MAX_BYTES, accept=ROBOTS_ACCEPT)
    except TransientFetchError as exc:
        log.warning("robots.txt of %s unavailable (%s)", origin, exc)
        return cached
    except FetchError as exc:  # 4xx, refused or too large: no usable rules
        return RobotsTxt(origin, now, exc.status, None)
    return RobotsTxt(origin, now, fetched.status, fetched.body.decode("utf-8", errors="replace"))


@functools.lru_cache(maxsize=256)
def _parser(body: str) -> Protego:
    return Protego.parse(body)
