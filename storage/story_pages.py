"""What the story pages show, read from the public tables and views: each story's articles,
the developments they brought, the copies and translations that carried them, and the
series of every figure its articles state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from storage.db import Conn
from storage.digests import figure_label


@dataclass(frozen=True, slots=True)
class Report:
    """One article of a story: an original with its developments, or a copy of one."""

    article_id: int
    title: str | None
    url: str | None
    outlet: str
    language: str | None
    seen_at: datetime
    is_seed: bool
    duplicate_kind: str | None  # 'near', 'exact', 'translation'...; None for an original
    duplicate_of: int | None
    similarity: float | None
    developments: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime | None
    value: float
    source: str  # a URL, or a seed's file name


@dataclass(frozen=True, slots=True)
class Series:
    metric: str
    unit: str | None
    points: list[Point]

    @property
    def label(self) -> str:
        return figure_label(self.metric, self.unit)


@dataclass(slots=True)
class StoryPage:
    story_id: int
    title: str
    reports: list[Report]
    figures: list[Series]
    merged_into: int | None = None

    @property
    def originals(self) -> list[Report]:
        return [r for r in self.reports if r.duplicate_kind is None and not r.is_seed]

    @property
    def copies(self) -> list[Report]:
        return [r for r in self.reports if r.duplicate_kind is not None]

    @property
    def outlets(self) -> list[str]:
        return sorted({r.outlet for r in self.reports if not r.is_seed})

    @property
    def languages(self) -> list[str]:
        return sorted({r.language for r in self.reports if r.language and not r.is_seed})

    @property
    def developments(self) -> int:
        return sum(len(r.developments) for r in self.reports)

    @property
    def first_report(self) -> datetime | None:
        """When the first article of a feed in it was published (or fetched): seeds aside."""
        times = [r.seen_at for r in self.reports if not r.is_seed]
        return min(times, default=None)

    @property
    def last_report(self) -> datetime | None:
        times = [r.seen_at for r in self.reports if not r.is_seed]
        return max(times, default=None)


def story_pages(conn: Conn) -> list[StoryPage]:
    """Every story, its latest report first, with all a page shows; merged stories come
    last, naming the story they joined (their page sends the reader there)."""
    stories = conn.execute(
        "SELECT story_id, coalesce(title, '(untitled)'), merged_into FROM stories"
    ).fetchall()
    reports = _reports(conn)
    figures = _figures(conn)
    pages = [
        StoryPage(story_id, title, reports.get(story_id, []), figures.get(story_id, []), merged)
        for story_id, title, merged in stories
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        pages,
        key=lambda p: (
            p.merged_into is not None,
            -(p.last_report or oldest).timestamp(),
            p.story_id,
        ),
    )


def _reports(conn: Conn) -> dict[int, list[Report]]:
    rows = conn.execute(
        """
        SELECT a.story_id, a.article_id, a.title, a.url, o.outlet, a.language,
               coalesce(a.published_at, a.fetched_at) AS seen_at, a.is_seed,
               a.duplicate_kind, a.duplicate_of, a.similarity,
               coalesce(list(d.sentence ORDER BY d.position)
                        FILTER (WHERE d.sentence IS NOT NULL), []) AS developments
        FROM articles AS a
        JOIN article_outlets AS o USING (article_id)
        LEFT JOIN developments AS d USING (article_id)
        WHERE a.story_id IS NOT NULL
        GROUP BY ALL
        ORDER BY a.story_id, seen_at, a.article_id
        """
    ).fetchall()
    found: dict[int, list[Report]] = {}
    for story_id, *values in rows:
        found.setdefault(story_id, []).append(Report(*values))
    return found


def _figures(conn: Conn) -> dict[int, list[Series]]:
    """Per story, the whole series of each figure its articles state (seeds and other
    stories included: 900 → 1,800 → 4,200 is one series, whoever said 900)."""
    rows = conn.execute(
        """
        WITH stated AS (
            SELECT DISTINCT a.story_id, f.metric, f.unit
            FROM figures AS f JOIN articles AS a USING (article_id)
            WHERE a.story_id IS NOT NULL AND NOT a.is_seed
        )
        SELECT s.story_id, c.metric, c.unit, c.published_at, c.value, c.source
        FROM stated AS s
        JOIN figure_changes AS c
          ON c.metric = s.metric AND c.unit IS NOT DISTINCT FROM s.unit
        ORDER BY s.story_id, c.metric, c.unit, c.published_at NULLS FIRST, c.article_id
        """
    ).fetchall()
    found: dict[int, dict[tuple[str, str | None], list[Point]]] = {}
    for story_id, metric, unit, at, value, source in rows:
        found.setdefault(story_id, {}).setdefault((metric, unit), []).append(
            Point(at, value, source)
        )
    return {
        story_id: [Series(metric, unit, points) for (metric, unit), points in series.items()]
        for story_id, series in found.items()
    }
