"""One typed home for every knob, read from NEWSMON_* environment variables once."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

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
    return tuple(part for part in re.split(r"[\s,]+", raw) if part)


def _env(name: str, parse: Callable[[str], Any], doc: str, secret: bool = False) -> Any:
    """Declare a field read from NEWSMON_<name>; `doc` feeds `newsmon settings` and the README.
    A secret never shows in a repr, a log line or `newsmon settings`."""
    return field(
        repr=not secret,
        metadata={"env": ENV_PREFIX + name, "parse": parse, "doc": doc, "secret": secret},
    )


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path = _env("DB", Path, "DuckDB file the pipeline writes")
    feeds_path: Path = _env("FEEDS", Path, "feeds file (TOML, one [[feeds]] table per feed)")
    seeds_path: Path = _env("SEEDS", Path, "folder of seed articles: the baseline for 'new'")
    allow_private_hosts: bool | tuple[Network, ...] = _env(
        "ALLOW_PRIVATE_HOSTS",
        _parse_private_hosts,
        "fetch loopback/private addresses: true, or only these networks (e.g. 10.1.0.0/16)",
    )
    user_agent: str = _env("USER_AGENT", str, "User-Agent sent with every request")
    timeout: float = _env("TIMEOUT", _parse_positive_float, "seconds allowed for one request")
    max_in_flight: int = _env("MAX_IN_FLIGHT", _parse_positive_int, "requests open at once")
    per_host: int = _env("PER_HOST", _parse_positive_int, "requests open at once to one host")
    host_delay: float = _env(
        "HOST_DELAY", _parse_seconds, "seconds between two requests to one host (or Crawl-delay)"
    )
    retries: int = _env("RETRIES", _parse_positive_int, "retries of a timeout, 429 or 5xx")
    retry_backoff: float = _env(
        "RETRY_BACKOFF", _parse_seconds, "first retry wait in seconds, doubled each time, jittered"
    )
    retry_max_wait: float = _env(
        "RETRY_MAX_WAIT", _parse_seconds, "longest Retry-After honoured; longer waits next run"
    )
    feed_backoff: float = _env(
        "FEED_BACKOFF", _parse_seconds, "a failing feed's first pause in seconds, doubled to 1 day"
    )
    lock_wait: float = _env(
        "LOCK_WAIT", _parse_seconds, "seconds to wait for a locked database before spooling"
    )
    dask_address: str = _env(
        "DASK_ADDRESS",
        str,
        "Dask scheduler (tcp://host:8786) to fetch and extract on; empty: threads",
    )
    fan_out: int = _env(
        "FAN_OUT", _parse_positive_int, "tasks the page fetching is split into, by host"
    )
    snapshot: bool = _env(
        "SNAPSHOT", _parse_bool, "export Parquet files for analysts after each run that stored"
    )
    digest_dir: Path = _env(
        "DIGEST_DIR", Path, "folder for digest files (Markdown, HTML, JSON) and developments.atom"
    )
    notify_urls: tuple[str, ...] = _env(
        "NOTIFY_URLS",
        _parse_urls,
        "apprise URLs each digest is sent to, space- or comma-separated (secret, never shown)",
        secret=True,
    )
    max_feed_bytes: int = _env("MAX_FEED_BYTES", _parse_positive_int, "largest feed body kept")
    max_page_bytes: int = _env("MAX_PAGE_BYTES", _parse_positive_int, "largest page body kept")
    extract_workers: int = _env(
        "EXTRACT_WORKERS",
        _parse_positive_int,
        "processes extracting pages; 0 extracts in the flow's own process",
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
            notify_urls=(),
            max_feed_bytes=10 * 1024 * 1024,
            max_page_bytes=5 * 1024 * 1024,
            extract_workers=os.cpu_count() or 1,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overlaid with NEWSMON_* variables; a bad value names its variable."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            if name in environ:
                try:
                    values[f.name] = f.metadata["parse"](environ[name])
                except ValueError as exc:
                    raise ConfigError(f"{name}={environ[name]!r} is not valid: {exc}") from None
        return cls.defaults().replace(**values)

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
