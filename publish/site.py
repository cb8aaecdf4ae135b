"""The static site in the digest folder: an index of stories and a page per story.

Plain files, no server and no script: the folder can be opened where it is, copied to any
web server (NEWSMON_PUBLIC_URL says where), or looked at with `newsmon site --serve`.
Each file is written whole and then renamed, so a reader never sees half a page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from publish import atom
from publish.chart import Chart, line_chart
from publish.render import HTML, Publication
from storage import digests
from storage.db import Conn
from storage.digests import Recorded
from storage.story_pages import StoryPage, story_pages

ATOM_ENTRIES = 50  # digests kept in developments.atom
_EXTENSIONS = {"markdown": "md", "html": "html", "json": "json"}

DUPLICATE_KINDS = {
    "url": "the same address",
    "exact": "an exact copy",
    "near": "a syndicated copy",
    "translation": "a translation",
}


@dataclass(frozen=True, slots=True)
class SiteSummary:
    folder: Path
    stories: int
    pages_written: int

    def summary(self) -> str:
        return (
            f"{self.stories} stories in {self.folder / 'index.html'} "
            f"({self.pages_written} pages written)"
        )


def write_folder(conn: Conn, folder: Path, publication: Publication, now: datetime) -> SiteSummary:
    """Everything in the digest folder, from the database: the recent digests' files (any a
    crashed run did not write), the Atom feed, the story pages. Reads only."""
    folder.mkdir(parents=True, exist_ok=True)
    recent = digests.recent(conn, ATOM_ENTRIES)
    for digest in recent:
        files = {kind: folder / f"{digest.digest_id}.{ext}" for kind, ext in _EXTENSIONS.items()}
        if not all(path.exists() for path in files.values()):
            for kind, text in digests.rendered(conn, digest.digest_id).items():
                _write(files[kind], text)
    atom.write_feed(folder / "developments.atom", recent, now, publication)
    return write_site(folder, story_pages(conn), recent, publication, now)


def write_site(
    folder: Path,
    stories: list[StoryPage],
    recent: list[Recorded],
    publication: Publication,
    now: datetime,
) -> SiteSummary:
    """index.html and stories/<story_id>.html in `folder`; a story merged into another gets
    a page that sends readers to it, so links already shared keep working."""
    (folder / "stories").mkdir(parents=True, exist_ok=True)
    standing = [s for s in stories if s.merged_into is None]
    written = 0
    for story in stories:
        template = "story.html.j2" if story.merged_into is None else "merged.html.j2"
        written += _write(
            folder / "stories" / f"{story.story_id}.html",
            HTML.get_template(template).render(_story_context(story, publication)),
        )
    index = HTML.get_template("index.html.j2").render(
        title=f"{publication.topic}: stories",
        stories=standing,
        digests=recent,
        feed="developments.atom" if (folder / "developments.atom").exists() else None,
        now=now,
    )
    written += _write(folder / "index.html", index)
    return SiteSummary(folder, len(standing), written)


def _story_context(story: StoryPage, publication: Publication) -> dict[str, Any]:
    charts: list[Chart] = [
        line_chart(series.label, [(p.at, p.value, p.source) for p in series.points])
        for series in story.figures
        if len(series.points) > 1
    ]
    return {
        "title": f"{story.title} — {publication.topic}",
        "story": story,
        "charts": charts,
        "kinds": DUPLICATE_KINDS,
        "originals": {r.article_id: r.outlet for r in story.originals},
        "seeds": {r.article_id: r.outlet for r in story.reports if r.is_seed},
    }


def _write(path: Path, text: str) -> int:
    """Write `path` unless it already says `text`; 1 if written. Unchanged pages keep their
    time stamps, so a web server's caches and an rsync to a public host stay cheap."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return 0
    except FileNotFoundError:
        pass
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return 1
