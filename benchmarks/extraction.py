"""8. Extraction quality on real news pages: newsmon's records against bare trafilatura's.

Reads `../shared/eval/pages-dev/` (real pages with a ground truth of title, authors,
date and body; never copied into the project) or the folder given with --pages, and
scores, on the same bytes, `extract_article` (what newsmon stores) and
`trafilatura.bare_extraction` with its own metadata (the baseline):

- body F1: bag-of-words precision and recall of the text against the true body
  (CJK characters count one each, since those scripts put no spaces between words);
- date: the stored date falls on the true publication day;
- author: the same set of names as the truth (order and case aside);
- language: the code agrees with lingua's reading of the true body (lingua runs here
  only, as the reference; newsmon does not use it);
- mojibake: the title or text holds UTF-8 read as a one-byte charset, or U+FFFD;
- ms a page on one core, against `trafilatura.extract` (the speed target's baseline),
  the two taking turns page by page.

Prints one JSON line; `--details` lists every page a field is wrong on.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from common import EVAL, emit, paired_ms

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|\w+")
# UTF-8 read as cp1252/latin-1: a lead byte (Â, Ã, Ä..., â, Ð, Ñ...) followed by what was
# a continuation byte (0x80-0xBF as cp1252 or latin-1 shows it).
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|\ufffd"
)
_NAME_SPLIT = re.compile(r"\s*(?:,|;|/|&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.I)


@dataclass
class Record:
    text: str
    title: str | None
    authors: set[str]
    published: datetime | date | None
    language: str | None


def tokens(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in _WORD.findall(text.casefold()):
        counts[token] = counts.get(token, 0) + 1
    return counts


def body_f1(found: str, truth: str) -> float:
    ours, real = tokens(found), tokens(truth)
    common = sum(min(n, real.get(t, 0)) for t, n in ours.items())
    if not common:
        return 0.0
    precision, recall = common / sum(ours.values()), common / sum(real.values())
    return 2 * precision * recall / (precision + recall)


def names(value: str | list[str] | None) -> set[str]:
    parts = value if isinstance(value, list) else _NAME_SPLIT.split(value or "")
    return {" ".join(p.casefold().split()) for p in parts if p and p.strip()}


def same_day(found: datetime | date | None, truth: str) -> bool:
    """On the publication day, read in the page's own offset or in UTC (a date-only value
    is a day, whatever the offset)."""
    if found is None:
        return False
    real = datetime.fromisoformat(truth)
    if not isinstance(found, datetime):
        return found == real.date()
    found = found if found.tzinfo else found.replace(tzinfo=UTC)
    real = real if real.tzinfo else real.replace(tzinfo=UTC)
    return found.astimezone(real.tzinfo).date() == real.date() or (
        found.astimezone(UTC).date() == real.astimezone(UTC).date()
    )


def newsmon_record(body: bytes, url: str) -> Record:
    from extractors.article import extract_article
    from newsmon.records import Article

    article = extract_article(body, url)
    if not isinstance(article, Article):
        return Record("", None, set(), None, None)
    return Record(
        article.text,
        article.title,
        names(article.author),
        article.published_at,
        article.language,
    )


def trafilatura_record(body: bytes, url: str) -> Record:
    import trafilatura

    document = trafilatura.bare_extraction(body, url=url, with_metadata=True)
    if document is None:
        return Record("", None, set(), None, None)
    published = document.date
    return Record(
        document.text or "",
        document.title,
        names(document.author.replace(";", ",") if document.author else None),
        date.fromisoformat(published[:10]) if published else None,
        (document.language or None),
    )


def reference_languages(bodies: list[str]) -> list[str | None] | None:
    """lingua's reading of each true body; None when lingua is not installed."""
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        print("language: not scored, lingua is not installed (pip install -e '.[bench]')")
        return None

    detector = LanguageDetectorBuilder.from_all_languages().build()
    codes = []
    for text in bodies:
        found = detector.detect_language_of(text[:3000])
        codes.append(found.iso_code_639_1.name.lower() if found else None)
    return codes


def load(folder: Path) -> list[dict[str, Any]]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    for page in truth:
        page["bytes"] = gzip.decompress((folder / page["file"]).read_bytes())
    return truth


def same_language(found: str | None, reference: str | None) -> bool:
    """lingua names Norwegian Bokmål and Nynorsk, never the macrolanguage 'no'."""
    return found == reference or (found == "no" and reference in ("nb", "nn"))


def score(
    name: str,
    extract: Callable[[bytes, str], Record],
    pages: list[dict[str, Any]],
    languages: list[str | None] | None,
    details: bool,
) -> dict[str, float | None]:
    f1s, dates, authors, langs, mojibake = [], 0, 0, 0, 0
    for page, language in zip(pages, languages or [None] * len(pages), strict=True):
        record = extract(page["bytes"], page["url"])
        f1s.append(body_f1(record.text, page["body_text"]))
        wrong = []
        if same_day(record.published, page["publishing_date"]):
            dates += 1
        else:
            wrong.append(f"date {record.published} != {page['publishing_date']}")
        if record.authors == names(page["authors"] or []):
            authors += 1
        else:
            wrong.append(f"author {sorted(record.authors)} != {page['authors']}")
        if same_language(record.language, language):
            langs += 1
        elif languages is not None:
            wrong.append(f"language {record.language} != {language}")
        if _MOJIBAKE.search(f"{record.title or ''} {record.text}") and not _MOJIBAKE.search(
            f"{page['title']} {page['body_text']}"
        ):
            mojibake += 1
            wrong.append("mojibake")
        if f1s[-1] < 0.8:
            wrong.append(f"body F1 {f1s[-1]:.2f}")
        if details and wrong:
            print(f"{name} {page['file']}: " + "; ".join(wrong), file=sys.stderr)
    count = len(pages)
    return {
        "body_f1": round(sum(f1s) / count, 3),
        "date_right_day": round(dates / count, 3),
        "author_right": round(authors / count, 3),
        "language_right": round(langs / count, 3) if languages is not None else None,
        "mojibake_pages": mojibake,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=Path, default=EVAL / "pages-dev")
    parser.add_argument("--details", action="store_true", help="list what is wrong, per page")
    args = parser.parse_args()
    if not (args.pages / "ground-truth.json").exists():
        print(f"extraction quality: skipped, no labelled pages at {args.pages} (see --pages)")
        return
    import trafilatura

    from extractors.article import extract_article

    pages = load(args.pages)
    languages = reference_languages([page["body_text"] for page in pages])
    newsmon = score("newsmon", newsmon_record, pages, languages, args.details)
    bare = score("trafilatura", trafilatura_record, pages, languages, args.details)
    ours_ms, bare_ms = paired_ms(
        lambda body, url: extract_article(body, url),
        lambda body, url: trafilatura.extract(body, url=url),
        [(page["bytes"], page["url"]) for page in pages],
    )
    emit(
        "extraction_quality",
        pages=len(pages),
        newsmon=newsmon,
        trafilatura=bare,
        extract_article_ms=ours_ms,
        trafilatura_extract_ms=bare_ms,
        speed_ratio=round(ours_ms / bare_ms, 3),
        targets={
            "body_f1": ">= trafilatura's",
            "date_right_day": 0.98,
            "author_right": 0.9,
            "language_right": 0.99,
            "mojibake_pages": 0,
            "speed_ratio": "<= 1.1",
        },
    )


if __name__ == "__main__":
    main()
