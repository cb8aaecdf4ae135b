"""Each channel gets the digest in its service's format and size; the Atom feed, the story
pages and the settings behind their links. Plain functions, no flow."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from newsmon.errors import ConfigError
from newsmon.settings import Settings
from publish.channels import messages_for, split
from publish.render import Publication, render
from storage.digests import Development, Digest, Outlet, StoryDigest

DISCORD = "discord://1234567/abcdefghijklmnop"
TELEGRAM = "tgram://123456789:abcdefghijklmnopqrstuvwxyz123456789/12345"
PUBLIC = "https://news.example.org/gaza/"


def long_digest(stories: int = 12, sentences: int = 6) -> dict[str, str]:
    now = datetime.now(UTC)
    words = "ceasefire negotiators crossing convoy humanitarian corridor hostages mediators"
    digest = Digest(
        "20261203T120000.000000Z",
        now,
        None,
        [
            StoryDigest(
                s,
                f"Story {s} about the talks",
                developments=[
                    Development(
                        s * 100 + d,
                        f"Sentence {d} of story {s}: " + " ".join([words] * 4) + ".",
                        0.5,
                        [],
                        now,
                        f"https://outlet{s}.example/{d}",
                        None,
                        f"Outlet {s}",
                    )
                    for d in range(sentences)
                ],
                reported_by=[Outlet("Other Outlet", "https://other.example/a")],
            )
            for s in range(1, stories + 1)
        ],
    )
    return render(digest, Publication("Gaza ceasefire", PUBLIC))


def words_of(parts: list[str]) -> list[str]:
    text = " ".join(re.sub(r"^\(\d+/\d+\)\n\n", "", part) for part in parts)
    return text.replace("[The full digest](" + PUBLIC, "").split()


@pytest.mark.parametrize(("url", "limit"), [(DISCORD, 2000), (TELEGRAM, 4096)])
def test_a_long_digest_is_split_for_chat_between_words_and_nothing_is_lost(
    url: str, limit: int
) -> None:
    rendered = long_digest()
    messages = messages_for(url, rendered, f"{PUBLIC}20261203T120000.000000Z.html")
    assert len(messages) > 1 and {m.body_format for m in messages} == {"markdown"}
    for message in messages:
        assert len(message.title) + len(message.body) + 2 <= limit or len(message.body) <= limit
        assert len(message.body) <= limit
    bodies = [m.body for m in messages]
    expected = rendered["markdown"]
    if messages[0].title:  # the service shows a title: it is not repeated in the body
        expected = expected.split("\n", 1)[1]
        assert messages[-1].title.endswith(f" ({len(messages)}/{len(messages)})")
    assert words_of(bodies) == expected.replace("[The full digest](" + PUBLIC, "").split()
    assert "[The full digest]" in bodies[-1] and all("[The full" not in b for b in bodies[:-1])
    assert all(not b.startswith("(") or re.match(r"\(\d+/\d+\)\n\n", b) for b in bodies)


def test_stories_stay_whole_when_they_fit() -> None:
    text = "# Title\n\nSummary.\n\n## One\n\n- a b c\n\n## Two\n\n- d e f\n"
    parts = split(text, 30, None, numbered=False)
    assert parts == ["# Title\n\nSummary.", "## One\n\n- a b c", "## Two\n\n- d e f"]
    assert split(text, 1000, None, numbered=False) == [text]
    with pytest.raises(ValueError, match="cannot carry a digest"):
        split(text, 10, None, numbered=False)


def test_each_service_gets_its_format() -> None:
    rendered = long_digest(stories=2, sentences=2)
    (email,) = messages_for("mailto://reader:pw@example.org", rendered, None)
    assert email.body_format == "html" and email.body.startswith("<!DOCTYPE html>")
    (hook,) = messages_for("json://127.0.0.1:9000/hook", rendered, None)
    payload = json.loads(hook.body)
    assert hook.body_format == "json" and payload["message"] == rendered["markdown"]
    assert payload["digest"]["stories"][0]["story_id"] == "1"  # ids as strings
    assert payload["title"] == payload["digest"]["title"] == email.title
    assert email.title == "Gaza ceasefire: 4 new developments in 2 stories"
    big = long_digest(stories=40, sentences=8)
    assert len(big["html"]) > 32768  # over what apprise sends by e-mail: Markdown parts
    assert {m.body_format for m in messages_for("mailto://r:pw@example.org", big, None)} == {
        "markdown"
    }


def test_the_public_url_must_be_an_address_readers_can_open() -> None:
    assert Settings.from_env({"NEWSMON_PUBLIC_URL": PUBLIC.rstrip("/")}).public_url == PUBLIC
    assert Settings.from_env({"NEWSMON_PUBLIC_URL": ""}).public_url == ""
    for wrong in ("news.example.org/gaza", "ftp://example.org/", "https://x.org/?a=1"):
        with pytest.raises(ConfigError, match="NEWSMON_PUBLIC_URL=.*served at"):
            Settings.from_env({"NEWSMON_PUBLIC_URL": wrong})
