"""One typed home for every knob, read from NEWSMON_* environment variables once."""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsmon import __version__
from newsmon.errors import ConfigError

ENV_PREFIX = "NEWSMON_"
DEFAULT_USER_AGENT = f"newsmon/{__version__} (+https://github.com/newsmon/newsmon)"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _parse_positive_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"expected a whole number >= 0, got {raw!r}")
    return value


def _parse_count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(f"expected a whole number >= 1, got {raw!r}")
    return value


def _parse_path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("expected a path, got an empty value; unset it to get the default")
    return Path(raw.strip())


def _parse_positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError(f"expected a number > 0, got {raw!r}")
    return value


def _parse_seconds(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError(f"expected a number of seconds >= 0, got {raw!r}")
    return value


def _parse_private_hosts(raw: str) -> bool | tuple[Network, ...]:
    """true/false, or a comma-separated list of networks such as 127.0.0.1,10.0.0.0/8."""
    try:
        return _parse_bool(raw)
    except ValueError:
        pass
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(
            f"expected true, false or a comma-separated list of networks, got {raw!r}"
        ) from None


def _parse_urls(raw: str) -> tuple[str, ...]:
    """apprise URLs, each checked by apprise itself, so a wrong one fails before any digest
    is recorded for it. The message names the URL's position and scheme, never the URL."""
    import apprise  # only here: it is slow to import, and most commands never need it

    urls = tuple(part for part in re.split(r"[\s,]+", raw) if part)
    quiet = logging.getLogger("apprise")
    for number, url in enumerate(urls, start=1):
        was, quiet.disabled = quiet.disabled, True  # its messages quote the URL: a secret
        try:
            understood = apprise.Apprise.instantiate(url) is not None
        finally:
            quiet.disabled = was
        if not understood:
            scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
            raise ValueError(
                f"URL #{number} ({scheme}://…) is not one apprise can send to; see "
                "https://github.com/caronc/apprise/wiki for the URL of each service"
            )
    return urls


def _parse_public_url(raw: str) -> str:
    """An http(s) address, kept with one trailing slash; empty: none."""
    value = raw.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"expected the http(s) address the digest folder is served at, such as "
            f"https://example.org/newsmon/, got {raw!r}"
        )
    return value.rstrip("/") + "/"


def _parse_embedder(raw: str) -> str:
    """'e5-small', 'none', or 'module:factory' (imported only when a run embeds)."""
    value = raw.strip()
    if value in ("e5-small", "none") or re.fullmatch(r"[\w.]+:\w+", value):
        return value
    raise ValueError(
        f"expected e5-small, none or module:factory (a callable returning an embedder), got {raw!r}"
    )


