"""Backfill from a WARC the test writes with warcio, and from a URL list on the loopback site."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import newsmon, query
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


@pytest.mark.slow
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
    result = newsmon("backfill", str(urls), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "3 records" not in result.stdout and "1 new articles" in result.stdout
    statuses = dict(query(db, "SELECT url, status FROM articles WHERE NOT is_seed"))
    assert statuses == {
        f"{site.base_url}{PAGES[0]}": "ok",
        f"{site.base_url}/faults/private/memo.html": "blocked_by_robots",
        f"{site.base_url}/faults/gone.html": "http_error",
    }
    assert site.requests["/faults/private/memo.html"] == 0


# --- damaged and odd archives -----------------------------------------------------------------


def record_offsets(path: Path) -> list[int]:
    """Where each record of a clean archive starts (warcio's own offsets)."""
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        offsets = []
        for _ in records:
            offsets.append(records.offset)
    return offsets


def damage(path: Path, how: str) -> int:
    """Damage the archive before its third response; returns where the damage starts."""
    data = path.read_bytes()
    offsets = record_offsets(path)
    at = offsets[4]  # response, request, response, request, [here] response 3 ...
    if how == "junk-lines":  # two junk lines between records
        data = data[:at] + b"junk line one\r\njunk line two\r\n" + data[at:]
    elif how == "junk-bytes":  # garbage between two gzip members
        data = data[:at] + b"\x00garbage between members\xff" * 3 + data[at:]
    else:  # a gzip member whose deflate stream is broken half-way
        end = offsets[5]
        middle = at + (end - at) // 2
        data = (
            data[:middle]
            + bytes(b ^ 0x5A for b in data[middle : middle + 40])
            + data[middle + 40 :]
        )
    path.write_bytes(data)
    return at


@pytest.mark.parametrize(
    ("name", "how"),
    [
        ("crawl.warc", "junk-lines"),
        ("crawl.warc.gz", "junk-bytes"),
        ("crawl.warc.gz", "broken-member"),
    ],
)
def test_a_damaged_archive_is_skipped_to_the_next_good_record(
    tmp_path: Path, site: SiteServer, prefect_api: None, name: str, how: str
) -> None:
    from flows.backfill import backfill

    warc = tmp_path / name
    write_warc(warc, site)
    damaged_at = damage(warc, how)
    db = tmp_path / "damaged.duckdb"
    report = backfill(path=str(warc), db_path=str(db), batch_size=2)
    assert report.finished and report.skipped >= 1
    skips = query(db, 'SELECT "offset", length, reason FROM backfill_skips ORDER BY 1')
    assert skips[0][0] in (damaged_at, damaged_at - 1) or skips[0][0] <= damaged_at + 2000
    assert all(length > 0 and reason for _, length, reason in skips)
    stored = {url for (url,) in query(db, "SELECT url FROM articles WHERE status = 'ok'")}
    after = {f"https://archive.example{page}" for page in PAGES[3:]}
    assert after <= stored  # the records after the damage are there
    assert f"https://archive.example{PAGES[0]}" in stored  # and those before it

    again = backfill(path=str(warc), db_path=str(db), batch_size=2)
    assert again.records == 0 and again.finished  # the next run does not trip on it


def test_every_archived_page_keeps_its_body_across_batch_boundaries(
    tmp_path: Path, site: SiteServer, prefect_api: None
) -> None:
    """A batch used to end by reading the next record to its end, which left that record's
    page empty; and a resumed run started past records it had not read."""
    from flows.backfill import backfill

    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, site)
    db = tmp_path / "steps.duckdb"
    for _ in range(20):  # one record at a time, as a run killed after every batch would
        if backfill(path=str(warc), db_path=str(db), batch_size=1, max_records=1).finished:
            break
    statuses = dict(query(db, "SELECT url, status FROM articles WHERE NOT is_seed"))
    assert all(statuses[f"https://archive.example{page}"] == "ok" for page in PAGES)


def arc_record(url: str, body: bytes, mime: str = "text/html") -> bytes:
    header = f"{url} 192.0.2.1 20250122093000 {mime} {len(body)}\n".encode()
    return header + body + b"\n"


def write_arc(path: Path, site: SiteServer, gzipped: bool) -> None:
    """An ARC (version 1) file of three sample pages; gzipped one member per record."""
    import gzip as gz

    version = b"1 0 newsmon\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [arc_record(f"filedesc://{path.name}", version, "text/plain")]
    for page in PAGES[:3]:
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + (site.render(page) or b"")
        records.append(arc_record(f"http://archive.example{page}", http))
    with path.open("wb") as file:
        for record in records:
            file.write(gz.compress(record) if gzipped else record)


@pytest.mark.parametrize("name", ["crawl.arc", "crawl.arc.gz"])
def test_arc_files_are_read_as_archives_without_touching_the_network(
    tmp_path: Path, site: SiteServer, prefect_api: None, name: str
) -> None:
    from flows.backfill import backfill

    arc = tmp_path / name
    write_arc(arc, site, gzipped=name.endswith(".gz"))
    db = tmp_path / "arc.duckdb"
    report = backfill(path=str(arc), db_path=str(db))
    assert report.finished and report.articles_new + report.duplicates == 3
    urls = {url for (url,) in query(db, "SELECT url FROM articles WHERE NOT is_seed")}
    assert urls == {f"http://archive.example{page}" for page in PAGES[:3]}
    assert query(db, "SELECT count(*) FROM robots_txt") == [(0,)]  # nothing fetched


def test_an_archive_is_recognised_whatever_its_name(
    tmp_path: Path, site: SiteServer, prefect_api: None
) -> None:
    from flows.backfill import backfill

    odd = tmp_path / "crawl.warc.gz.bad"
    write_warc(tmp_path / "crawl.warc.gz", site)
    (tmp_path / "crawl.warc.gz").rename(odd)
    report = backfill(path=str(odd), db_path=str(tmp_path / "odd.duckdb"))
    assert report.finished and report.articles_new >= 3


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("crawl.warc.lz4", b"\x04\x22\x4d\x18" + b"\x00" * 64, "lz4-compressed"),
        ("crawl.warc.zst", b"\x28\xb5\x2f\xfd" + b"\x00" * 64, "zstd-compressed"),
        ("pages.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "neither a web archive"),
        ("notes.txt", b"filedesc is not here\nsome notes\n", "neither a web archive"),
    ],
)
def test_what_is_neither_archive_nor_url_list_is_refused_in_one_line(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    db = tmp_path / "refused.duckdb"
    result = newsmon("backfill", str(path), "--db", str(db))
    assert result.returncode == 2 and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not db.exists()  # nothing was read, nothing stored


def test_lines_of_a_url_list_that_are_not_urls_are_recorded(
    tmp_path: Path, site: SiteServer, prefect_api: None
) -> None:
    from flows.backfill import backfill

    urls = tmp_path / "urls.txt"
    urls.write_bytes(
        f"{site.base_url}{PAGES[0]}\naccept-ranges: bytes\n\xff\xfe broken\n".encode("latin-1")
    )
    db = tmp_path / "list.duckdb"
    report = backfill(path=str(urls), db_path=str(db))
    assert report.finished and report.articles_new == 1 and report.skipped == 2
    skipped = query(db, 'SELECT "offset", reason FROM backfill_skips ORDER BY 1')
    assert [line for line, _ in skipped] == [2, 3]
    assert "not an http(s) URL" in skipped[0][1]
