"""The feeds file: the feeds to poll and the topic, read from TOML and checked key by key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from analysis.topic import Topic, build_topic
from newsmon.errors import FeedsFileError
from newsmon.records import Feed

FEED_KEYS = {"url": "feed address (http or https)", "name": "short label shown in status"}


TOPIC_KEYS = {
    "name": 'what digests, the Atom feed and the story pages call the topic ("Gaza ceasefire")',
    "keywords": "words that make an article relevant, in any language",
    "min_relevance": "articles scoring below it (0 to 1) stay out of developments and digests",
    "skip_off_topic": "skip fetching entries whose title and summary share nothing with the topic",
    "aliases": 'a table of spellings of one name: "qatari" = "qatar", "idf" = ...',
}


def load_feeds(path: Path) -> list[Feed]:
    """Every feed in `path`, in file order; a wrong key or value names its line."""
    text, document = _read(path)
    unknown_top = sorted(set(document) - {"feeds", "topic"})
    if unknown_top:
        key = unknown_top[0]
        raise FeedsFileError(
            str(path),
            f"unknown key {key!r}; the file holds [[feeds]] tables and one [topic] table",
            _find_key_line(text, key, 0),
        )
    tables = document.get("feeds", [])
    if not isinstance(tables, list):
        raise FeedsFileError(str(path), "'feeds' must be an array of tables: write [[feeds]]")

    feeds: list[Feed] = []
    seen: set[str] = set()
    for index, table in enumerate(tables):
        for key in table:
            if key not in FEED_KEYS:
                allowed = ", ".join(sorted(FEED_KEYS))
                raise FeedsFileError(
                    str(path),
                    f"unknown key {key!r} in feed #{index + 1}; allowed keys: {allowed}",
                    _find_key_line(text, key, index),
                )
        url = table.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise FeedsFileError(
                str(path),
                f'feed #{index + 1} needs url = "http(s)://...", got {url!r}',
                _find_key_line(text, "url", index) or _table_line(text, index),
            )
        if url in seen:
            raise FeedsFileError(
                str(path), f"feed {url} is listed twice", _find_key_line(text, "url", index)
            )
        seen.add(url)
        name = table.get("name", url)
        if not isinstance(name, str):
            raise FeedsFileError(
                str(path),
                f"name of feed #{index + 1} must be a string",
                _find_key_line(text, "name", index),
            )
        feeds.append(Feed(url=url, name=name))
    if not feeds:
        raise FeedsFileError(
            str(path), 'no feeds to poll; add a [[feeds]] table with url = "https://..."'
        )
    return feeds


def check_feeds_file(path: Path) -> None:
    """Read the whole feeds file as a run would, so a mistake stops the run before it starts."""
    load_feeds(path)
    _topic_settings(path)


def load_topic(path: Path, seed_texts: list[str]) -> Topic:
    """The topic profile: the seeds' words plus the feeds file's optional [topic] table."""
    return build_topic(seed_texts, *_topic_settings(path))


def load_topic_name(path: Path) -> str:
    """The [topic] table's name; 'newsmon' when the file names none (or there is no file:
    a digest can be written on a machine that does not poll)."""
    if not path.is_file():
        return "newsmon"
    text, document = _read(path)
    table = document.get("topic", {})
    name = table.get("name", "newsmon") if isinstance(table, dict) else "newsmon"
    if not isinstance(name, str) or not name.strip():
        raise FeedsFileError(
            str(path),
            'name in [topic] must be a string: name = "Gaza ceasefire"',
            _find_key_line(text, "name", 0),
        )
    return " ".join(name.split())


def _topic_settings(path: Path) -> tuple[list[str], float, bool, dict[str, str]]:
    """(keywords, min_relevance, skip_off_topic, aliases) of the [topic] table, each checked."""
    text, document = _read(path)
    table = document.get("topic", {})
    if not isinstance(table, dict):
        raise FeedsFileError(str(path), "'topic' must be a table: write [topic]")
    for key in table:
        if key not in TOPIC_KEYS:
            raise FeedsFileError(
                str(path),
                f"unknown key {key!r} in [topic]; allowed keys: {', '.join(sorted(TOPIC_KEYS))}",
                _find_key_line(text, key, 0),
            )
    keywords = table.get("keywords", [])
    min_relevance = table.get("min_relevance", 0.15)
    skip = table.get("skip_off_topic", True)
    aliases = table.get("aliases", {})
    problem = None
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        problem = "keywords", 'keywords must be a list of strings, e.g. ["gaza", "غزة"]'
    elif (
        isinstance(min_relevance, bool)
        or not isinstance(min_relevance, int | float)
        or not 0 <= min_relevance <= 1
    ):
        problem = "min_relevance", "min_relevance must be a number from 0 to 1"
    elif not isinstance(skip, bool):
        problem = "skip_off_topic", "skip_off_topic must be true or false"
    elif not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        problem = (
            "aliases",
            'aliases must be a table of strings: [topic.aliases] "qatari" = "qatar"',
        )
    if problem:
        raise FeedsFileError(str(path), problem[1], _find_key_line(text, problem[0], 0))
    return keywords, float(min_relevance), skip, aliases


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FeedsFileError(
            str(path), "no such file; create it or set NEWSMON_FEEDS to your feeds file"
        ) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise FeedsFileError(str(path), f"not valid TOML: {exc}", line) from None


def _table_line(text: str, index: int) -> int | None:
    """1-based line of the index-th [[feeds]] header."""
    headers = [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if re.match(r"\s*\[\[\s*feeds\s*\]\]", line)
    ]
    return headers[index] if index < len(headers) else None


def _find_key_line(text: str, key: str, index: int) -> int | None:
    """1-based line where `key` is set inside the index-th [[feeds]] table (or anywhere)."""
    lines = text.splitlines()
    start = _table_line(text, index) or 1
    pattern = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if number > start and re.match(r"\s*\[", line):
            break
        if pattern.match(line):
            return number
    for number, line in enumerate(lines, 1):
        if pattern.match(line) or re.search(rf"""[{{,]\s*["']?{re.escape(key)}["']?\s*=""", line):
            return number
    return None


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
