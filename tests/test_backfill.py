"""Backfill from a WARC the test writes with warcio, and from a URL list on the loopback site."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import ROOT, query
from newsmon.samplesite import SiteServer

PAGES = [
    "/harbor-times/2025/01/aid-convoys-expand.html",
    "/harbor-times/2025/01/cairo-center.html",  # a wire copy of seed 000
    "/harbor-times/2025/01/rafah-aid-ar.html",  # windows-1256
    "/gulf-observer/news/cairo-truce-room.html",
    "/gulf-observer/news/un-aid-deliveries-double.html",  # a copy of the first page
    "/gulf-observer/news/hostage-families-he.html",  # windows-1255, declared in HTTP
]


def write_warc(path: Path, site: SiteServer) -> None:
    """The sample pages as a crawler would have archived them, plus records to skip."""
    with path.open("wb") as file:
        warc = WARCWriter(file, gzip=path.suffix == ".gz")

        def response(url: str, body: bytes, status: str = "200 OK", ctype: str = "text/html"):
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            warc.write_record(
                warc.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers
                )
            )

        for page in PAGES:
            ctype = "text/html; charset=windows-1255" if page.endswith("-he.html") else "text/html"
            response(f"https://archive.example{page}", site.render(page) or b"", ctype=ctype)
            request = StatusAndHeaders("GET / HTTP/1.1", [], is_http_request=True)
            warc.write_record(
                warc.create_warc_record(
                    f"https://archive.example{page}", "request", http_headers=request
                )
            )
        response("https://archive.example/missing", b"gone", status="404 Not Found")
        response("https://archive.example/logo.png", b"\x89PNG...", ctype="image/png")
        response(f"https://archive.example{PAGES[0]}", site.render(PAGES[0]) or b"")  # revisit


def contents(db_path: Path) -> set[tuple[object, ...]]:
    return set(
        query(
            db_path,
            "SELECT a.url, a.status, a.duplicate_kind, o.url, o.seed_name FROM articles a "
            "LEFT JOIN articles o ON o.article_id = a.duplicate_of WHERE NOT a.is_seed",
        )
    )


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_a_warc_is_backfilled_and_resumed(
    prefect_api: None, tmp_path: Path, site: SiteServer, name: str
) -> None:
    from flows.backfill import backfill

    warc = tmp_path / name
    write_warc(warc, site)

    whole = backfill(path=str(warc), db_path=str(tmp_path / "whole.duckdb"), batch_size=2)
    assert whole.finished and whole.articles_new == 4 and whole.duplicates == 2
    stored = contents(tmp_path / "whole.duckdb")
    # The revisit is stored once, the PNG as 'not_html'; the 404 and the requests are skipped.
    assert len(stored) == len(PAGES) + 1
    assert ("https://archive.example/logo.png", "not_html", None, None, None) in stored
    assert (
        "https://archive.example" + PAGES[1],
        "ok",
        "near",
        None,
        "000_cbb868c4a7457886.txt",
    ) in stored
    arabic = query(
        tmp_path / "whole.duckdb", "SELECT text FROM articles WHERE url LIKE '%-ar.html'"
    )
    assert "وقف إطلاق النار" in arabic[0][0]
    run_ids = query(
        tmp_path / "whole.duckdb", "SELECT DISTINCT run_id FROM articles WHERE NOT is_seed"
    )
    assert len(run_ids) == 1 and run_ids[0][0] is not None  # the backfill flow run

    # Interrupted after a few records, then run again: the same database in the end.
    db = tmp_path / "resumed.duckdb"
    first = backfill(path=str(warc), db_path=str(db), batch_size=2, max_records=3)
    assert not first.finished and 0 < len(contents(db)) < len(stored)
    position = query(db, "SELECT position, finished_at FROM backfill_progress")[0]
    assert position[0] > 0 and position[1] is None
    second = backfill(path=str(warc), db_path=str(db), batch_size=2)
    assert second.finished and contents(db) == stored
    assert second.records + first.records == whole.records  # nothing read twice
    again = backfill(path=str(warc), db_path=str(db), batch_size=2)
    assert again.records == 0 and contents(db) == stored


def test_a_url_list_is_fetched_politely(tmp_path: Path, site: SiteServer) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "# pages to backfill\n"
        f"{site.base_url}{PAGES[0]}\n\n"
        f"{site.base_url}/faults/private/memo.html\n"  # robots.txt says no
        f"{site.base_url}/faults/gone.html\n",
        encoding="utf-8",
    )
    db = tmp_path / "urls.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "backfill", str(urls), "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "3 records" not in result.stdout and "1 new articles" in result.stdout
    statuses = dict(query(db, "SELECT url, status FROM articles WHERE NOT is_seed"))
    assert statuses == {
        f"{site.base_url}{PAGES[0]}": "ok",
        f"{site.base_url}/faults/private/memo.html": "blocked_by_robots",
        f"{site.base_url}/faults/gone.html": "http_error",
    }
    assert site.requests["/faults/private/memo.html"] == 0
