"""Developments, figures, stories and digests, end to end through Prefect, on the local site."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import pytest

from conftest import ALIASES, GULF, HARBOR, ROOT, Inbox, query
from newsmon.runlock import run_lock
from newsmon.samplesite import SiteServer

UPDATES = "/story/updates.xml"
STALLED = "/story/stalled.xml"
ENGLISH = "/translations/originals.xml"
FRENCH = "/translations/french.xml"
FOLLOW_UP = "/translations/suite.xml"
TOPIC = """
[topic]
keywords = ["gaza", "hamas", "rafah", "غزة", "עזה"]
min_relevance = 0.25

"""
TOPIC += ALIASES


@pytest.fixture
def poll_topic(prefect_api: None, db_path: Path, tmp_path: Path, site: SiteServer):
    """Polls these feed paths with the project's kind of [topic] table in the feeds file."""
    from flows.poll import poll_feeds

    def run(*paths: str) -> object:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(
            "".join(f'[[feeds]]\nurl = "{site.base_url}{p}"\n\n' for p in paths) + TOPIC,
            encoding="utf-8",
        )
        return poll_feeds(feeds_file=str(feeds), db_path=str(db_path))

    return run


@pytest.fixture
def run_digest(prefect_api: None, db_path: Path):
    from flows.digest import digest

    return lambda **options: digest(db_path=str(db_path), **options)


def developments_of(db_path: Path, url_end: str) -> list[str]:
    return [
        row[0]
        for row in query(
            db_path,
            "SELECT d.sentence FROM developments d JOIN articles a USING (article_id) "
            "WHERE a.url LIKE '%' || $1 ORDER BY d.position",
            [url_end],
        )
    ]


def test_copies_and_rewrites_of_seeds_give_no_developments(poll_topic, db_path: Path) -> None:
    report = poll_topic(HARBOR, GULF)
    assert report.developments > 0
    # Syndicated copies of the seeds: duplicates, so no developments at all.
    for copy in ("cairo-center.html", "cairo-hub-brief.html", "qatar-phase-two-talks.html"):
        assert developments_of(db_path, copy) == []
    # The same facts in other words: almost nothing new.
    assert len(developments_of(db_path, "cairo-truce-room.html")) <= 1
    # Seeds are the baseline: never developments themselves.
    assert query(
        db_path,
        "SELECT count(*) FROM developments JOIN articles USING (article_id) WHERE is_seed",
    ) == [(0,)]


def test_a_report_with_new_facts_gives_developments_and_a_figure_change(
    poll_topic, db_path: Path
) -> None:
    poll_topic(HARBOR, GULF)
    found = " ".join(developments_of(db_path, "aid-convoys-expand.html"))
    for fact in ("1,800 aid trucks", "630 trucks", "40,000 liters of diesel", "Netzarim"):
        assert fact in found
    # A sentence saying only what the seeds said is not a development.
    assert "second phase of the agreement" not in found
    changes = query(
        db_path,
        "SELECT value, previous_value, change, is_seed FROM figure_changes "
        "WHERE metric = 'aid_trucks' ORDER BY published_at NULLS FIRST",
    )
    assert changes == [(900.0, None, None, True), (1800.0, 900.0, 900.0, False)]
    # A later report moves the figure again, and its copy joins the same story.
    poll_topic(HARBOR, GULF, UPDATES)
    assert query(
        db_path,
        "SELECT previous_value, value FROM figure_changes WHERE metric = 'aid_trucks' "
        "ORDER BY published_at DESC LIMIT 1",
    ) == [(1800.0, 4200.0)]
    stories = query(
        db_path,
        "SELECT count(DISTINCT story_id) FROM articles WHERE url LIKE '%aid%deliveries%' "
        "OR url LIKE '%aid-convoys%'",
    )
    assert stories == [(1,)]


