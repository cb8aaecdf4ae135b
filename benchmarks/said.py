"""11. "Has this been said?" at scale: a story's sentence vectors at 10k, 100k and 1M stored.

Each size gets a store whose `sentence_vectors` holds that many sentences (384 random
floats each, as e5-small's), appended run by run in time order as the pipeline appends
them: hourly runs of 50 sentences (8 days of them make 10k, 833 days 1M), each of the
stories active then, plus one long-running story (the monitored one) that says something
in every run, so its rows spread over the whole table. Then, on a connection opened
afresh as every run's is, the seeds' vectors are read once and each of 200 stories' said
vectors (`said_in_story`, the analysis step's own query) once, and the best cosine of two
new sentences with them is taken (`StorySaid.closest`). The baseline, in the same run, is
the same cosine over vectors already in memory: what is left is the lookup. If the lookup
were a scan of the table, the time per story would grow with the store. Peak memory is
the looking-up process's: the store is built in another.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from common import emit, peak_rss_mb

MODEL = "bench-e5"
DIMENSIONS = 384
SEED_SENTENCES = 400
PER_RUN = 50  # sentences stored by each hourly run: 1,200 a day
STORIES_LOOKED_UP = 200
LONG_STORY = 1  # the monitored story: one sentence in 20, in every run
START = datetime(2024, 1, 1, tzinfo=UTC)


def said_store(db_path: Path, sentences: int) -> tuple[list[int], datetime]:
    """A store of `sentences` sentence vectors; returns the story ids to look up and the
    start of the said window (SAID_WINDOW before the last run)."""
    from analysis.meaning import SAID_WINDOW
    from storage.db import connect, migrate

    with connect(db_path) as conn:
        migrate(conn)
        vector = f"list_transform(range({DIMENSIONS}), lambda x: (random() - 0.5)::FLOAT)"
        conn.execute(
            f"INSERT INTO sentence_vectors SELECT -1 - i, 0, NULL, '{MODEL}', NULL, {vector} "
            f"FROM range({SEED_SENTENCES}) t(i)"
        )
        # Row i is stored by run i // PER_RUN; a run's stories are the ~20 opened around
        # it (a story lives about a day), and one row in 20 is the long-running story's.
        conn.execute(
            f"INSERT INTO sentence_vectors SELECT i, i % 2, "
            f"CASE WHEN i % 20 = 0 THEN {LONG_STORY} "
            f"ELSE 2 + (i // {PER_RUN}) + (hash(i) % 20)::BIGINT END, "
            f"'{MODEL}', $1::TIMESTAMPTZ + to_hours(i // {PER_RUN}), {vector} "
            f"FROM range({sentences}) t(i) ORDER BY i",
            [START],
        )
        conn.execute("CHECKPOINT")
    last_run = (sentences - 1) // PER_RUN
    recent = [2 + last_run - offset for offset in range(1, STORIES_LOOKED_UP)]
    return [LONG_STORY, *recent], START + timedelta(hours=last_run) - SAID_WINDOW


def lookups(
    db_path: Path, stories: list[int], since: datetime
) -> tuple[float, list[float], list[float]]:
    """ms to read the seeds once, then ms per story: the lookup with its cosine, and the
    same cosine over vectors already in memory."""
    from analysis.meaning import StorySaid
    from storage.analysis import said_in_story, seed_sentences
    from storage.db import connect

    rng = np.random.default_rng(5)
    new = rng.standard_normal((2, DIMENSIONS)).astype(np.float32)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    with connect(db_path, read_only=True) as conn:  # a new connection: nothing cached
        started = time.perf_counter()
        seeds = seed_sentences(conn, MODEL)
        seeds_ms = (time.perf_counter() - started) * 1000
        assert len(seeds) == SEED_SENTENCES, len(seeds)
        loaded: dict[int, np.ndarray] = {}

        def load(story: int) -> np.ndarray:
            loaded[story] = said_in_story(conn, MODEL, story, since)
            return loaded[story]

        said = StorySaid(load, seeds)
        lookup_ms = []
        for story in stories:
            started = time.perf_counter()
            said.closest(story, new)
            lookup_ms.append((time.perf_counter() - started) * 1000)
    in_memory = StorySaid(lambda story: loaded[story], seeds)
    memory_ms = []
    for story in stories:
        started = time.perf_counter()
        in_memory.closest(story, new)
        memory_ms.append((time.perf_counter() - started) * 1000)
    assert len(loaded[LONG_STORY]) > 0, "the long story said something in the window"
    return seeds_ms, lookup_ms, memory_ms


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"said-{size}.duckdb"
            # Built in a process of its own, so that peak memory is the lookup's.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as builder:
                stories, since = builder.submit(said_store, path, size).result()
            seeds_ms, lookup_ms, memory_ms = lookups(path, stories, since)
            emit(
                "said_lookup_at_scale",
                stored_sentences=size,
                stories=len(stories),
                seeds_read_ms=round(seeds_ms, 2),
                long_story_ms=round(lookup_ms[0], 2),
                p50_ms_per_story=round(statistics.median(lookup_ms), 2),
                p95_ms_per_story=p95(lookup_ms),
                in_memory_p95_ms=p95(memory_ms),
                file_mb=round(path.stat().st_size / 2**20),
                peak_rss_mb=peak_rss_mb(),
            )
            path.unlink()


if __name__ == "__main__":
    main()
