"""9. Signal quality on labelled multilingual news: translations, stories, similarity.

(Not `signal.py`: a benchmark's folder comes first on sys.path, and would hide the
standard library's module of that name.)

Reads the labelled material in ../shared/eval/ (or --data FOLDER; never copied into the
project, see its README) and puts it through the real pipeline: every text is a page
on a local site, polled by the poll-feeds flow into a new database with a topic every
page is relevant to, so duplicates, stories and developments are decided as for feeds.

- WMT21 news translations: the originals are polled first, then their professional
  translations. Per language pair (original -> translation): the share of translations
  recognised as the same article (a duplicate of the original, or in its story), and
  the developments a translation yields against those of an original (target: <= 10 %).
- SemEval-2022 Task 8 pairs: the first article of every pair is polled, then the second.
  Per language pair: the share of pairs judged very similar (Overall <= 1.5) that end in
  one story (target >= 80 %), of pairs judged very dissimilar (Overall >= 3.5) that do
  (target <= 5 %), and the Spearman rank correlation of newsmon's similarity of the two
  with -Overall (target >= 0.65): the one stories use across languages, the cosine of the
  two leads' language-centred embeddings plus a tenth of the Jaccard of their numbers
  (`spearman`), and the cosine of their story terms, the words' (`spearman_words`).

Prints one JSON line per data set; says so plainly when the data is absent.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    EVAL,
    POLITENESS_OFF,
    ROOT,
    SiteProcess,
    emit,
    timed_poll,
    topic_table,
    warm_up_prefect,
    write_feed,
)

WMT = "wmt21-news-translations.jsonl.gz"
SEMEVAL = "semeval2022-pairs-dev.jsonl.gz"
VERY_SIMILAR = 1.5  # Overall: 1 = very similar ... 4 = very dissimilar
VERY_DISSIMILAR = 3.5


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def write_page(news: Path, name: str, lang: str, headline: str, paragraphs: Iterable[str]) -> None:
    """A plain news page: the headline as title and h1, the body as paragraphs."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p.strip())
    (news / f"{name}.html").write_text(
        f'<!DOCTYPE html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(headline)}</title></head><body><article>"
        f"<h1>{html.escape(headline)}</h1>{body}</article></body></html>",
        encoding="utf-8",
    )


def wmt_page(news: Path, name: str, record: dict[str, Any]) -> None:
    """WMT text: the first paragraph is the headline; paragraphs are separated by blank lines."""
    headline, *paragraphs = [p.strip() for p in record["text"].split("\n\n")]
    write_page(news, name, record["lang"], headline, paragraphs)


def semeval_page(news: Path, name: str, lang: str, text: str) -> None:
    """SemEval text: title and body separated by two spaces."""
    headline, _, body = text.partition("  ")
    write_page(news, name, lang, headline.strip(), [body] if body else [])


class Stored:
    """What the pipeline decided for each page, by the page's name."""

    def __init__(self, database: Path) -> None:
        import duckdb

        with duckdb.connect(str(database), read_only=True) as conn:
            rows = conn.execute(
                "SELECT a.url, a.article_id, a.duplicate_of, a.story_id, "
                "(SELECT count(*) FROM developments d WHERE d.article_id = a.article_id) "
                "FROM articles a WHERE NOT a.is_seed"
            ).fetchall()
            leads = conn.execute(
                "SELECT a.url, v.language, v.vector, v.numbers FROM article_vectors v "
                "JOIN articles a USING (article_id) WHERE NOT a.is_seed"
            ).fetchall()
        self.by_name = {
            _name(url): (article_id, copy_of, story, count)
            for url, article_id, copy_of, story, count in rows
        }
        self.leads = {_name(url): (language, vector, set(n)) for url, language, vector, n in leads}

    def same_article(self, name: str, original: str) -> bool:
        """`name` is a duplicate of `original`, or in its story."""
        if name not in self.by_name or original not in self.by_name:
            return False
        _, copy_of, story, _ = self.by_name[name]
        original_id, _, original_story, _ = self.by_name[original]
        return copy_of == original_id or (story is not None and story == original_story)

    def same_story(self, a: str, b: str) -> bool:
        story_a = self.by_name.get(a, (None, None, None, 0))[2]
        story_b = self.by_name.get(b, (None, None, None, 0))[2]
        return story_a is not None and story_a == story_b

    def developments(self, name: str) -> int:
        return self.by_name.get(name, (None, None, None, 0))[3]


