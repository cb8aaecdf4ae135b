"""The `newsmon` command: poll, demo, digest, diff, search, site, status, backfill, serve,
settings."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

# Before Prefect is imported: no usage analytics from the temporary API server.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "newsmon,extractors,storage")

from newsmon.errors import ConfigError, NewsmonError, RunFailedError  # noqa: E402
from newsmon.settings import Settings  # noqa: E402

DEMO_PORT = 8765
DEMO_DB = Path("data/demo.duckdb")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.command(args))
    except ConfigError as exc:
        print(f"newsmon: {exc}", file=sys.stderr)
        return 2
    except NewsmonError as exc:
        print(f"newsmon: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsmon",
        description="Poll news feeds, extract articles, deduplicate them against the seeds, "
        "and keep them in DuckDB.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    poll = sub.add_parser("poll", help="run one poll of every feed through the Prefect flow")
    poll.add_argument(
        "--feeds", type=Path, help="feeds file (default: NEWSMON_FEEDS or feeds.toml)"
    )
    poll.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    poll.add_argument(
        "--force", action="store_true", help="poll feeds that are backing off or disabled too"
    )
    poll.set_defaults(command=cmd_poll)

    demo = sub.add_parser(
        "demo", help="serve the bundled sample site on 127.0.0.1 and poll it once"
    )
    demo.add_argument("--port", type=int, default=DEMO_PORT, help=f"port (default {DEMO_PORT})")
    demo.add_argument("--db", type=Path, default=DEMO_DB, help=f"DuckDB file (default {DEMO_DB})")
    demo.add_argument(
        "--serve-only",
        action="store_true",
        help="only serve the sample site (until Ctrl-C), to try deployments without internet",
    )
    demo.set_defaults(command=cmd_demo)

    backfill = sub.add_parser(
        "backfill", help="store the articles of a WARC / WARC.gz file or of a list of URLs"
    )
    backfill.add_argument("path", type=Path, help="a .warc or .warc.gz file, or one URL per line")
    backfill.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    backfill.add_argument("--batch", type=int, default=200, help="records per transaction")
    backfill.add_argument(
        "--max-records", type=int, help="stop after about this many; the next run goes on"
    )
    backfill.set_defaults(command=cmd_backfill)

    serve = sub.add_parser(
        "serve",
        help="run the flows on the schedules in prefect.yaml, in this process, as the "
        "deployments <flow>/served (no work pool or worker needed)",
    )
    serve.set_defaults(command=cmd_serve)

    status = sub.add_parser("status", help="feed health, last runs and article counts")
    status.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    status.add_argument(
        "--all", action="store_true", help="list feeds removed from the feeds file too"
    )
    status.set_defaults(command=cmd_status)

    enable = sub.add_parser(
        "enable", help="poll a disabled or backing-off feed again from the next run"
    )
    enable.add_argument("url", help="the feed's URL, as in the feeds file or where it moved")
    enable.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    enable.set_defaults(command=cmd_enable)

    digest = sub.add_parser(
        "digest", help="deliver the new developments no digest has carried yet, once"
    )
    digest.add_argument(
        "--since", type=_when, help="only developments first seen since WHEN (2026-11-20, 24h, 7d)"
    )
    digest.add_argument(
        "--dry-run", action="store_true", help="print the digest; record and send nothing"
    )
    digest.add_argument(
        "--send-empty", action="store_true", help="record and send a digest even when empty"
    )
    digest.add_argument(
        "--resend",
        metavar="DIGEST_ID",
        help="send this recorded digest again to every channel configured now that has not "
        "received it (e.g. after fixing a wrong NEWSMON_NOTIFY_URLS)",
    )
    digest.add_argument(
        "--abandon-removed",
        action="store_true",
        help="give up on the undelivered digests of channels no longer in NEWSMON_NOTIFY_URLS",
    )
    digest.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    digest.set_defaults(command=cmd_digest)

    diff = sub.add_parser(
        "diff", help="developments and figure changes since WHEN, delivered or not"
    )
    diff.add_argument(
        "--since", type=_when, required=True, help="2026-11-20, 2026-11-20T08:00, 24h, 7d"
    )
    diff.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    diff.set_defaults(command=cmd_diff)

    search = sub.add_parser(
        "search", help='full-text search of the stored articles: every word, "a phrase"'
    )
    search.add_argument("query", help='words that must all occur; "quoted words" as a phrase')
    search.add_argument("--since", type=_when, help="published since WHEN (2026-11-20, 24h, 7d)")
    search.add_argument("--until", type=_when, help="published before WHEN")
    search.add_argument("--outlet", help="only this outlet (as newsmon status names it)")
    search.add_argument("--language", help="only this language (en, ar, he, fr ...)")
    search.add_argument("--story", type=int, metavar="STORY_ID", help="only this story")
    search.add_argument(
        "--originals", action="store_true", help="leave out copies and translations"
    )
    search.add_argument("--limit", type=int, default=20, help="results shown (default 20)")
    search.add_argument("--json", action="store_true", help="one JSON object per result")
    search.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    search.set_defaults(command=cmd_search)

    site = sub.add_parser(
        "site", help="write the story pages, the Atom feed and the digests' files (a static site)"
    )
    site.add_argument(
        "--serve", action="store_true", help="then serve them on 127.0.0.1 until Ctrl-C"
    )
    site.add_argument("--port", type=int, default=8000, help="port for --serve (default 8000)")
    site.add_argument("--out", type=Path, help="folder to write (default: NEWSMON_DIGEST_DIR)")
    site.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    site.set_defaults(command=cmd_site)

    story = sub.add_parser(
        "story", help="merge two stories, or split articles off one (recorded in story_edits)"
    )
    edits = story.add_subparsers(dest="edit", required=True, metavar="merge|split")
    merge = edits.add_parser("merge", help="story MERGED becomes part of story KEPT")
    merge.add_argument("kept", type=int, metavar="KEPT", help="the story_id that stays")
    merge.add_argument("merged", type=int, metavar="MERGED", help="the story_id merged into it")
    split = edits.add_parser("split", help="articles leave STORY for a story of their own")
    split.add_argument("story", type=int, metavar="STORY", help="the story_id they leave")
    split.add_argument(
        "articles", type=int, nargs="+", metavar="ARTICLE", help="article_ids (originals)"
    )
    for edit in (merge, split):
        edit.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    story.set_defaults(command=cmd_story)

    settings = sub.add_parser("settings", help="every NEWSMON_* setting and its current value")
    settings.set_defaults(command=cmd_settings)
    return parser


def cmd_poll(args: argparse.Namespace) -> int:
    return _run_poll(feeds_file=args.feeds, db_path=args.db, force=args.force)


def cmd_demo(args: argparse.Namespace) -> int:
    from newsmon.samplesite import SAMPLES_DIR, SiteServer

    try:
        site = SiteServer([SAMPLES_DIR / "site"], port=args.port)
    except OSError as exc:
        print(f"newsmon: port {args.port} is busy ({exc}); pass --port N", file=sys.stderr)
        return 2
    # The sample site is on the loopback interface, which polls refuse by default,
    # and it is our own: no need to space requests to it.
    os.environ["NEWSMON_ALLOW_PRIVATE_HOSTS"] = "true"
    os.environ.setdefault("NEWSMON_HOST_DELAY", "0")
    with site:
        feeds_file = (args.db.parent / "demo-feeds.toml").resolve()
        feeds_file.parent.mkdir(parents=True, exist_ok=True)
        feeds_file.write_bytes(site.render("/feeds.toml") or b"")
        if args.serve_only:
            return _serve_sample_site(site.base_url, feeds_file)
        print(f"Serving the sample site at {site.base_url}; polling it into {args.db}")
        return _run_poll(feeds_file=feeds_file, db_path=args.db)


def _serve_sample_site(base_url: str, feeds_file: Path) -> int:
    """Keep the sample site up for a worker or `newsmon serve` started in another shell."""
    print(
        f"Serving the sample site at {base_url} until Ctrl-C. Its feeds file: {feeds_file}\n"
        "In the shell that runs the worker (or `newsmon serve`), set:\n"
        f"  export NEWSMON_FEEDS={feeds_file}\n"
        "  export NEWSMON_ALLOW_PRIVATE_HOSTS=127.0.0.1/32 NEWSMON_HOST_DELAY=0",
        flush=True,
    )
    # Ctrl-C, or SIGTERM from a service manager; set here, since a shell that started us in
    # the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def _run_poll(feeds_file: Path | None, db_path: Path | None, force: bool = False) -> int:
    from newsmon.feedlist import check_feeds_file

    # Fail on a wrong setting or feeds file before Prefect starts, in one line.
    settings = Settings.from_env().replace(feeds_path=feeds_file, db_path=db_path)
    settings.check_ready()
    check_feeds_file(settings.feeds_path)

    from flows.poll import poll_feeds
    from newsmon.report import text_summary

    state = poll_feeds(
        feeds_file=str(feeds_file) if feeds_file else None,
        db_path=str(db_path) if db_path else None,
        force=force,
        return_state=True,
    )
    report, failure = _flow_result(state, "poll")
    if report is None:
        print("newsmon: another run holds the database; this poll was skipped", file=sys.stderr)
        return 0
    print(text_summary(report))
    if failure:
        print(f"newsmon: this poll failed: {failure}", file=sys.stderr)
        return 1
    return 0


def _flow_result(state: Any, what: str) -> tuple[Any, RunFailedError | None]:
    """What a flow run returned, and the RunFailedError it ended with if it failed at its
    job (its result is then the error's). Any other failure is raised as a NewsmonError,
    for main() to print in one line."""
    if state.is_completed():
        return state.result(), None
    failure = state.result(raise_on_failure=False)
    if isinstance(failure, RunFailedError):
        return failure.result, failure
    if isinstance(failure, NewsmonError):
        raise failure
    raise NewsmonError(f"the {what} did not complete: {type(failure).__name__}: {failure}")


def cmd_digest(args: argparse.Namespace) -> int:
    settings = Settings.from_env().replace(db_path=args.db)  # a wrong setting fails here
    from flows.digest import abandon_removed, digest

    if args.abandon_removed:
        print(abandon_removed(settings))
        return 0
    state = digest(
        since=args.since,
        dry_run=args.dry_run,
        send_empty=args.send_empty,
        resend=args.resend,
        db_path=str(args.db) if args.db else None,
        return_state=True,
    )
    result, _ = _flow_result(state, "digest")
    if result is None:
        print("newsmon: another run holds the database; this digest was skipped", file=sys.stderr)
        return 0
    if args.dry_run or (result.recorded and not args.resend):
        print(result.markdown)
    print(result.summary())
    for line in result.failed + result.unconfirmed:
        print(f"newsmon: {line}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_diff(args: argparse.Namespace) -> int:
    from publish.render import render_text
    from storage import digests
    from storage.db import open_reader

    settings = Settings.from_env().replace(db_path=args.db)
    with open_reader(settings) as conn:
        now = datetime.now(UTC)
        found = digests.gather(conn, "diff", now, args.since, undelivered=False)
    print(render_text(found, f"What changed since {args.since:%Y-%m-%d %H:%M} UTC"), end="")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from publish.render import ids_as_strings
    from storage.db import open_reader
    from storage.search import Filters, search

    settings = Settings.from_env().replace(db_path=args.db)
    filters = Filters(
        args.since, args.until, args.outlet, args.language, args.story, args.originals
    )
    with open_reader(settings) as conn:
        hits = search(conn, args.query, filters, max(1, args.limit))
    for hit in hits:
        if args.json:
            print(
                json.dumps(ids_as_strings(asdict(hit)), ensure_ascii=False, default=_json_default)
            )
            continue
        kind = f" ({hit.duplicate_kind} copy)" if hit.duplicate_kind else ""
        print(
            f"{hit.score:5.2f}  {hit.published_at:%Y-%m-%d}  {hit.outlet} · "
            f"{hit.language or '?'}{kind}  story {hit.story_id}\n"
            f"       {hit.title or '(untitled)'}\n       {hit.url or ''}\n       {hit.snippet}\n"
        )
    if not args.json:
        print(f"{len(hits)} articles{' (the best ones)' if len(hits) == args.limit else ''}.")
    return 0


def cmd_site(args: argparse.Namespace) -> int:
    """The digest folder written from the database, read-only: runs beside the pipeline."""
    from flows.digest import publication_of
    from publish.site import write_folder
    from storage.db import open_reader

    settings = Settings.from_env().replace(db_path=args.db, digest_dir=args.out)
    with open_reader(settings) as conn:
        written = write_folder(
            conn, settings.digest_dir, publication_of(settings), datetime.now(UTC)
        )
    print(written.summary())
    if args.serve:
        return _serve_folder(settings.digest_dir, args.port)
    return 0


def _serve_folder(folder: Path, port: int) -> int:
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve on 127.0.0.1:{port} ({exc.strerror}); pick another with --port"
        ) from None
    print(f"Serving {folder} at http://127.0.0.1:{port}/ until Ctrl-C", flush=True)
    with server:
        server.serve_forever()
    return 0


def _when(raw: str) -> datetime:
    """A point in time from the command line: a date, a UTC time, or a span back from now."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", raw)
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(match.group(1))})
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a time: give a date (2026-11-20), a UTC time "
            "(2026-11-20T08:00) or a span back from now (90m, 24h, 7d, 2w)"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def cmd_backfill(args: argparse.Namespace) -> int:
    from extractors.archive import detect_format

    if not args.path.is_file():
        raise ConfigError(f"{args.path}: no such file")
    Settings.from_env()  # a wrong setting fails here, in one line
    detect_format(args.path)  # so does a file that is neither an archive nor a URL list
    from flows.backfill import backfill

    report = backfill(
        path=str(args.path),
        db_path=str(args.db) if args.db else None,
        batch_size=args.batch,
        max_records=args.max_records,
        show_progress=sys.stderr.isatty(),
    )
    print(report.summary())
    return 0


