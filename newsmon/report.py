"""How a poll's RunReport reads in the terminal, in the logs and as a Prefect artifact."""

from __future__ import annotations

from newsmon.records import FeedPoll, RunReport, StoredArticle


def run_failure(report: RunReport) -> str | None:
    """Why this run counts as failed, in one line with what to do; None when it did its job.

    A run fails when it could not store what it gathered, or when no feed worked: every
    feed polled failed, or none was due because all are backing off or disabled. A run in
    which some feeds failed is not failed: its summary lists them.
    """
    if report.spooled:
        return (
            "the database could not be written, so this run's records are spooled for the "
            "next run; close whatever holds the database (see the problems above)"
        )
    if report.feeds_polled and report.feeds_failed == report.feeds_polled:
        return (
            f"every feed polled failed ({report.feeds_failed} of {report.feeds_polled}); check "
            "the network and the errors above, then `newsmon status`"
        )
    if report.feeds_total and not report.feeds_polled:
        return (
            f"no feed was polled: all {report.feeds_total} are backing off after failures or "
            "disabled; check the network and `newsmon status`, or `newsmon poll --force`"
        )
    return None


def problems(report: RunReport) -> list[str]:
    """The errors of this run, then the feeds that wait after earlier failures."""
    return [*report.errors, *report.feeds_waiting]


def one_line_summary(report: RunReport) -> str:
    skipped = f", {report.feeds_skipped} skipped (backing off or disabled)"
    skipped = skipped if report.feeds_skipped else ""
    if not report.stored and not problems(report) and not report.pages_rejected + report.off_topic:
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
    if problems(report):
        lines.append("Problems (recorded; the rest of the run went on):")
        lines += [f"  {line}" for line in problems(report)]
    return "\n".join(lines)


def markdown_summary(report: RunReport) -> str:
    rows = [
        f"| {a.title or a.url} | {a.duplicate_kind or 'new'} | {_original(report, a)} | "
        f"{'' if a.similarity is None else f'{a.similarity:.2f}'} |"
        for a in report.stored
    ]
    errors = [f"- {e}" for e in problems(report)] or ["- none"]
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
                "notes": poll.bozo or "",
            }
        )
    return rows