def _name(url: str) -> str:
    return url.rsplit("/", 1)[-1].removesuffix(".html")


def poll_in_turns(folder: Path, phases: list[list[str]]) -> Stored:
    """Poll the site's pages in `phases` (lists of page names), one feed and run each, into
    one database with every page relevant; what was stored."""
    news = folder / "site" / "news"
    topic = topic_table(skip_off_topic=False, min_relevance=0.0)
    with SiteProcess(folder / "site") as site:
        warm_up_prefect()
        for number, names in enumerate(phases):
            write_feed(news, names, f"phase-{number}.xml")
            timed_poll(folder, site.base_url, "signal.duckdb", topic, f"phase-{number}.xml")
    return Stored(folder / "signal.duckdb")


def translations(records: list[dict[str, Any]]) -> dict[str, Any]:
    originals = {r["cluster_id"]: r for r in records if r["is_original"]}
    copies = [r for r in records if not r["is_original"] and r["cluster_id"] in originals]
    names = {r["article_id"]: f"wmt-{n}" for n, r in enumerate(records)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        news = folder / "site" / "news"
        news.mkdir(parents=True)
        for record in records:
            wmt_page(news, names[record["article_id"]], record)
        stored = poll_in_turns(
            folder,
            [
                [names[r["article_id"]] for r in originals.values()],
                [names[r["article_id"]] for r in copies],
            ],
        )
    pairs: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for copy in copies:
        original = originals[copy["cluster_id"]]
        figures = pairs[f"{original['lang']}->{copy['lang']}"]
        figures["translations"] += 1
        figures["recognised"] += stored.same_article(
            names[copy["article_id"]], names[original["article_id"]]
        )
        figures["developments"] += stored.developments(names[copy["article_id"]])
        figures["original_developments"] += stored.developments(names[original["article_id"]])
    per_pair = {pair: _translation_figures(f) for pair, f in sorted(pairs.items())}
    total: dict[str, int] = defaultdict(int)
    for figures in pairs.values():
        for key, value in figures.items():
            total[key] += value
    return {
        "originals": len(originals),
        "translations": len(copies),
        **_translation_figures(total),
        "per_language_pair": per_pair,
        "targets": {"recognised": ">= 0.9 in every pair", "developments_ratio": "<= 0.1"},
    }


def _translation_figures(figures: dict[str, int]) -> dict[str, Any]:
    """Shares: translations recognised, and developments per translation against per
    original (the originals counted once per translation of theirs)."""
    return {
        "pairs": figures["translations"],
        "recognised": round(figures["recognised"] / figures["translations"], 3),
        "developments_per_translation": round(figures["developments"] / figures["translations"], 2),
        "developments_per_original": round(
            figures["original_developments"] / figures["translations"], 2
        ),
        "developments_ratio": round(
            figures["developments"] / max(1, figures["original_developments"]), 3
        ),
    }


def story_pairs(records: list[dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        news = folder / "site" / "news"
        news.mkdir(parents=True)
        for number, record in enumerate(records):
            semeval_page(news, f"pair-{number}-a", record["lang1"], record["text1"])
            semeval_page(news, f"pair-{number}-b", record["lang2"], record["text2"])
        stored = poll_in_turns(
            folder,
            [
                [f"pair-{n}-a" for n in range(len(records))],
                [f"pair-{n}-b" for n in range(len(records))],
            ],
        )
    pairs = [(f"pair-{n}-a", f"pair-{n}-b") for n in range(len(records))]
    similarity = meaning_similarity(stored, pairs)
    words = story_similarity([(r["text1"], r["text2"]) for r in records])
    groups: dict[str, list[int]] = defaultdict(list)
    for number, record in enumerate(records):
        groups[f"{record['lang1']}-{record['lang2']}"].append(number)
    joined = [stored.same_story(f"pair-{n}-a", f"pair-{n}-b") for n in range(len(records))]
    overall = [float(r["Overall"]) for r in records]

    def figures(numbers: list[int]) -> dict[str, Any]:
        similar = [n for n in numbers if overall[n] <= VERY_SIMILAR]
        dissimilar = [n for n in numbers if overall[n] >= VERY_DISSIMILAR]
        return {
            "pairs": len(numbers),
            "very_similar": len(similar),
            "very_similar_in_one_story": _share(joined[n] for n in similar),
            "very_dissimilar": len(dissimilar),
            "very_dissimilar_merged": _share(joined[n] for n in dissimilar),
            "spearman": spearman([similarity[n] for n in numbers], [-overall[n] for n in numbers]),
            "spearman_words": spearman([words[n] for n in numbers], [-overall[n] for n in numbers]),
        }

    return {
        **figures(list(range(len(records)))),
        "per_language_pair": {pair: figures(numbers) for pair, numbers in sorted(groups.items())},
        "targets": {
            "very_similar_in_one_story": ">= 0.8",
            "very_dissimilar_merged": "<= 0.05",
            "spearman": ">= 0.65",
        },
    }


def meaning_similarity(stored: Stored, pairs: list[tuple[str, str]]) -> list[float]:
    """The similarity stories use across languages, from the leads the pipeline embedded:
    the cosine of the two leads less their languages' means (over every page stored), plus
    NUMBER_WEIGHT times the Jaccard of their numbers. 0 for a page with no lead (not
    relevant, or no text)."""
    from analysis.meaning import NUMBER_WEIGHT, centred

    names = sorted(stored.leads)
    languages = np.array([stored.leads[n][0] or "" for n in names], dtype=object)
    vectors = centred(np.array([stored.leads[n][1] for n in names], dtype=np.float32), languages)
    row = {name: i for i, name in enumerate(names)}
    name_of = {entry[0]: name for name, entry in stored.by_name.items()}

    def embedded(name: str) -> str:
        """A copy has no lead of its own: its original's stands for it."""
        copy_of = stored.by_name.get(name, (None, None, None, 0))[1]
        return name if name in row or copy_of is None else name_of.get(copy_of, name)

    scores = []
    for a, b in ((embedded(a), embedded(b)) for a, b in pairs):
        if a not in row or b not in row:
            scores.append(0.0)
            continue
        numbers_a, numbers_b = stored.leads[a][2], stored.leads[b][2]
        union = numbers_a | numbers_b
        jaccard = len(numbers_a & numbers_b) / len(union) if union else 0.0
        scores.append(float(vectors[row[a]] @ vectors[row[b]]) + NUMBER_WEIGHT * jaccard)
    return scores


def story_similarity(pairs: list[tuple[str, str]]) -> list[float]:
    """newsmon's similarity of two articles, as the story step compares them: the cosine of
    their story terms (content words and names, less the topic's common words)."""
    from analysis.facts import analyse
    from analysis.stories import common_words, story_terms
    from analysis.text import content_words
    from extractors.seeds import load_seeds
    from newsmon.feedlist import load_topic

    topic = load_topic(ROOT / "feeds.toml", [seed.text for seed in load_seeds(ROOT / "seeds")])
    common = common_words(topic.profile)

    def terms(text: str) -> dict[str, float]:
        return story_terms(content_words(text), analyse(text, topic.aliases), common)

    scores = []
    for first, second in pairs:
        a, b = terms(first), terms(second)
        scores.append(sum(weight * b.get(term, 0.0) for term, weight in a.items()))
    return scores


def spearman(x: list[float], y: list[float]) -> float | None:
    """Rank correlation (ties get their mean rank); None for fewer than three pairs."""
    if len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return round(float(np.corrcoef(rx, ry)[0, 1]), 3)


def _ranks(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    order = array.argsort(kind="stable")
    ranks = np.empty(len(array))
    ranks[order] = np.arange(len(array))
    for value in np.unique(array):  # ties: the mean of their ranks
        tied = array == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=EVAL, help="folder of the labelled files")
    args = parser.parse_args()
    os.environ.update(POLITENESS_OFF)
    for file, evaluate, name in (
        (WMT, translations, "signal_translations"),
        (SEMEVAL, story_pairs, "signal_story_pairs"),
    ):
        path = args.data / file
        if not path.exists():
            print(f"{name}: skipped, {path} is absent (see ../shared/eval/README.md)")
            continue
        emit(name, source=file, **evaluate(read_jsonl(path)))


if __name__ == "__main__":
    main()
