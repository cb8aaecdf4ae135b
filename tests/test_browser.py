"""What a reader sees, in a real browser: Debian's Chromium, headless, driven by Playwright.

The pages come from the real pipeline (polls of the local sample site through Prefect, then
the digest flow); each test keeps a screenshot in test-artifacts/ (NEWSMON_TEST_ARTIFACTS).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import markdown
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import GULF, HARBOR, ROOT, Inbox, query
from newsmon.samplesite import SiteServer

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's notes say: without the background-networking flags, Chromium keeps
# trying to reach Google's hosts, which this closed network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("NEWSMON_TEST_ARTIFACTS", ROOT / "test-artifacts"))
UPDATES = "/story/updates.xml"
TOPIC = '\n[topic]\nname = "Gaza ceasefire"\nkeywords = ["gaza", "hamas", "rafah", "غزة", "עזה"]\n'


@pytest.fixture
def browser(published: Path) -> Iterator[Browser]:
    """Started after the flows ran: Playwright's sync API keeps an event loop running in
    this thread, where Prefect's flows would need their own."""
    assert Path(CHROMIUM).exists(), (
        f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium), "
        "as .ci/run does"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def published(
    prefect_api: None,
    site: SiteServer,
    inbox: Inbox,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Day one and day two of the sample story polled, each followed by a digest: the digest
    folder (digests, Atom feed, story pages) as the flows leave it."""
    from flows.digest import digest
    from flows.poll import poll_feeds

    feeds = tmp_path / "feeds.toml"
    monkeypatch.setenv("NEWSMON_FEEDS", str(feeds))
    for paths in ((HARBOR, GULF), (HARBOR, GULF, UPDATES)):
        feeds.write_text(
            "".join(f'[[feeds]]\nurl = "{site.base_url}{p}"\n\n' for p in paths) + TOPIC,
            encoding="utf-8",
        )
        poll_feeds(feeds_file=str(feeds), db_path=str(db_path))
        assert digest(db_path=str(db_path)).recorded
    return tmp_path / "digests"


def open_page(browser: Browser, path: Path, screenshot: str) -> Page:
    page = browser.new_page(viewport=PHONE)
    page.goto(path.as_uri())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    return page


def assert_fits_a_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{width}px wide at {PHONE['width']}px: a horizontal scroll"


def assert_right_to_left_items_are_right_aligned(page: Page) -> int:
    """Each Arabic or Hebrew item runs right to left, its text flush with the right edge."""
    items = page.evaluate(
        """[...document.querySelectorAll('li[lang=ar], li[lang=he]')].map(li => {
            const range = document.createRange(); range.selectNodeContents(li);
            const text = range.getBoundingClientRect(), box = li.getBoundingClientRect();
            return {direction: getComputedStyle(li).direction, gap: box.right - text.right,
                    left: text.left - box.left};
        })"""
    )
    for item in items:
        assert item["direction"] == "rtl"
        assert item["gap"] < 2, item  # flush right
    return len(items)


def assert_links_resolve(page: Page) -> int:
    """Every link leads somewhere: a file that exists, or a page the local site serves."""
    hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme == "file":
            assert Path(unquote(parts.path)).is_file(), f"{href} leads to no file"
        else:
            assert httpx.get(href.split("#")[0]).status_code == 200, href
    return len(hrefs)


def chart_points(page: Page) -> list[dict[str, float]]:
    return page.evaluate(
        """[...document.querySelectorAll('figure svg')].map(svg => ({
            points: svg.querySelector('polyline').points.numberOfItems,
            dots: svg.querySelectorAll('circle').length,
            width: svg.getBoundingClientRect().width,
            height: svg.getBoundingClientRect().height}))"""
    )


def test_the_digest_as_e_mail_reads_right_on_a_phone(
    published: Path, browser: Browser, db_path: Path
) -> None:
    from publish.channels import messages_for
    from storage.digests import rendered

    digest_id = query(db_path, "SELECT digest_id FROM digests ORDER BY created_at LIMIT 1")[0][0]
    from storage.db import connect

    with connect(db_path, read_only=True) as conn:
        stored = rendered(conn, str(digest_id))
    (message,) = messages_for("mailto://reader:pw@example.org", stored, None)
    assert message.body_format == "html"
    assert re.fullmatch(
        r"Gaza ceasefire: \d+ new developments — aid trucks 900 → 1,800", message.title
    )
    email = published / "e-mail.html"
    email.write_text(message.body, encoding="utf-8")
    page = open_page(browser, email, "digest-e-mail.png")

    assert page.title() == message.title
    assert_fits_a_phone(page)
    assert assert_right_to_left_items_are_right_aligned(page) >= 10  # the ar and he reports
    headings = page.evaluate(
        "[...document.querySelectorAll('h2')].map(h => getComputedStyle(h).direction)"
    )
    assert headings.count("rtl") == 2 and headings.count("ltr") >= 1
    (chart,) = chart_points(page)
    assert chart["points"] == chart["dots"] == 2 and chart["width"] > 200  # 900 → 1,800
    assert "Also reported by Gulf Observer." in page.inner_text("body")
    sources = page.locator(".report p.meta a").evaluate_all("links => links.map(a => a.href)")
    assert len(sources) == len(set(sources)) == page.locator(".report").count() >= 3  # once each
    assert assert_links_resolve(page) >= 6


def test_the_story_page_has_its_timeline_chart_and_copies(
    published: Path, browser: Browser
) -> None:
    index = open_page(browser, published / "index.html", "story-index.png")
    assert_fits_a_phone(index)
    assert assert_links_resolve(index) >= 4
    index.get_by_role("link", name="Aid convoys into Gaza double").first.click()
    story = index
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    story.screenshot(path=str(ARTIFACTS / "story-page.png"), full_page=True)

    assert_fits_a_phone(story)
    (chart,) = chart_points(story)
    assert chart["points"] == chart["dots"] == 3 and chart["height"] > 40  # 900 → 1,800 → 4,200
    text = story.inner_text("main")
    assert "aid trucks: 900 → 1,800 → 4,200" in text
    assert "Copies and translations" in text and "a syndicated copy of The Harbor Times" in text
    timeline = story.locator(".report .meta").all_inner_texts()
    assert timeline and all(re.search(r" · en · 2025-01-\d\d \d\d:\d\d UTC$", t) for t in timeline)
    assert assert_links_resolve(story) >= 4
    story.get_by_role("link", name="All stories").click()
    assert story.url.endswith("/index.html")


def test_the_webhook_message_renders_as_chat_shows_it(
    published: Path, browser: Browser, inbox: Inbox
) -> None:
    first = inbox.posts[0]
    assert first["title"] == first["digest"]["title"]  # type: ignore[index]
    html = markdown.markdown(str(first["message"]))
    chat = published / "webhook-message.html"
    chat.write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width"><body style="font-family:sans-serif">{html}',
        encoding="utf-8",
    )
    page = open_page(browser, chat, "digest-webhook.png")
    assert_fits_a_phone(page)
    text = page.inner_text("body")
    assert re.match(r"Gaza ceasefire: \d+ new developments — aid trucks 900 → 1,800\n", text)
    assert "\\" not in text  # the escapes are Markdown's, not the reader's
    assert page.locator("em", has_text="Also reported by").locator("a").all_inner_texts() == [
        "Gulf Observer"
    ]


def test_newsmon_site_writes_the_folder_and_serves_it(published: Path, db_path: Path) -> None:
    import subprocess
    import sys
    import time

    from conftest import free_port

    out = published.parent / "site"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "newsmon.cli", "site", "--db", str(db_path), "--out"]
    server = subprocess.Popen(
        [*command, str(out), "--serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert re.fullmatch(
            r"\d+ stories in .*index.html \(\d+ pages written\)\n", server.stdout.readline()
        )
        assert server.stdout.readline().startswith(f"Serving {out} at http://127.0.0.1:{port}/")
        for _ in range(50):
            try:
                index = httpx.get(f"http://127.0.0.1:{port}/index.html")
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert index.status_code == 200 and "Gaza ceasefire: stories" in index.text
        story = re.search(r'href="(stories/\d+\.html)"', index.text)
        assert story and httpx.get(f"http://127.0.0.1:{port}/{story.group(1)}").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/developments.atom").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
    again = subprocess.run(
        [*command, str(out)], env=env, capture_output=True, text=True, timeout=60
    )
    # Nothing changed: no story page is written again (the index says when it was written).
    assert again.returncode == 0 and re.search(r"\((0|1) pages written\)", again.stdout)

    # An analyst merges two stories: the merged one's page leads to the one it joined.
    kept, merged = [
        row[0]
        for row in query(
            db_path,
            "SELECT story_id FROM story_summary WHERE developments > 0 ORDER BY story_id LIMIT 2",
        )
    ]
    edit = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "story", "merge", str(kept), str(merged),
         "--db", str(db_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert edit.returncode == 0, edit.stderr
    after = subprocess.run(
        [*command, str(out)], env=env, capture_output=True, text=True, timeout=60
    )
    assert after.returncode == 0 and re.search(r"\(([2-9]|\d\d+) pages written\)", after.stdout)
    page = (out / "stories" / f"{merged}.html").read_text(encoding="utf-8")
    assert f'href="{kept}.html"' in page and "merged this story into" in page
    assert f"stories/{merged}.html" not in (out / "index.html").read_text(encoding="utf-8")
