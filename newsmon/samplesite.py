"""A small web server for the bundled sample site, and for the tests' fault injection.

It serves files from one or more folders on 127.0.0.1 with real HTTP
semantics: ETag and Last-Modified with 304 answers, per-path statuses and
headers from a `_headers.json` in a folder, and `{base}` in text files replaced
by the server's own address so feeds and canonical links point back to it.

A path's override (in `_headers.json` or from `override()`) can also make it
misbehave the way real servers do: `delay` seconds before answering, `reset`
the connection, send an `endless` body, a `gzip_bomb` of that many MB, or walk
through a `sequence` of overrides, one per request.
"""

from __future__ import annotations

import functools
import hashlib
import json
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".html": "text/html",  # no charset: pages declare their own, as many real sites do
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
}
TEMPLATED = {".rss", ".atom", ".xml", ".html", ".toml", ".txt"}
# One fixed date, so Last-Modified stays the same across restarts of the demo.
LAST_MODIFIED = formatdate(1737331200, usegmt=True)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early (a size cap, a timeout) is normal here, not news."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class SiteServer:
    """`with SiteServer([folder]) as site:` serves `folder` at `site.base_url`."""

    def __init__(self, roots: list[Path], host: str = "127.0.0.1", port: int = 0) -> None:
        self.roots = [Path(root) for root in roots]
        self.requests: Counter[str] = Counter()  # path -> how many GETs it received
        self.max_concurrent = 0  # most requests in progress at once, before answering
        self._concurrent = 0
        self._lock = threading.Lock()
        self._rendered: dict[str, bytes | None] = {}
        self._overrides: dict[str, dict[str, Any]] = {}
        for root in reversed(self.roots):
            headers_file = root / "_headers.json"
            if headers_file.exists():
                self._overrides.update(json.loads(headers_file.read_text(encoding="utf-8")))
        self._httpd = _QuietServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host = host.decode("ascii") if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def override(self, path: str, **spec: Any) -> None:
        """Answer `path` as `spec` says from now on (see the module docstring); none to restore."""
        with self._lock:
            self.requests[path] = 0
            if spec:
                self._overrides[path] = spec
            else:
                self._overrides.pop(path, None)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until no request is in progress (a slow answer from an earlier test, say)."""
        deadline = time.monotonic() + timeout
        while self._concurrent and time.monotonic() < deadline:
            time.sleep(0.02)

    def render(self, path: str) -> bytes | None:
        """The bytes served at `path`, templated; None when no folder has it.

        Files are read once: the served folders do not change while the server runs.
        """
        if path not in self._rendered:
            self._rendered[path] = self._read(path)
        return self._rendered[path]

    def _read(self, path: str) -> bytes | None:
        relative = path.lstrip("/")
        for root in self.roots:
            candidate = (root / relative).resolve()
            if root.resolve() in candidate.parents and candidate.is_file():
                body = candidate.read_bytes()
                if candidate.suffix in TEMPLATED:
                    body = body.replace(b"{base}", self.base_url.encode("ascii"))
                return body
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, the
            # client's delayed ACK stalls each keep-alive response by ~40 ms.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = urlsplit(self.path).path
                with site._lock:
                    count = site.requests[path]
                    site.requests[path] += 1
                    override = dict(site._overrides.get(path, {}))
                    site._concurrent += 1
                    site.max_concurrent = max(site.max_concurrent, site._concurrent)
                if "sequence" in override:
                    steps = override["sequence"]
                    override = dict(steps[min(count, len(steps) - 1)])
                try:
                    time.sleep(override.get("delay", 0))
                finally:
                    with site._lock:
                        site._concurrent -= 1
                self._answer(path, override)

            def _answer(self, path: str, override: dict[str, Any]) -> None:
                if override.get("reset"):
                    # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    return
                body = site.render(path)
                if "body" in override:
                    given = override["body"]
                    body = given if isinstance(given, bytes) else given.encode("utf-8")
                if "gzip_bomb" in override:
                    body = _gzip_bomb(override["gzip_bomb"])
                status = override.get("status", 200 if body is not None else 404)
                if body is None:
                    body = b"not found"
                suffix = Path(path).suffix
                headers = {"Content-Type": CONTENT_TYPES.get(suffix, "application/octet-stream")}
                if "gzip_bomb" in override:
                    headers["Content-Encoding"] = "gzip"
                if status == 200:
                    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                    headers.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                headers.update(override.get("headers", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if override.get("endless"):
                    self._send_endless(body)
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _send_endless(self, chunk: bytes) -> None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.close_connection = True
                frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
                try:
                    while True:
                        self.wfile.write(frame)
                except OSError:  # the client hung up, as it should
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@functools.cache
def _gzip_bomb(megabytes: int) -> bytes:
    """`megabytes` MB of zeros, gzipped to about a thousandth of that, built a MB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(megabytes)) + compressor.flush()
