"""Backfill sources, read as a stream in batches: WARC / WARC.gz files and plain lists of URLs.

Each batch says where the next one starts (a byte offset in a WARC, a line in a
URL list), so a backfill stored batch by batch resumes exactly where it stopped.
Memory holds one batch, whatever the size of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from extractors.fetch import Fetched

WARC_SUFFIXES = (".warc", ".warc.gz")


@dataclass(slots=True)
class Batch:
    urls: list[str] = field(default_factory=list)  # to fetch (URL lists)
    captured: list[Fetched] = field(default_factory=list)  # already fetched (WARC responses)
    read: int = 0  # records read, kept or not
    end: int = 0  # where the next batch starts


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def batches(path: Path, start: int, size: int) -> Iterator[Batch]:
    """Batches of up to `size` usable records from `start` on."""
    reader = _warc_batches if is_warc(path) else _url_batches
    yield from reader(path, start, size)


def _warc_batches(path: Path, start: int, size: int) -> Iterator[Batch]:
    with path.open("rb") as stream:
        stream.seek(start)
        records = ArchiveIterator(stream)
        batch = Batch(end=start)
        for record in records:
            # A full batch ends where the next record begins: only then is that offset known.
            if len(batch.captured) >= size:
                batch.end = start + records.get_record_offset()
                yield batch
                batch = Batch(end=batch.end)
            batch.read += 1
            captured = _response(record)
            if captured is not None:
                batch.captured.append(captured)
        if batch.read:
            batch.end = path.stat().st_size
            yield batch


def _response(record: object) -> Fetched | None:
    """A 200 response to a GET, as the fetcher would have returned it; None for anything else."""
    if getattr(record, "rec_type", None) != "response" or record.http_headers is None:  # type: ignore[attr-defined]
        return None
    http = record.http_headers  # type: ignore[attr-defined]
    if http.get_statuscode() != "200":
        return None
    return Fetched(
        url=record.rec_headers.get_header("WARC-Target-URI"),  # type: ignore[attr-defined]
        status=200,
        body=record.content_stream().read(),  # type: ignore[attr-defined]
        content_type=http.get_header("Content-Type"),
        etag=None,
        last_modified=None,
        content_language=http.get_header("Content-Language"),
        moved_permanently=False,
    )


def _url_batches(path: Path, start: int, size: int) -> Iterator[Batch]:
    """One URL per line; blank lines and lines starting with # are skipped."""
    with path.open(encoding="utf-8") as lines:
        batch = Batch(end=start)
        for number, line in enumerate(lines):
            if number < start:
                continue
            batch.read += 1
            batch.end = number + 1
            url = line.strip()
            if url and not url.startswith("#"):
                batch.urls.append(url)
            if len(batch.urls) >= size:
                yield batch
                batch = Batch(end=batch.end)
        if batch.read:
            yield batch