SERVED = "served"  # deployment name of every flow `newsmon serve` runs


def cmd_serve(args: argparse.Namespace) -> int:
    """Prefect's `serve`: the deployments' schedules without a work pool or a worker.

    Its deployments are named <flow>/served, never those of `prefect deploy` (poll-feeds/
    poll-feeds, ...): Ctrl-C pauses only its own, and a worker's deployments keep their
    source and schedule. Running both at once would poll twice; the run lock makes the
    second run of a pair skip.
    """
    from prefect import serve
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    from flows.backfill import backfill
    from flows.digest import digest
    from flows.poll import poll_feeds
    from newsmon.deployments import schedules

    Settings.from_env().check_ready()  # a wrong setting fails here, not at a scheduled run
    crons = {
        name: [Cron(s["cron"], timezone=s.get("timezone")) for s in entries]
        for name, entries in schedules().items()
    }
    print(
        "Serving poll-feeds/served, digest/served and backfill/served on the schedules in "
        "prefect.yaml until Ctrl-C (which pauses these three only).",
        flush=True,
    )
    deployments = [
        poll_feeds.to_deployment(name=SERVED, schedules=crons["poll-feeds"]),
        digest.to_deployment(name=SERVED, schedules=crons["digest"]),
        backfill.to_deployment(name=SERVED, schedules=crons["backfill"]),
    ]
    # to_deployment is "sync compatible": called from sync code it returns the deployment.
    serve(*cast(list[RunnerDeployment], deployments))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from storage import articles, digests, runs, sources
    from storage.db import open_reader, schema_version

    settings = Settings.from_env().replace(db_path=args.db)
    with open_reader(settings) as conn:
        data: dict[str, Any] = {
            "database": str(settings.db_path),
            "schema_version": schema_version(conn),
            "feeds": sources.feed_health(conn, include_removed=args.all),
            "runs": runs.last_runs(conn),
            "articles": articles.article_counts(conn),
            "digests": digests.digest_status(conn),
        }
    if args.json:
        print(json.dumps(data, default=_json_default, indent=2, ensure_ascii=False))
        return 0
    print(f"{data['database']} (schema {data['schema_version']})\n")
    for row in data["feeds"]:
        moved = f"moved to {row['current_url']}" if row["current_url"] != row["url"] else None
        row["note"] = row["disabled_reason"] or _reason(row["last_error"], row) or moved
        row["failures"] = row["consecutive_failures"]
    print(
        _table(
            data["feeds"],
            [
                "health",
                "name",
                "last_status",
                "last_success_at",
                "next_poll_at",
                "failures",
                "articles",
                "duplicates",
                "note",
            ],
        )
    )
    print()
    print(
        _table(
            data["runs"],
            [
                "started_at",
                "feeds_polled",
                "feeds_failed",
                "feeds_skipped",
                "entries_seen",
                "articles_new",
                "duplicates",
                "pages_rejected",
                "pages_failed",
                "spooled",
            ],
        )
    )
    print()
    print("  ".join(f"{key}={value}" for key, value in data["articles"].items()))
    delivery = {k: _cell(v) for k, v in data["digests"].items()}
    print("  ".join(f"{key}={value}" for key, value in delivery.items()))
    return 0


