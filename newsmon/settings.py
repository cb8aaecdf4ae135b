"""One typed home for every knob, read from NEWSMON_* environment variables once."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from newsmon import __version__
from newsmon.errors import ConfigError

ENV_PREFIX = "NEWSMON_"
DEFAULT_USER_AGENT = f"newsmon/{__version__} (+https://github.com/newsmon/newsmon)"


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


def _env(name: str, parse: Callable[[str], Any], doc: str) -> Any:
    """Declare a field read from NEWSMON_<name>; `doc` feeds `newsmon settings` and the README."""
    return field(metadata={"env": ENV_PREFIX + name, "parse": parse, "doc": doc})


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path = _env("DB", Path, "DuckDB file the pipeline writes")
    feeds_path: Path = _env("FEEDS", Path, "feeds file (TOML, one [[feeds]] table per feed)")
    seeds_path: Path = _env("SEEDS", Path, "folder of seed articles: the baseline for 'new'")
    allow_private_hosts: bool = _env(
        "ALLOW_PRIVATE_HOSTS",
        _parse_bool,
        "fetch loopback and private addresses (only for the demo and tests)",
    )
    user_agent: str = _env("USER_AGENT", str, "User-Agent sent with every request")
    timeout: float = _env("TIMEOUT", _parse_positive_float, "seconds allowed for one request")
    max_in_flight: int = _env("MAX_IN_FLIGHT", _parse_positive_int, "requests open at once")
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

    @staticmethod
    def documented() -> list[tuple[str, str]]:
        """(variable, description) for every setting, in declaration order."""
        return [(f.metadata["env"], f.metadata["doc"]) for f in fields(Settings)]
