"""Real parts only: a loopback HTTP server, DuckDB files in tmp_path, a real Prefect API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from newsmon.samplesite import SAMPLES_DIR, SiteServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEWSMON = [sys.executable, "-m", "newsmon.cli"]
RESOURCES = Path(__file__).resolve().parent / "resources"
HARBOR = "/harbor-times/rss.xml"
GULF = "/gulf-observer/atom.xml"


@pytest.fixture(scope="session")
def site() -> Iterator[SiteServer]:
    """The bundled sample site plus the tests' fault files, on 127.0.0.1."""
    with SiteServer([SAMPLES_DIR / "site", RESOURCES / "site"]) as server:
        yield server


@pytest.fixture
def fault(site: SiteServer) -> Iterator[Callable[..., str]]:
    """fault("/x", status=500, ...) makes /x misbehave for this test; returns its URL."""
    paths: list[str] = []

    def add(path: str, **spec: object) -> str:
        site.override(path, **spec)
        paths.append(path)
        return site.base_url + path

    yield add
    for path in paths:
        site.override(path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs a flow through Prefect is slow: the inner loop leaves them out."""
    for item in items:
        if "prefect_api" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(autouse=True)
def _local_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test site is on loopback, which the fetcher refuses by default.
    monkeypatch.setenv("NEWSMON_ALLOW_PRIVATE_HOSTS", "true")
    monkeypatch.setenv("NEWSMON_TIMEOUT", "5")
    # Politeness and patience at test speed: the behaviour is the same, the waits are short.
    monkeypatch.setenv("NEWSMON_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSMON_RETRY_BACKOFF", "0.05")
    monkeypatch.setenv("NEWSMON_RETRY_MAX_WAIT", "2")
    monkeypatch.setenv("NEWSMON_LOCK_WAIT", "1")
    monkeypatch.setenv("NEWSMON_SEEDS", str(ROOT / "seeds"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newsmon.duckdb"


def _aliases_table() -> str:
    """The [topic.aliases] table of the sample site's feeds file: the story's name spellings."""
    text = (SAMPLES_DIR / "site" / "feeds.toml").read_text(encoding="utf-8")
    return text[text.index("[topic.aliases]") :]


ALIASES = _aliases_table()


@pytest.fixture
def feeds_file(tmp_path: Path, site: SiteServer) -> Callable[..., Path]:
    """feeds_file("/harbor-times/rss.xml", ...) writes a feeds file for those paths."""

    def write(*paths: str) -> Path:
        path = tmp_path / "feeds.toml"
        path.write_text(
            "".join(f'[[feeds]]\nurl = "{site.base_url}{p}"\nname = "{p}"\n\n' for p in paths)
            + ALIASES,
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture
def poll(
    prefect_api: None, db_path: Path, feeds_file: Callable[..., Path]
) -> Callable[..., object]:
    """poll(*feed_paths, force=False) runs the poll-feeds flow through Prefect into db_path.

    failed=True: the run must end Failed (RunFailedError); its report is returned.
    """
    from flows.poll import poll_feeds
    from newsmon.errors import RunFailedError

    def run(*paths: str, force: bool = False, failed: bool = False) -> object:
        options = {"feeds_file": str(feeds_file(*paths)), "db_path": str(db_path), "force": force}
        if not failed:
            return poll_feeds(**options)
        with pytest.raises(RunFailedError) as raised:
            poll_feeds(**options)
        return raised.value.result

    return run


def query(db_path: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def contents(db_path: Path) -> set[tuple[object, ...]]:
    """What a run leaves behind, without the columns that differ between runs (times, run ids)."""
    rows = query(
        db_path,
        "SELECT a.url, a.status, a.content_hash, a.duplicate_kind, o.url, o.seed_name "
        "FROM articles a LEFT JOIN articles o ON o.article_id = a.duplicate_of",
    )
    return set(rows)


class Inbox:
    """A webhook on 127.0.0.1 that keeps every JSON body apprise's json:// posts to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, object]] = []
        self.on_post: Callable[[], None] | None = None
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                inbox.posts.append(json.loads(body))
                if inbox.on_post:
                    inbox.on_post()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"json://{host}:{port}/hook?token=s3cr3t-t0ken-value"

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Inbox]:
    box = Inbox()
    monkeypatch.setenv("NEWSMON_NOTIFY_URLS", box.url)
    monkeypatch.setenv("NEWSMON_DIGEST_DIR", str(tmp_path / "digests"))
    yield box
    box.close()


HOLD = (
    "import duckdb, sys; conn = duckdb.connect(sys.argv[1]); "
    "print('locked', flush=True); sys.stdin.read()"
)


@contextmanager
def held(path: Path, script: str = HOLD, release_after: float | None = None) -> Iterator[None]:
    """Another process holds `path` (by default a DuckDB file open for writing, as an analyst's
    DuckDB CLI would) until the block ends, or for `release_after` seconds."""
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    timer = threading.Timer(release_after or 0, holder.stdin.close)
    if release_after is not None:
        timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def newsmon(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`newsmon ARGS` in a process of its own, as a user's shell runs it: it starts Prefect's
    temporary API itself."""
    environment = {**os.environ, "NEWSMON_ALLOW_PRIVATE_HOSTS": "true", **(env or {})}
    environment.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [*NEWSMON, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=ROOT,
    )