def test_a_new_event_without_new_facts_is_a_development_and_said_things_are_not(
    poll_topic, db_path: Path
) -> None:
    poll_topic(HARBOR, GULF)
    poll_topic(HARBOR, GULF, STALLED)
    [(new_event, said)] = query(
        db_path,
        "SELECT d.sentence, d.said_similarity FROM developments d JOIN articles a "
        "USING (article_id) WHERE a.url LIKE '%phase-two-stalls.html'",
    )
    assert new_event.startswith("The talks on the second phase of the truce have broken down")
    assert said < 0.88  # its closest sentence said before, kept for analysts
    # What was embedded is kept for later runs, in the article's story.
    assert query(
        db_path,
        "SELECT count(*), count(DISTINCT v.story_id), bool_and(v.story_id = a.story_id) "
        "FROM sentence_vectors v JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%phase-two-stalls.html'",
    ) == [(2, 1, True)]


def test_a_headline_repeated_in_the_text_is_not_a_development(poll_topic, db_path: Path) -> None:
    poll_topic(HARBOR, GULF)
    for page in ("rafah-aid-ar.html", "hostage-families-he.html"):
        [(title, first_line)] = query(
            db_path,
            "SELECT title, split_part(text, chr(10), 1) FROM articles WHERE url LIKE '%' || $1",
            [page],
        )
        assert first_line == title  # the page repeats its headline above the text
        found = developments_of(db_path, page)
        assert found and title not in found  # its other sentences still are developments


def stored(db_path: Path, url_end: str) -> dict[str, object]:
    columns = "article_id, duplicate_of, duplicate_kind, similarity, story_id, relevance"
    [row] = query(db_path, f"SELECT {columns} FROM articles WHERE url LIKE '%' || $1", [url_end])
    return dict(zip(columns.split(", "), row, strict=True))