def _env(name: str, parse: Callable[[str], Any], doc: str, secret: bool = False) -> Any:
    """Declare a field read from NEWSMON_<name>; `doc` feeds `newsmon settings` and the README.
    A secret never shows in a repr, a log line or `newsmon settings`."""
    return field(
        repr=not secret,
        metadata={"env": ENV_PREFIX + name, "parse": parse, "doc": doc, "secret": secret},
    )


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path = _env("DB", _parse_path, "DuckDB file the pipeline writes")
    feeds_path: Path = _env("FEEDS", _parse_path, "the feeds file")
    seeds_path: Path = _env(
        "SEEDS", _parse_path, 'folder of seed articles (*.txt), the baseline for "new"'
    )
    allow_private_hosts: bool | tuple[Network, ...] = _env(
        "ALLOW_PRIVATE_HOSTS",
        _parse_private_hosts,
        "true fetches loopback/private/link-local addresses (the demo and the tests); a "
        "list such as 10.1.0.0/16,192.168.5.7 allows only those networks",
    )
    user_agent: str = _env(
        "USER_AGENT",
        str,
        "sent with every request; put your contact URL here. Its first word (newsmon) is "
        "the name robots.txt rules are matched against",
    )
    timeout: float = _env(
        "TIMEOUT",
        _parse_positive_float,
        "seconds allowed for one request, body included (a server that trickles bytes is "
        "cut off too)",
    )
    max_in_flight: int = _env(
        "MAX_IN_FLIGHT",
        _parse_count,
        "requests open at once in all (one client with 50+ in flight burns a core)",
    )
    per_host: int = _env("PER_HOST", _parse_count, "requests open at once to one host")
    host_delay: float = _env(
        "HOST_DELAY",
        _parse_seconds,
        "seconds between the starts of two requests to one host; a larger robots.txt "
        "Crawl-delay wins",
    )
    retries: int = _env(
        "RETRIES",
        _parse_positive_int,
        "retries of a timeout, connection error, 429 or 5xx within a run; other 4xx are "
        "never retried",
    )
    retry_backoff: float = _env(
        "RETRY_BACKOFF",
        _parse_seconds,
        "seconds before the first retry, doubled for each next one, with jitter (a random "
        "half of each wait)",
    )
    retry_max_wait: float = _env(
        "RETRY_MAX_WAIT",
        _parse_seconds,
        "longest wait honoured; a Retry-After asking for more leaves the item to a later run",
    )
    feed_backoff: float = _env(
        "FEED_BACKOFF",
        _parse_seconds,
        "a failing feed is paused this many seconds after its first failure, twice as "
        "long after each next one, at most a day",
    )
    lock_wait: float = _env(
        "LOCK_WAIT",
        _parse_seconds,
        "seconds to wait for a database another process holds, before the run spools its records",
    )
    dask_address: str = _env(
        "DASK_ADDRESS",
        str,
        "address of a Dask scheduler (tcp://host:8786): page fetching and extraction run "
        "on its workers; empty: threads and a process pool in the flow's process",
    )
    fan_out: int = _env(
        "FAN_OUT",
        _parse_count,
        "tasks the page fetching and extraction are split into, each a group of whole "
        "sites; with Dask, the number of worker processes",
    )
    snapshot: bool = _env(
        "SNAPSHOT",
        _parse_bool,
        "after each run, export Parquet copies of the public tables for analysts "
        "(docs/querying.md)",
    )
    digest_dir: Path = _env(
        "DIGEST_DIR",
        _parse_path,
        "folder for each digest's .md, .html, .json, the Atom feed developments.atom and "
        "the story pages (index.html, stories/): a static site to publish as it is",
    )
    public_url: str = _env(
        "PUBLIC_URL",
        _parse_public_url,
        "the address where readers open the digest folder (https://example.org/newsmon/): "
        "the Atom feed and the messages link there; empty: file:// links on this machine",
    )
    notify_urls: tuple[str, ...] = _env(
        "NOTIFY_URLS",
        _parse_urls,
        "apprise URLs every digest is sent to, separated by spaces or commas. A secret: "
        "never logged or stored, newsmon settings shows only how many",
        secret=True,
    )
    max_feed_bytes: int = _env(
        "MAX_FEED_BYTES", _parse_count, "a feed body larger than this is refused while downloading"
    )
    feed_parse_timeout: float = _env(
        "FEED_PARSE_TIMEOUT",
        _parse_positive_float,
        "seconds one feed may take to parse (in the extraction pool); a feed that takes "
        "longer is stopped and fails",
    )
    max_page_bytes: int = _env(
        "MAX_PAGE_BYTES", _parse_count, "a page larger than this is stored as too_large"
    )
    extract_workers: int = _env(
        "EXTRACT_WORKERS",
        _parse_positive_int,
        "processes extracting pages; 0 extracts in a thread of the flow's process",
    )
    embedder: str = _env(
        "EMBEDDER",
        _parse_embedder,
        "the multilingual model that embeds each relevant article's lead and first sentences, "
        "to find translations and what was said before (analysis/meaning.py): e5-small "
        "(bundled), none, or module:factory for another one",
    )

    @classmethod
    def defaults(cls) -> Settings:
        return cls(
            db_path=Path("data/newsmon.duckdb"),
            feeds_path=Path("feeds.toml"),
            seeds_path=Path("seeds"),
            allow_private_hosts=False,
            user_agent=DEFAULT_USER_AGENT,
            timeout=20.0,
            max_in_flight=10,  # one AsyncClient with 50+ in flight burns a core (measured)
            per_host=2,
            host_delay=1.0,
            retries=3,
            retry_backoff=1.0,
            retry_max_wait=60.0,
            feed_backoff=300.0,
            lock_wait=30.0,
            dask_address="",
            fan_out=1,
            snapshot=True,
            digest_dir=Path("data/digests"),
            public_url="",
            notify_urls=(),
            max_feed_bytes=10 * 1024 * 1024,
            feed_parse_timeout=30.0,
            max_page_bytes=5 * 1024 * 1024,
            extract_workers=os.cpu_count() or 1,
            embedder="e5-small",
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overlaid with NEWSMON_* variables; a bad value or an unknown NEWSMON_*
        name (a typo that would otherwise be ignored) names its variable."""
        environ = os.environ if environ is None else environ
        known = {f.metadata["env"] for f in fields(cls)}
        for name in sorted(environ):
            if name.startswith(ENV_PREFIX) and name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise ConfigError(
                    f"{name} is not a newsmon setting; {hint}`newsmon settings` lists them all"
                )
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            if name in environ:
                try:
                    values[f.name] = f.metadata["parse"](environ[name])
                except ValueError as exc:
                    shown = "(hidden)" if f.metadata["secret"] else repr(environ[name])
                    raise ConfigError(f"{name}={shown} is not valid: {exc}") from None
        return cls.defaults().replace(**values)

    def check_ready(self) -> None:
        """What must be true before a poll fetches anything; one line on what to do if not.

        The seeds are the baseline of "new": a folder that is missing or holds no seed
        would make every article new, so it stops the run rather than shrinking the baseline.
        """
        if not self.seeds_path.is_dir():
            raise ConfigError(
                f"NEWSMON_SEEDS={str(self.seeds_path)!r}: no such folder; point it at the "
                "folder of seed articles (*.txt), the baseline new articles are measured against"
            )
        if not any(self.seeds_path.glob("*.txt")):
            raise ConfigError(
                f"NEWSMON_SEEDS={str(self.seeds_path)!r} holds no seed articles (*.txt); add "
                "the articles that are not news any more, or point it at the folder that has them"
            )
        if not self.feeds_path.is_file():
            raise ConfigError(
                f"NEWSMON_FEEDS={str(self.feeds_path)!r}: no such file; write a feeds file "
                "(see feeds.toml) or point NEWSMON_FEEDS at yours"
            )

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes`, ignoring the ones that are None (unset CLI options)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update({k: v for k, v in changes.items() if v is not None})
        return Settings(**current)

    def shown(self) -> list[tuple[str, str, object]]:
        """(variable, description, value) of every setting, secrets masked."""
        return [
            (
                f.metadata["env"],
                f.metadata["doc"],
                _mask(getattr(self, f.name)) if f.metadata["secret"] else getattr(self, f.name),
            )
            for f in fields(self)
        ]

    @staticmethod
    def documented() -> list[tuple[str, str]]:
        """(variable, description) for every setting, in declaration order."""
        return [(f.metadata["env"], f.metadata["doc"]) for f in fields(Settings)]


def _mask(value: object) -> str:
    return f"({len(value)} set, hidden)" if isinstance(value, tuple) else "(hidden)"