def _reason(error: str | None, feed: dict[str, Any]) -> str | None:
    """An error without the feed's own URL in front: the row names the feed already."""
    if not error:
        return None
    for url in (feed["current_url"], feed["url"]):
        if url and url in error:
            error = error.replace(f"Feed {url} ", "").replace(f"{url}: ", "").replace(url, "…")
    return error


def cmd_enable(args: argparse.Namespace) -> int:
    from storage import sources
    from storage.db import open_database

    settings = Settings.from_env().replace(db_path=args.db)
    with open_database(settings) as conn:
        found = sources.enable_feed(conn, args.url)
    if not found:
        print(f"newsmon: no feed {args.url} in {settings.db_path}; see `newsmon status`")
        return 1
    print(f"{args.url} will be polled on the next run")
    return 0


def cmd_story(args: argparse.Namespace) -> int:
    """Analysts' story edits; later articles respect them (docs/querying.md)."""
    from datetime import UTC, datetime

    from storage.db import open_database
    from storage.stories import merge_stories, split_story

    settings = Settings.from_env().replace(db_path=args.db)
    now = datetime.now(UTC)
    with open_database(settings) as conn:
        if args.edit == "merge":
            moved = merge_stories(conn, args.kept, args.merged, now)
            print(f"story {args.merged} merged into story {args.kept}: {_articles(moved)} moved")
            return 0
        from extractors.seeds import load_seeds
        from newsmon.feedlist import load_topic

        seeds = load_seeds(settings.seeds_path)
        topic = load_topic(settings.feeds_path, [seed.text for seed in seeds])
        new_id, moved = split_story(conn, args.story, args.articles, topic, now)
    print(f"story {new_id} split off story {args.story}: {_articles(moved)} moved")
    return 0


def _articles(ids: list[int]) -> str:
    return f"{len(ids)} article" + ("" if len(ids) == 1 else "s")


def cmd_settings(args: argparse.Namespace) -> int:
    for variable, doc, value in Settings.from_env().shown():
        print(f"{variable}={value}    # {doc}")
    return 0


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text if len(text) <= 100 else text[:99] + "…"


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain-text table; timestamps to the minute, long cells cut."""

    if not rows:
        return "(none yet)"
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


if __name__ == "__main__":
    sys.exit(main())
