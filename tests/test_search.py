"""Full-text search: the index the writer keeps, `newsmon search` and its filters, the
compaction that keeps it sorted, and the live file still read by the analysts' DuckDB CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from conftest import GULF, HARBOR, ROOT, query

pytestmark = pytest.mark.slow
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def search_cli(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "search", *args, "--db", str(db_path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def found(db_path: Path, *args: str) -> list[dict[str, object]]:
    result = search_cli(db_path, *args, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_search_finds_every_word_in_any_language_with_filters(poll, db_path: Path) -> None:
    poll(HARBOR, GULF)
    hits = found(db_path, "Rafah crossing")  # "crossings" in the text: a word it begins
    urls = {h["url"] for h in hits}
    assert any(str(u).endswith("/aid-convoys-expand.html") for u in urls)
    assert all("rafah" in str(h["snippet"]).lower() for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    arabic = found(db_path, "معبر رفح")
    assert [h["language"] for h in arabic] == ["ar"]
    assert found(db_path, "معبر رفح", "--language", "en") == []
    originals = found(db_path, "aid trucks", "--originals")
    assert originals and all(h["duplicate_kind"] is None for h in originals)
    assert len(found(db_path, "aid trucks")) > len(originals)  # the syndicated copy too
    story = str(originals[0]["story_id"])
    assert all(h["story_id"] == story for h in found(db_path, "aid", "--story", story))
    assert found(db_path, "aid trucks", "--since", "2099-01-01") == []
    outlet = found(db_path, "ceasefire", "--outlet", "gulf observer")
    assert outlet and {h["outlet"] for h in outlet} == {"Gulf Observer"}
    assert found(db_path, '"trucks crossed"') and not found(db_path, '"crossed trucks"')

    shown = search_cli(db_path, "rafah")
    assert shown.returncode == 0 and shown.stdout.rstrip().endswith("articles.")
    empty = search_cli(db_path, " ?! ")
    assert empty.returncode == 2 and "holds no word to search for" in empty.stderr


def test_compaction_sorts_the_index_and_changes_no_result(poll, db_path: Path) -> None:
    from storage.db import connect
    from storage.search import Filters, compact_if_due, search

    poll(HARBOR, GULF)
    with connect(db_path) as conn:
        before = [h.article_id for h in search(conn, "ceasefire", Filters())]
        assert not compact_if_due(conn, datetime.now(UTC))  # a small index: not due
        assert compact_if_due(conn, datetime.now(UTC), force=True)
        after = [h.article_id for h in search(conn, "ceasefire", Filters())]
        terms = [row[0] for row in conn.execute("SELECT term FROM search_terms").fetchall()]
        (sorted_rows,) = conn.execute("SELECT sorted_rows FROM search_index").fetchone()
    assert before == after and len(before) >= 3
    assert terms == sorted(terms) and sorted_rows == len(terms)
    indexed = query(db_path, "SELECT count(DISTINCT article_id) FROM search_terms")[0][0]
    stored = query(db_path, "SELECT count(*) FROM articles WHERE text IS NOT NULL")[0][0]
    assert indexed == stored  # seeds, originals and copies


def test_the_analysts_cli_reads_the_index_and_its_tokenizer(poll, db_path: Path) -> None:
    poll(HARBOR)
    sql = (
        "SELECT count(DISTINCT article_id) FROM search_terms "
        "WHERE term = search_tokens('Rafah!')[1]"
    )
    result = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", str(db_path), "-c", sql],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(db_path), read_only=True) as conn:
        expected = conn.execute(sql).fetchone()[0]
    assert int(result.stdout.split()[-1]) == expected >= 1


def test_a_word_said_many_times_ranks_first(tmp_path: Path) -> None:
    from storage.db import connect, migrate
    from storage.search import Filters, index_articles, search

    texts = [
        "The crossing opened. " + "Crossing, crossing again. " * 12,  # tf 25: scores overflowed
        "Talks resumed in Cairo; the crossing stayed shut.",
        "Nothing about it here at all.",
    ]
    with connect(tmp_path / "search.duckdb") as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO articles (article_id, url, fetched_at, status, text, title) "
            "SELECT i + 1, 'https://x.example/' || i, now(), 'ok', t, 'Report ' || i "
            "FROM (SELECT unnest(range(3)) AS i, unnest($1) AS t)",
            [texts],
        )
        index_articles(conn, [1, 2, 3])
        hits = search(conn, "crossing", Filters())
    assert [h.article_id for h in hits] == [1, 2] and hits[0].score > hits[1].score > 0
    assert hits[0].snippet.startswith("The crossing opened.")
