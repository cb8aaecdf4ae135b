"""Backfill sources, read as a stream in batches: web archives and plain lists of URLs.

The format comes from the content, never the name: WARC or ARC (plain or gzip, which
warcio reads), or a text file of http(s) URLs. Anything else (lz4, zstd, a binary file)
is refused with one line, so archive lines are never taken for URLs.

Each batch says where the next one starts (a byte offset in an archive, a line in a
URL list), so a backfill stored batch by batch resumes exactly where it stopped.
A damaged stretch of an archive is skipped to the next record that reads, and said
so (offset, length, reason); memory holds one batch, whatever the size of the file.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from extractors.fetch import Fetched
from newsmon.errors import ConfigError
from newsmon.records import Skip

Format = Literal["archive", "urls"]
GZIP_MAGIC = b"\x1f\x8b"
REFUSED_MAGIC = {
    b"\x04\x22\x4d\x18": "lz4-compressed; decompress it first (lz4 -d)",
    b"\x28\xb5\x2f\xfd": "zstd-compressed; decompress it first (zstd -d), or gzip it",
    b"BZh": "bzip2-compressed; decompress it first (bunzip2)",
    b"PK\x03\x04": "a zip file; unzip it first",
}
# Where a record of a plain archive starts: a WARC version line, or an ARC URL record line.
_RECORD_START = re.compile(
    rb"(?:^|\n)(WARC/1\.[01]\r?\n|(?:https?|dns|ftp)://\S+ \d{1,3}(?:\.\d{1,3}){3} \d{14} )"
)
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError, LookupError)
SCAN_BYTES = 1 << 20  # read this much at a time when looking for the next good record


@dataclass(slots=True)
class Batch:
    urls: list[str] = field(default_factory=list)  # to fetch (URL lists)
    captured: list[Fetched] = field(default_factory=list)  # already fetched (archive responses)
    skipped: list[Skip] = field(default_factory=list)
    read: int = 0  # records read, kept or not
    end: int = 0  # where the next batch starts


def detect_format(path: Path) -> Format:
    """'archive' or 'urls', from the first bytes; ConfigError for anything else."""
    with path.open("rb") as file:
        head = file.read(4096)
    for magic, what in REFUSED_MAGIC.items():
        if head.startswith(magic):
            raise ConfigError(f"{path} is {what}; newsmon reads WARC, ARC (plain or gzip)")
    if head.startswith(GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as unpacked:
                head = unpacked.read(4096)
        except (OSError, EOFError, zlib.error) as exc:
            raise ConfigError(f"{path} is gzip-compressed but does not unpack: {exc}") from None
        if _is_archive(head):
            return "archive"
        raise ConfigError(f"{path} is gzip-compressed but holds no WARC or ARC records")
    if _is_archive(head):
        return "archive"
    first = next((line for line in head.splitlines() if _is_content(line)), b"")
    if first.startswith((b"http://", b"https://")) and _is_text(head):
        return "urls"
    raise ConfigError(
        f"{path} is neither a web archive (WARC or ARC, plain or gzip) nor a list of "
        "http(s) URLs, one per line; nothing was read"
    )


def batches(path: Path, kind: Format, start: int, size: int) -> Iterator[Batch]:
    """Batches of up to `size` usable records from `start` on; `kind` from detect_format."""
    reader = _archive_batches if kind == "archive" else _url_batches
    yield from reader(path, start, size)


def _is_archive(head: bytes) -> bool:
    return head.lstrip(b"\r\n").startswith((b"WARC/", b"filedesc://"))


def _is_content(line: bytes) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(b"#")


def _is_text(head: bytes) -> bool:
    """Text with at most a few undecodable bytes (a damaged line is skipped, not fatal)."""
    decoded = head.decode("utf-8", errors="replace")
    return b"\x00" not in head and decoded.count("\ufffd") <= len(decoded) // 20


def _archive_batches(path: Path, start: int, size: int) -> Iterator[Batch]:
    batch = Batch(end=start)
    for offset, item in _records(path, start):
        # A full batch ends where the next record begins: only then is that offset known.
        if len(batch.captured) >= size:
            batch.end = offset
            yield batch
            batch = Batch(end=offset)
        if isinstance(item, Skip):
            batch.skipped.append(item)
            continue
        batch.read += 1
        if item is not None:
            batch.captured.append(item)
    if batch.read or batch.skipped:
        batch.end = path.stat().st_size
        yield batch


def _records(path: Path, start: int) -> Iterator[tuple[int, Fetched | Skip | None]]:
    """(offset, what is there) for each record from `start`: a response, None for a record
    to leave out, or a Skip for a damaged stretch (reading resumes at the next good record)."""
    compressed = _is_gzip(path)
    with path.open("rb") as stream:
        position = start
        while True:
            stream.seek(position)
            records = ArchiveIterator(stream, arc2warc=True)
            damaged_at = position
            try:
                for record in records:
                    damaged_at = records.offset  # where this record starts
                    try:
                        item: Fetched | Skip | None = _response(record)
                    except _READ_ERRORS as exc:
                        item = Skip(damaged_at, 0, f"record unreadable: {_reason(exc)}")
                    yield damaged_at, item
                    damaged_at = records.offset
                return
            except _READ_ERRORS as exc:
                reason = _reason(exc)
                damaged_at = max(damaged_at, records.offset)  # past the last record read
            resume = _next_record(stream, damaged_at + 1, compressed)
            end = resume if resume is not None else path.stat().st_size
            yield damaged_at, Skip(damaged_at, end - damaged_at, reason)
            if resume is None:
                return
            position = resume


def _next_record(stream: IO[bytes], after: int, compressed: bool) -> int | None:
    """The offset of the first record from `after` on that warcio can read; None at the end."""
    pattern = re.compile(re.escape(GZIP_MAGIC + b"\x08")) if compressed else _RECORD_START
    position = after
    while True:
        stream.seek(position)
        chunk = stream.read(SCAN_BYTES + 64)
        if not chunk:
            return None
        for match in pattern.finditer(chunk):
            candidate = position + match.start(1 if match.groups() else 0)
            if candidate >= after and _readable_at(stream, candidate):
                return candidate
        if len(chunk) <= SCAN_BYTES:
            return None
        position += SCAN_BYTES


def _readable_at(stream: IO[bytes], offset: int) -> bool:
    stream.seek(offset)
    try:
        next(iter(ArchiveIterator(stream, arc2warc=True)))
    except (StopIteration, *_READ_ERRORS):
        return False
    return True


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(2) == GZIP_MAGIC


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _response(record: Any) -> Fetched | None:
    """A 200 response to a GET, as the fetcher would have returned it; None for anything else."""
    if getattr(record, "rec_type", None) != "response" or record.http_headers is None:
        return None
    http = record.http_headers
    if http.get_statuscode() != "200":
        return None
    url = record.rec_headers.get_header("WARC-Target-URI")
    if not url or not url.startswith(("http://", "https://")):
        return None
    return Fetched(
        url=url,
        status=200,
        body=record.content_stream().read(),
        content_type=http.get_header("Content-Type"),
        etag=None,
        last_modified=None,
        content_language=http.get_header("Content-Language"),
        moved_permanently=False,
    )


def _url_batches(path: Path, start: int, size: int) -> Iterator[Batch]:
    """One URL per line; blank lines and lines starting with # are skipped, and any other
    line that is not an http(s) URL is recorded as skipped."""
    with path.open("rb") as lines:
        batch = Batch(end=start)
        for number, raw in enumerate(lines):
            if number < start:
                continue
            batch.read += 1
            batch.end = number + 1
            line = raw.decode("utf-8", errors="replace").strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("http://", "https://")) and " " not in line:
                batch.urls.append(line)
            else:
                batch.skipped.append(Skip(number + 1, 1, f"not an http(s) URL: {line[:80]!r}"))
            if len(batch.urls) >= size:
                yield batch
                batch = Batch(end=batch.end)
        if batch.read:
            yield batch