def test_a_translation_of_a_stored_article_is_its_copy_and_gives_no_developments(
    poll_topic, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poll_topic(ENGLISH)
    poll_topic(ENGLISH, FRENCH)  # a day later, a French outlet
    original, translation = (
        stored(db_path, "aid-north-en.html"),
        stored(db_path, "aide-nord-fr.html"),
    )
    assert translation["duplicate_kind"] == "translation"
    assert translation["duplicate_of"] == original["article_id"]
    assert translation["story_id"] == original["story_id"] is not None
    assert translation["similarity"] > 0
    assert developments_of(db_path, "aide-nord-fr.html") == []
    assert developments_of(db_path, "aid-north-en.html")  # the original's facts were news
    # Another event of the story, in French: an original, with its own developments.
    other = stored(db_path, "otages-fr.html")
    assert other["duplicate_kind"] is None and developments_of(db_path, "otages-fr.html")
    assert query(db_path, "SELECT count(*) FROM article_vectors WHERE model = 'e5-small'") >= [(3,)]
    # Operators see it in `newsmon status`.
    from newsmon.cli import main

    assert main(["status", "--json", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["articles"]["translations"] == 1


def test_without_the_meaning_layer_a_translation_reads_as_news(
    poll_topic, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSMON_EMBEDDER", "none")
    poll_topic(ENGLISH)
    poll_topic(ENGLISH, FRENCH)
    assert stored(db_path, "aide-nord-fr.html")["duplicate_kind"] is None
    assert developments_of(db_path, "aide-nord-fr.html")  # word by word, all of it is new
    assert query(db_path, "SELECT count(*) FROM article_vectors") == [(0,)]


def test_a_model_that_fails_is_reported_and_the_analysis_goes_on(
    poll_topic, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSMON_EMBEDDER", "json:no_such_model")
    report = poll_topic(ENGLISH, FRENCH)
    [problem] = [e for e in report.errors if "meaning layer" in e]
    assert "json:no_such_model" in problem and "NEWSMON_EMBEDDER" in problem
    assert developments_of(db_path, "otages-fr.html")  # analysed all the same


def test_analysts_merge_and_split_stories_and_later_articles_respect_it(
    poll_topic, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsmon.cli import main

    poll_topic(ENGLISH, FRENCH)
    aid, hostages = stored(db_path, "aid-north-en.html"), stored(db_path, "otages-fr.html")
    kept, merged = aid["story_id"], hostages["story_id"]
    assert kept != merged
    assert main(["story", "merge", str(kept), str(merged), "--db", str(db_path)]) == 0
    assert f"story {merged} merged into story {kept}" in capsys.readouterr().out
    assert stored(db_path, "otages-fr.html")["story_id"] == kept
    assert query(
        db_path,
        "SELECT DISTINCT d.story_id FROM developments d JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%otages-fr.html'",
    ) == [(kept,)]
    assert query(db_path, "SELECT count(*) FROM story_summary WHERE story_id = $1", [merged]) == [
        (0,)
    ]
    # Two days later the hostage story goes on: close to the merged story, it joins the kept one.
    poll_topic(ENGLISH, FRENCH, FOLLOW_UP)
    assert stored(db_path, "otages-suite-fr.html")["story_id"] == kept
    # Split the hostage articles off again: they stand as a story of their own.
    follow_up = stored(db_path, "otages-suite-fr.html")["article_id"]
    articles = [str(hostages["article_id"]), str(follow_up)]
    assert main(["story", "split", str(kept), *articles, "--db", str(db_path)]) == 0
    assert stored(db_path, "otages-fr.html")["story_id"] == hostages["article_id"]
    assert stored(db_path, "otages-suite-fr.html")["story_id"] == hostages["article_id"]
    assert stored(db_path, "aid-north-en.html")["story_id"] == kept
    assert query(db_path, "SELECT action, story_id, other_id FROM story_edits ORDER BY 1") == [
        ("merge", kept, merged),
        ("split", kept, hostages["article_id"]),
    ]
    # A story that is not there, or an article outside it, is refused with a reason.
    assert main(["story", "merge", str(kept), "42", "--db", str(db_path)]) == 1
    assert main(["story", "split", str(kept), str(follow_up), "--db", str(db_path)]) == 1
    assert "no story 42" in capsys.readouterr().err


def test_off_topic_articles_give_nothing_and_clear_cases_are_not_fetched(
    poll_topic, db_path: Path, site: SiteServer
) -> None:
    before = site.requests["/story/football.html"]
    report = poll_topic(UPDATES)
    assert report.off_topic == 1
    assert site.requests["/story/football.html"] == before  # never fetched
    rows = dict(query(db_path, "SELECT url, status FROM articles WHERE url LIKE '%/story/%'"))
    assert rows[f"{site.base_url}/story/football.html"] == "off_topic"
    relevance, story = query(
        db_path, "SELECT relevance, story_id FROM articles WHERE url LIKE '%geneva-talks%'"
    )[0]
    assert relevance < 0.25 and story is None
    assert developments_of(db_path, "geneva-talks.html") == []
    assert developments_of(db_path, "aid-update.html")  # the relevant one has news


def test_a_digest_run_twice_delivers_once(
    poll_topic, run_digest, inbox: Inbox, db_path: Path, tmp_path: Path
) -> None:
    poll_topic(HARBOR, GULF)
    first = run_digest()
    assert first.recorded and first.sent == [
        "json://127.0.0.1:" + inbox.url.split(":")[2].split("/")[0]
    ]
    assert len(inbox.posts) == 1
    body = str(inbox.posts[0]["message"])
    assert body.index("aid trucks: 900 → 1,800") < body.index("630 trucks")  # figures first
    assert "Also reported by [Gulf Observer](http" in body  # named and linked
    digest = inbox.posts[0]["digest"]  # the JSON digest itself, for programs
    assert isinstance(digest, dict) and digest["digest_id"] == first.digest_id
    assert inbox.posts[0]["title"] == digest["title"]
    assert str(digest["title"]).endswith(": 20 new developments — aid trucks 900 → 1,800")

    second = run_digest()
    assert not second.recorded and second.developments == 0
    assert len(inbox.posts) == 1  # nothing new: nothing sent

    poll_topic(HARBOR, GULF, UPDATES)
    third = run_digest()
    assert len(inbox.posts) == 2
    body = str(inbox.posts[1]["message"])
    assert "4,200 aid trucks" in body and "1,800 aid trucks" not in body
    delivered = query(db_path, "SELECT count(*), count(DISTINCT development_id) FROM digest_items")
    assert delivered[0][0] == delivered[0][1] == first.developments + third.developments
    assert query(db_path, "SELECT DISTINCT status FROM deliveries") == [("sent",)]


class ChatServer:
    """A Mattermost server on 127.0.0.1 as apprise's mmost:// posts to it (4,000 characters a
    message): keeps each message's text, and refuses the posts numbered in `refuse`."""

    def __init__(self, refuse: set[int]) -> None:
        self.texts: list[str] = []
        self.posts = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.posts += 1
                refused = server.posts in refuse
                if not refused:
                    server.texts.append(body["text"])
                self.send_response(500 if refused else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self.url = f"mmost://127.0.0.1:{self._http.server_address[1]}/hooktoken1234567890"

    def close(self) -> None:
        self._http.shutdown()


def test_a_digest_too_long_for_chat_goes_in_parts_and_a_failed_part_is_retried_alone(
    poll_topic, run_digest, db_path: Path, tmp_path: Path, monkeypatch
) -> None:
    from newsmon.errors import RunFailedError

    chat = ChatServer(refuse={2})  # the second message fails once
    monkeypatch.setenv("NEWSMON_NOTIFY_URLS", chat.url)
    monkeypatch.setenv("NEWSMON_DIGEST_DIR", str(tmp_path / "digests"))
    try:
        poll_topic(HARBOR, GULF, UPDATES, ENGLISH)  # about 6,000 characters of digest
        with pytest.raises(RunFailedError, match="did not accept the digest"):
            run_digest()
        assert len(chat.texts) == 1
        assert query(db_path, "SELECT status, parts_sent FROM deliveries") == [("failed", 1)]
        retried = run_digest()  # nothing new: it only retries the failed delivery
        assert not retried.recorded and retried.sent == ["mmost://…"] and not retried.failed
        (parts,) = query(db_path, "SELECT parts_sent FROM deliveries WHERE status = 'sent'")[0]
    finally:
        chat.close()
    assert parts == len(chat.texts) >= 2 and chat.posts == parts + 1  # each part arrived once
    assert all(len(text) <= 4000 for text in chat.texts)
    assert chat.texts[0].startswith("# ")
    assert [t.split("\n")[0] for t in chat.texts[1:]] == [
        f"({n}/{parts})" for n in range(2, parts + 1)
    ]
    markdown = query(db_path, "SELECT markdown FROM digests")[0][0]
    received = " ".join(re.sub(r"^\(\d+/\d+\)", "", text) for text in chat.texts)
    assert received.split() == markdown.split()  # nothing lost, no word cut


def digest_artifacts(since: datetime) -> list[str]:
    """The keys of the digest artifacts published since `since`, oldest first (the
    Prefect API is shared by the whole test session)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(sort="CREATED_DESC", limit=50)
    return [
        a.key
        for a in reversed(artifacts)
        if a.key and a.key.startswith("digest") and a.created and a.created >= since
    ]


def test_an_empty_digest_is_sent_only_when_asked(poll_topic, run_digest, inbox: Inbox) -> None:
    started = datetime.now(UTC)
    assert not run_digest().recorded
    assert inbox.posts == []
    assert digest_artifacts(started) == []  # nothing new, nobody asked: nothing to mistake
    assert run_digest(send_empty=True).recorded
    assert len(inbox.posts) == 1 and "Nothing new" in str(inbox.posts[0]["message"])
    assert digest_artifacts(started) == ["digest"]


def test_a_dry_run_publishes_under_its_own_key(poll_topic, run_digest, inbox: Inbox) -> None:
    started = datetime.now(UTC)
    poll_topic(HARBOR)
    assert not run_digest(dry_run=True).recorded and inbox.posts == []
    assert run_digest().recorded and len(inbox.posts) == 1
    assert digest_artifacts(started) == ["digest-dry-run", "digest"]


def test_a_digest_skips_while_another_run_holds_the_database(
    poll_topic, run_digest, inbox: Inbox, db_path: Path
) -> None:
    poll_topic(HARBOR, GULF)
    with run_lock(db_path, "a poll"):
        assert run_digest() is None
    assert inbox.posts == []
    assert run_digest().recorded and len(inbox.posts) == 1


def test_a_run_killed_between_sending_and_recording_never_sends_twice(
    poll_topic, inbox: Inbox, db_path: Path, tmp_path: Path
) -> None:
    poll_topic(HARBOR, GULF)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "newsmon.cli", "digest", "--db", str(db_path)]
    victim = subprocess.Popen(
        command, env=env, cwd=tmp_path, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    inbox.on_post = lambda: os.killpg(victim.pid, signal.SIGKILL)  # sent, not yet recorded
    victim.wait(timeout=120)
    inbox.on_post = None
    assert victim.returncode == -signal.SIGKILL and len(inbox.posts) == 1
    assert query(db_path, "SELECT status FROM deliveries") == [("sending",)]

    after = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert after.returncode == 0, after.stderr[-2000:]
    assert len(inbox.posts) == 1  # not sent again
    assert "may or may not have arrived" in after.stderr
    assert query(db_path, "SELECT status FROM deliveries") == [("unconfirmed",)]
    assert "s3cr3t" not in after.stdout + after.stderr


def test_digest_files_atom_feed_and_escaping(
    poll_topic, run_digest, inbox: Inbox, db_path: Path, tmp_path: Path, monkeypatch
) -> None:
    public = "https://news.example.org/gaza/"
    monkeypatch.setenv("NEWSMON_PUBLIC_URL", public.rstrip("/"))  # the slash is added
    poll_topic(HARBOR, GULF)
    run_digest()
    poll_topic(UPDATES)
    result = run_digest()
    folder = tmp_path / "digests"
    html = (folder / f"{result.digest_id}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;gaza&#34;)&lt;/script&gt;" in html
    assert "<script>" not in html
    markdown = (folder / f"{result.digest_id}.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and r"\<script\>" in markdown
    data = json.loads((folder / f"{result.digest_id}.json").read_text(encoding="utf-8"))
    sentences = [d["sentence"] for s in data["stories"] for d in s["developments"]]
    assert any('<script>alert("gaza")</script>' in s for s in sentences)  # JSON keeps the text
    ids = [s["story_id"] for s in data["stories"]]
    ids += [d[key] for s in data["stories"] for d in s["developments"] for key in d if "_id" in key]
    assert ids and all(isinstance(i, str) and i.isdigit() for i in ids)  # 64 bits: not for JS

    raw = (folder / "developments.atom").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.id and parsed.feed.title and parsed.feed.updated and parsed.feed.author
    assert len(parsed.entries) == 2
    assert_valid_atom(raw)
    assert parsed.feed.links[0].href == public + "developments.atom"
    for entry in parsed.entries:
        assert entry.id.startswith("urn:uuid:") and entry.updated
        assert re.fullmatch(r".+: \d+ new developments? (—|in) .+", entry.title), entry.title
        assert entry.link.startswith(public) and entry.link.endswith(".html")
        assert entry.summary and "<" not in entry.summary  # words, not markup
        content = entry.content[0].value
        assert "<html" not in content and "<head" not in content  # a fragment, not a page
    newest = parsed.entries[0]
    assert newest.link == f"{public}{result.digest_id}.html"
    assert "&lt;script&gt;" in newest.content[0].value  # still escaped inside
    assert f'href="{public}stories/' in newest.content[0].value  # the story page, absolute
    assert f"[The full digest]({public}{result.digest_id}.html)" in markdown
    secret = "s3cr3t"
    assert secret not in raw.decode() + html + markdown
    assert not query(db_path, f"SELECT * FROM deliveries WHERE channel_label LIKE '%{secret}%'")


def assert_valid_atom(raw: bytes) -> None:
    """RFC 4287's rules that a feed reader relies on, checked on the XML itself."""
    atom = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(raw)
    assert root.tag == f"{atom}feed"

    def one(parent: ET.Element, tag: str) -> str:
        found = parent.findall(f"{atom}{tag}")
        assert len(found) == 1, f"atom:{tag} must occur exactly once in {parent.tag}"
        return found[0].text or ""

    def absolute(iri: str) -> None:
        assert re.match(r"^[a-z][a-z0-9+.-]*:", iri), f"{iri!r} is not an absolute IRI"

    def timestamp(text: str) -> None:  # RFC 3339, time zone included
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", text)

    absolute(one(root, "id"))
    assert one(root, "title")
    timestamp(one(root, "updated"))
    assert root.find(f"{atom}author/{atom}name") is not None  # or one in every entry
    assert [link.get("rel") for link in root.findall(f"{atom}link")].count("self") == 1
    ids = set()
    for entry in root.findall(f"{atom}entry"):
        ids.add(one(entry, "id"))
        absolute(one(entry, "id"))
        assert one(entry, "title")
        timestamp(one(entry, "updated"))
        links = entry.findall(f"{atom}link")
        assert any(link.get("rel", "alternate") == "alternate" for link in links)
        for link in links:
            absolute(link.get("href", ""))
        content = entry.find(f"{atom}content")
        assert content is not None and content.get("type") in ("text", "html", "xhtml")
    assert len(ids) == len(root.findall(f"{atom}entry")), "entry ids must be unique"


def test_diff_and_dry_run_show_changes_without_recording(
    poll_topic, inbox: Inbox, db_path: Path, tmp_path: Path
) -> None:
    poll_topic(HARBOR, GULF)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    newsmon = [sys.executable, "-m", "newsmon.cli"]
    diff = subprocess.run(
        [*newsmon, "diff", "--since", "2000-01-01", "--db", str(db_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert diff.returncode == 0, diff.stderr
    assert "aid trucks: 900 -> 1,800 (+900)" in diff.stdout
    assert "Deir al-Balah" in diff.stdout
    dry = subprocess.run(
        [*newsmon, "digest", "--dry-run", "--db", str(db_path)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "aid trucks: 900 → 1,800" in dry.stdout
    assert inbox.posts == [] and query(db_path, "SELECT count(*) FROM digests") == [(0,)]
    bad = subprocess.run(
        [*newsmon, "diff", "--since", "yesterday-ish"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "is not a time" in bad.stderr


def test_a_huge_digest_is_cut_for_people_and_complete_in_json() -> None:
    from datetime import UTC, datetime

    from publish.render import render
    from storage.digests import Development, Digest, StoryDigest

    now = datetime.now(UTC)
    stories = [
        StoryDigest(
            s,
            f"Story {s}",
            developments=[
                Development(
                    s * 100 + d, f"Sentence {d} of story {s}.", d / 10, [], now, None, None, None
                )
                for d in range(10)
            ],
        )
        for s in range(30)
    ]
    rendered = render(Digest("big", now, None, stories))
    markdown = rendered["markdown"]
    assert "## Story 24" in markdown and "## Story 25" not in markdown
    assert "and 5 more stories" in markdown and markdown.count("_and 2 more_") == 25
    assert "Sentence 9 of story 0." in markdown and "Sentence 0 of story 0." not in markdown
    assert "and 5 more stories" in rendered["html"]
    assert len(json.loads(rendered["json"])["stories"]) == 30
