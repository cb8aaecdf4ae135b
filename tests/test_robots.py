"""robots.txt read as RFC 9309 says: wildcards, end anchors, the longest match wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extractors.robots import allows, crawl_delay
from newsmon.records import RobotsTxt

RULES = """
User-agent: *
Disallow: /*.pdf$
Disallow: /news/
Allow: /news/public/
Disallow: /search
Allow: /search/about$
Crawl-delay: 2

User-agent: newsmon
Disallow: /drafts/
Allow: /drafts/published/
"""


def rules(body: str | None = RULES) -> RobotsTxt:
    return RobotsTxt("https://site.example", datetime(2025, 1, 1, tzinfo=UTC), 200, body)


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/report.pdf", False),  # '*' matches any run of characters, '$' the end
        ("/files/2025/report.pdf", False),
        ("/report.pdf?download=1", True),  # the path goes on past '.pdf': '$' does not match
        ("/report.pdfx", True),
        ("/news/today.html", False),
        ("/news/public/today.html", True),  # the longer Allow wins over the shorter Disallow
        ("/search?q=ceasefire", False),
        ("/search/about", True),
        ("/search/about/more", False),
        ("/", True),
    ],
)
def test_any_crawler_follows_the_star_group(path: str, allowed: bool) -> None:
    assert allows(rules(), "https://site.example" + path, "otherbot") is allowed


def test_a_group_of_our_own_replaces_the_star_group() -> None:
    site = rules()
    assert allows(site, "https://site.example/news/today.html", "newsmon")
    assert not allows(site, "https://site.example/drafts/x.html", "newsmon")
    assert allows(site, "https://site.example/drafts/published/x.html", "newsmon")
    assert crawl_delay(site, "otherbot") == 2.0
    assert crawl_delay(site, "newsmon") is None


def test_no_rules_allow_everything() -> None:
    assert allows(rules(None), "https://site.example/news/x.pdf", "newsmon")
    assert allows(rules(""), "https://site.example/news/x.pdf", "newsmon")
