"""A small web server for the bundled sample site, and for the tests' fault files.

It serves files from one or more folders on 127.0.0.1 with real HTTP
semantics: ETag and Last-Modified with 304 answers, per-path statuses and
headers from a `_headers.json` in a folder, and `{base}` in text files replaced
by the server's own address so feeds and canonical links point back to it.
"""

from __future__ import annotations

import hashlib
import json
import threading
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


class SiteServer:
    """`with SiteServer([folder]) as site:` serves `folder` at `site.base_url`."""

    def __init__(self, roots: list[Path], host: str = "127.0.0.1", port: int = 0) -> None:
        self.roots = [Path(root) for root in roots]
        self.requests: Counter[str] = Counter()  # path -> how many GETs it received
        self._lock = threading.Lock()
        self._overrides: dict[str, dict[str, Any]] = {}
        for root in reversed(self.roots):
            headers_file = root / "_headers.json"
            if headers_file.exists():
                self._overrides.update(json.loads(headers_file.read_text(encoding="utf-8")))
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
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
        """Answer `path` with `status`, `headers` and/or `body` from now on ({} to restore)."""
        with self._lock:
            if spec:
                self._overrides[path] = spec
            else:
                self._overrides.pop(path, None)

    def render(self, path: str) -> bytes | None:
        """The bytes served at `path`, templated; None when no folder has it."""
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

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = urlsplit(self.path).path
                with site._lock:
                    site.requests[path] += 1
                    override = dict(site._overrides.get(path, {}))
                body = site.render(path)
                if "body" in override:
                    body = override["body"].encode("utf-8")
                status = override.get("status", 200 if body is not None else 404)
                if body is None:
                    body = b"not found"
                suffix = Path(path).suffix
                headers = {"Content-Type": CONTENT_TYPES.get(suffix, "application/octet-stream")}
                if status == 200:
                    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                    headers.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                headers.update(override.get("headers", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
