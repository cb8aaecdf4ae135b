"""Benchmark 7: each hostile input of the resilience tests, met by a real run of the CLI.

Every case is served on 127.0.0.1 next to a good feed (or is a damaged archive), run by
`newsmon poll` / `newsmon backfill` in a process of its own, and measured: wall time, the
peak memory of the largest process of the run (the flow or an extraction worker), the exit
code, and whether the good feed was still stored. The baseline is the same run with only
the good feed, measured in the same session.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, emit, write_warc_response

from newsmon.samplesite import SAMPLES_DIR, SiteServer

GOOD = "/harbor-times/rss.xml"
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def quadratic_bomb(references: int) -> bytes:
    """One 100,000-character internal entity referenced `references` times."""
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + "x" * 100_000 + '">]>'
        '<rss version="2.0"><channel><title>Bomb</title><item><title>'
        + "&big;" * references
        + "</title><link>http://bomb.example/1</link></item></channel></rss>"
    ).encode()


def lying_charset() -> bytes:
    items = "".join(
        f"<item><title>Перемирие в Газе, день {n}</title><link>{{base}}/gone/{n}</link></item>"
        for n in range(50)
    )
    return (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel>'
        f"<title>Новости</title>{items}</channel></rss>"
    ).encode("cp1251")


ODD_HEADS = {
    "year-one": '<meta property="article:published_time" content="0001-01-01T00:00:00">',
    "year-2099": '<meta property="article:published_time" content="2099-06-01T00:00:00Z">',
    "epoch-ms": '<meta property="article:published_time" content="1737540000000">',
    "surrogate": '<script type="application/ld+json">{"headline": "Truce \\ud800 holds"}</script>',
}


def odd_pages(site_dir: Path, base: str) -> bytes:
    """A feed of pages with placeholder, future and epoch dates, a lone surrogate, NUL bytes
    and a 1 MB title; every page about the story, so that analysis runs on each."""
    text = "".join(
        f"<p>The Gaza ceasefire held as mediators in Cairo and Doha discussed hostages, aid "
        f"trucks at Rafah and the second phase of the truce. Paragraph {n}.</p>"
        for n in range(5)
    )
    pages = {**ODD_HEADS, "nul-bytes": "", "huge-title": ""}
    items = ""
    for name, head in pages.items():
        title = "Gaza truce " * 100_000 if name == "huge-title" else f"Gaza truce {name}"
        body = f"<html><head><title>{title}</title>{head}</head><body><article>{text}</article>"
        raw = body.encode()
        if name == "nul-bytes":
            raw = raw.replace(b"discussed", b"dis\x00cussed")
        (site_dir / f"{name}.html").write_bytes(raw)
        items += f"<item><title>{name}</title><link>{base}/{name}.html</link></item>"
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Odd</title>'
    return f"{head}{items}</channel></rss>".encode()


def big_feed(entries: int) -> bytes:
    items = "".join(
        f"<item><title>Entry {n}</title><link>http://slow.example/{n}</link>"
        f"<description>{'word ' * 20}</description></item>"
        for n in range(entries)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
    return f"{head}{items}</channel></rss>".encode()


def damaged_warc(site: SiteServer) -> bytes:
    from warcio.warcwriter import WARCWriter

    members = []
    for n, page in enumerate(["/harbor-times/2025/01/aid-convoys-expand.html"] * 40):
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        body = (site.render(page) or b"").replace(b"</h1>", f" {n}</h1>".encode())
        write_warc_response(writer, f"https://archive.example/{n}.html", body)
        members.append(buffer.getvalue())
    members[10] = (
        members[10][:200] + bytes(b ^ 0x5A for b in members[10][200:400]) + members[10][400:]
    )
    members.insert(20, b"junk line one\r\njunk line two\r\n")
    return b"".join(members)


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak MB of the largest process, exit code) of one CLI run."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak_kb, code = result.stdout.split()[-2:]
    return round(seconds, 2), round(int(peak_kb) / 1024, 1), int(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, help="only the first N feed cases (a quick look)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsmon-hostile-"))
    site_dir = work / "site"
    site_dir.mkdir()
    with SiteServer([SAMPLES_DIR / "site", site_dir]) as site:
        cases = {
            "quadratic bomb, 100 KB entity x 1,600": quadratic_bomb(1600),
            "quadratic bomb, 100 KB entity x 11,000 (1.1 MB)": quadratic_bomb(11_000)
            + b" " * 1_000_000,
            "billion laughs": (ROOT / "tests/resources/site/faults/bomb.xml").read_bytes(),
            "lying charset (cp1251 under iso-8859-1)": lying_charset(),
            "feed slower to parse than the limit": big_feed(20_000),
            "odd pages (dates of year 1 / 2099 / epoch ms, NUL, surrogate, 1 MB title)": odd_pages(
                site_dir, site.base_url
            ),
        }
        env = {
            **os.environ,
            "NEWSMON_ALLOW_PRIVATE_HOSTS": "true",
            "NEWSMON_HOST_DELAY": "0",
            "NEWSMON_SNAPSHOT": "false",
            "NEWSMON_FEED_PARSE_TIMEOUT": "2",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        chosen = dict(list(cases.items())[: args.cases])
        for name, body in {"baseline (good feed alone)": None, **chosen}.items():
            paths = [GOOD]
            if body is not None:
                path = f"/case{len(list(site_dir.iterdir()))}.xml"
                (site_dir / path.lstrip("/")).write_bytes(body)
                if "charset" in name:
                    site.override(
                        path, headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"}
                    )
                paths.append(path)
            feeds = work / "feeds.toml"
            feeds.write_text("".join(f'[[feeds]]\nurl = "{site.base_url}{p}"\n' for p in paths))
            db = work / f"{len(list(work.glob('*.duckdb')))}.duckdb"
            seconds, peak, code = run(
                ["-m", "newsmon.cli", "poll", "--feeds", str(feeds), "--db", str(db)], env
            )
            emit("hostile", case=name, bytes=len(body or b""), seconds=seconds, peak_mb=peak,
                 exit_code=code, good_feed_stored=_stored(db))  # fmt: skip

        warc = work / "damaged.warc.gz"
        warc.write_bytes(damaged_warc(site))
        db = work / "backfill.duckdb"
        seconds, peak, code = run(
            ["-m", "newsmon.cli", "backfill", str(warc), "--db", str(db)], env
        )
        emit("hostile", case="damaged WARC.gz (broken member, junk lines), 40 records",
             bytes=warc.stat().st_size, seconds=seconds, peak_mb=peak, exit_code=code,
             stored=_count(db, "SELECT count(*) FROM articles WHERE NOT is_seed"),
             skipped=_count(db, "SELECT count(*) FROM backfill_skips"))  # fmt: skip
        lz4 = work / "crawl.warc.lz4"
        lz4.write_bytes(b"\x04\x22\x4d\x18" + gzip.compress(b"x" * 1000))
        seconds, peak, code = run(["-m", "newsmon.cli", "backfill", str(lz4), "--db", str(db)], env)
        emit(
            "hostile",
            case="lz4 file given to backfill",
            seconds=seconds,
            peak_mb=peak,
            exit_code=code,
        )


def _count(db: Path, sql: str) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


def _stored(db: Path) -> bool:
    return _count(db, "SELECT count(*) FROM articles WHERE feed_url LIKE '%harbor-times%'") >= 3


if __name__ == "__main__":
    main()
