"""Turn page bytes into text with the charset the page declares, before trafilatura sees it.

trafilatura guesses encodings on its own and gets windows-1256/1255 pages wrong,
so pages are decoded here in the order browsers use: byte-order mark, the HTTP
charset, <meta charset> / http-equiv, then detection (charset-normalizer).
A declared charset that cannot decode the bytes is skipped, not trusted, and bytes
that are valid UTF-8 (with some non-ASCII) are read as UTF-8 whatever is declared.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

# WHATWG Encoding Standard: labels browsers decode as a superset.
_SUPERSETS = {
    "ascii": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Browsers look for <meta charset> in the first 1024 bytes; pages with long
# <head>s put it later, so look a little further.
META_SCAN_BYTES = 4096


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HTTP_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:META_SCAN_BYTES])
    return match.group(1).decode("ascii") if match else None


def codec_name(label: str | None) -> str | None:
    """Python's name for a charset label ('ISO-8859-1' -> 'latin_1'); None if unknown."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None


def _codec(label: str | None) -> str | None:
    """The codec browsers decode `label` with: its superset, where the WHATWG names one."""
    name = codec_name(label)
    return _SUPERSETS.get(name, name) if name else None


def _as_utf8(body: bytes) -> str | None:
    """The text, when `body` holds non-ASCII bytes that are all valid UTF-8.

    Such bytes are UTF-8 and nothing else in practice: text in a one-byte charset
    almost never forms valid multi-byte sequences. A page that declares iso-8859-1 but
    is served in UTF-8 (a CMS default left in place) would otherwise decode, since
    cp1252 fails on nearly no byte, as mojibake ("fÃ¼r").
    """
    if body.isascii():
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec used). Never raises: the last resort replaces undecodable bytes."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    utf8 = _as_utf8(body)
    for label in (charset_from_content_type(content_type), charset_from_meta(body)):
        codec = _codec(label)
        if codec and utf8 is not None and not codec.startswith(("utf-16", "utf-32")):
            return utf8, "utf-8"  # bytes that read as UTF-8 are UTF-8, whatever is declared
        if codec:
            try:
                return body.decode(codec), codec
            except (UnicodeDecodeError, LookupError):
                continue
    if utf8 is not None or body.isascii():
        return utf8 or body.decode("ascii"), "utf-8"
    best = charset_normalizer.from_bytes(body).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    return body.decode("utf-8", errors="replace"), "utf-8"
