"""Settings from the environment and the feeds file: defaults that work, errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmon.errors import ConfigError, FeedsFileError
from newsmon.feedlist import load_feeds
from newsmon.records import Feed
from newsmon.settings import Settings


def test_defaults_work_without_any_environment() -> None:
    settings = Settings.from_env({})
    assert settings.db_path == Path("data/newsmon.duckdb")
    assert settings.feeds_path == Path("feeds.toml")
    assert settings.seeds_path == Path("seeds")
    assert settings.allow_private_hosts is False
    assert settings.extract_workers >= 1


def test_environment_overrides_and_bad_values_name_the_variable() -> None:
    settings = Settings.from_env(
        {"NEWSMON_DB": "/tmp/x.duckdb", "NEWSMON_ALLOW_PRIVATE_HOSTS": "yes"}
    )
    assert settings.db_path == Path("/tmp/x.duckdb") and settings.allow_private_hosts is True
    with pytest.raises(ConfigError, match="NEWSMON_TIMEOUT='soon' is not valid"):
        Settings.from_env({"NEWSMON_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="NEWSMON_ALLOW_PRIVATE_HOSTS"):
        Settings.from_env({"NEWSMON_ALLOW_PRIVATE_HOSTS": "maybe"})


def test_replace_ignores_unset_options() -> None:
    settings = Settings.defaults()
    assert settings.replace(db_path=None) == settings
    assert settings.replace(db_path=Path("other.duckdb")).db_path == Path("other.duckdb")


def test_the_real_feeds_file_loads() -> None:
    feeds = load_feeds(Path(__file__).resolve().parent.parent / "feeds.toml")
    assert len(feeds) >= 4
    assert all(feed.url.startswith("https://") and feed.name for feed in feeds)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_feeds_in_file_order_with_name_defaulting_to_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[feeds]]\nurl = "https://a.example/rss"\nname = "A"\n\n[[feeds]]\nurl = "https://b.example/atom"\n',
    )
    assert load_feeds(path) == [
        Feed("https://a.example/rss", "A"),
        Feed("https://b.example/atom", "https://b.example/atom"),
    ]


def test_unknown_key_names_the_key_and_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[feeds]]\nurl = "https://a.example/rss"\n\n[[feeds]]\nurl = "https://b.example/rss"\n'
        'nmae = "typo"\n',
    )
    with pytest.raises(FeedsFileError) as caught:
        load_feeds(path)
    assert caught.value.line == 6
    assert f"{path}:6: unknown key 'nmae' in feed #2; allowed keys: name, url" == str(caught.value)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('[[feeds]]\nurl = "ftp://a.example/rss"\n', "needs url", 2),
        ('[[feeds]]\nname = "no url"\n', "needs url", 1),
        (
            '[[feeds]]\nurl = "https://a.example"\n[[feeds]]\nurl = "https://a.example"\n',
            "twice",
            4,
        ),
        ('[[feeds]]\nurl = "https://a.example\n', "not valid TOML", 2),
        ('feed = "https://a.example"\n', "unknown key 'feed'", 1),
    ],
)
def test_wrong_feeds_files_say_what_and_where(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    with pytest.raises(FeedsFileError, match=message) as caught:
        load_feeds(write(tmp_path, text))
    assert caught.value.line == line


def test_missing_feeds_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(FeedsFileError, match="set NEWSMON_FEEDS"):
        load_feeds(tmp_path / "absent.toml")
