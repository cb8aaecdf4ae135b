"""How a poll's RunReport reads in the terminal, in the logs and as a Prefect artifact."""

from __future__ import annotations

from extractors.collect import FeedPoll
from storage.writer import RunReport, StoredArticle


def one_line_summary(report: RunReport) -> str:
    skipped = f", {report.feeds_skipped} skipped (backing off or disabled)"
    skipped = skipped if report.feeds_skipped else ""
    if not report.stored and not report.errors and not report.pages_rejected + report.off_topic:
        seen = f", {report.entries_seen} entries all stored before" if report.entries_seen else ""
        return (
            f"Nothing new: {report.feeds_polled} feeds polled{skipped}, "
            f"{report.feeds_unchanged} unchanged since the last poll{seen}."
        )
    off_topic = f"{report.off_topic} off topic (not fetched), " if report.off_topic else ""
    if report.spooled and not report.stored:
        return (
            f"{report.feeds_polled} feeds polled{skipped}, {report.entries_seen} entries seen; "
            "the database was locked, so the next run stores them (see the problems below)."
        )
    return (
        f"{report.feeds_polled} feeds polled ({report.feeds_failed} failed, "
        f"{report.feeds_unchanged} unchanged{skipped}), {report.entries_seen} entries seen, "
        f"{report.articles_new} new articles ({report.developments} new developments), "
        f"{report.duplicates} duplicates, {report.pages_rejected} pages stored without text, "
        f"{off_topic}{report.pages_failed} pages left for the next run."
    )


def _original(report: RunReport, article: StoredArticle) -> str:
    if article.duplicate_of is None:
        return ""
    return report.originals.get(article.duplicate_of, str(article.duplicate_of))


def text_summary(report: RunReport) -> str:
    lines = [f"poll-feeds run {report.run_id}", one_line_summary(report)]
    new = [a for a in report.stored if a.duplicate_kind is None]
    copies = [a for a in report.stored if a.duplicate_kind is not None]
    if new:
        lines.append("New articles:")
        lines += [f"  {a.title or '(no title)'}  <{a.url}>" for a in new]
    if copies:
        lines.append("Duplicates:")
        lines += [
            f"  {a.url}  is a {a.duplicate_kind} copy of {_original(report, a)}"
            f"  (similarity {a.similarity:.2f})"
            for a in copies
        ]
    if report.errors:
        lines.append("Problems (recorded; the rest of the run went on):")
        lines += [f"  {error}" for error in report.errors]
    return "\n".join(lines)


def markdown_summary(report: RunReport) -> str:
    rows = [
        f"| {a.title or a.url} | {a.duplicate_kind or 'new'} | {_original(report, a)} | "
        f"{'' if a.similarity is None else f'{a.similarity:.2f}'} |"
        for a in report.stored
    ]
    errors = [f"- {e}" for e in report.errors] or ["- none"]
    return "\n".join(
        [
            "# Poll summary",
            "",
            one_line_summary(report),
            "",
            "| article | kind | copy of | similarity |",
            "|---|---|---|---|",
            *rows,
            "",
            "## Problems",
            *errors,
        ]
    )


def feed_table(report: RunReport, polls: list[FeedPoll]) -> list[dict[str, object]]:
    """One row per polled feed, for the Prefect table artifact."""
    rows = []
    for poll in polls:
        stored = [a for a in report.stored if a.feed_url == poll.feed.url]
        if poll.failed:
            status = f"failed ({poll.status or 'no response'})"
        elif poll.not_modified:
            status = "not modified"
        else:
            status = "ok"
        if poll.moved_to:
            status += f", moved to {poll.moved_to}"
        rows.append(
            {
                "feed": poll.feed.name,
                "status": status,
                "entries": len(poll.items),
                "new": sum(a.duplicate_kind is None for a in stored),
                "duplicates": sum(a.duplicate_kind is not None for a in stored),
                "error": poll.error or "",
            }
        )
    return rows
