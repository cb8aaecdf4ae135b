"""Normal forms: text (NFC, folded whitespace), canonical URLs, UTC timestamps."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan.clean import TRACKERS_RE

# Query parameters that only say how a reader arrived, never which page it is: courlan's
# maintained list (installed with trafilatura: campaign, click and affiliate ids, referrer
# and session tags), and these, which news sites add to feed links and courlan misses.
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ocid",
        "cmpid",
        "cmp",
        "ito",
        "icid",
        "ns_campaign",
        "ns_mchannel",
        "ns_source",
        "ns_linkname",
        "ns_fee",
        "smid",
        "ref",
        "ref_src",
        "rss",
        "feed",
        "s_cid",
        "sr_share",
        "taid",
        "xtor",
    }
)
SCRIPT_SUFFIXES = (".php", ".asp", ".aspx", ".jsp", ".cgi", ".cfm", ".pl")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SPACE_RUN = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# A publication time further ahead than this is a feed's mistake, not a scoop; one before
# this is a placeholder (0001-01-01, 1970-01-01) or a wrong century, not a date of news.
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
MAX_TITLE_CHARS = 1000  # a title longer than this is a page's mistake: cut at a word
# NUL and the other C0 controls but tab and newline, and lone UTF-16 surrogates (from
# numeric character references or JSON escapes): DuckDB refuses them, no reader wants them.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without the characters a database or a reader cannot take."""
    return _UNSTORABLE.sub("", text) if _UNSTORABLE.search(text) else text


def normalize_text(text: str) -> str:
    """NFC, runs of spaces folded to one, one blank-free line per paragraph."""
    text = unicodedata.normalize("NFC", storable(text)).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize_inline(text: str | None, limit: int = MAX_TITLE_CHARS) -> str | None:
    """A title or name: NFC on one line, at most `limit` characters (cut at a word, with an
    ellipsis), or None when nothing is left."""
    if text is None:
        return None
    folded = " ".join(unicodedata.normalize("NFC", storable(text[: limit * 4])).split())
    if len(folded) > limit:
        cut = folded[: limit - 1]
        folded = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return folded or None


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters.

    The path is kept as it is (paths are case-sensitive on most servers), and so is the
    order of the parameters that remain. Stored URLs follow a change of these rules through
    a migration (storage/schema/006_canonical_urls.sql); their article ids stay.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = parts.path or "/"
    # On a script's address (/, index.php, article.aspx), the query may be all that names the
    # page ('?cid=4711'), so only the parameters that never name one are dropped there.
    by_script = path.endswith("/") or path.lower().endswith(SCRIPT_SUFFIXES)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key.lower(), by_script)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def _is_tracking(key: str, by_script: bool) -> bool:
    if key.startswith(TRACKING_PREFIXES) or key in TRACKING_PARAMS:
        return True
    return not by_script and TRACKERS_RE.search(key) is not None


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on one host, ignoring a leading 'www.'."""

    def site(url: str) -> str:
        host = (urlsplit(url).hostname or "").lower()
        return host.removeprefix("www.")

    return site(a) == site(b) != ""


def to_utc(moment: datetime | None, now: datetime | None = None) -> datetime | None:
    """An aware UTC datetime; naive input is taken as UTC. Input outside the plausible
    window (before 1990, or more than a day ahead) is no publication date: None."""
    if moment is None:
        return None
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 with a positive offset, say
        return None
    now = now or datetime.now(UTC)
    return moment if EARLIEST_DATE <= moment <= now + FUTURE_TOLERANCE else None
