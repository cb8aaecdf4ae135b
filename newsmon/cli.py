"""The `newsmon` command: poll, demo, digest, diff, status, backfill, serve, settings."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Before Prefect is imported: no usage analytics from the temporary API server.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "newsmon,extractors,storage")

from newsmon.errors import ConfigError, NewsmonError  # noqa: E402
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
        "serve", help="run the flows on the schedules in prefect.yaml, in this process"
    )
    serve.set_defaults(command=cmd_serve)

    status = sub.add_parser("status", help="feed health, last runs and article counts")
    status.add_argument("--db", type=Path, help="DuckDB file (default: NEWSMON_DB)")
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
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
        feeds_file = args.db.parent / "demo-feeds.toml"
        feeds_file.parent.mkdir(parents=True, exist_ok=True)
        feeds_file.write_bytes(site.render("/feeds.toml") or b"")
        print(f"Serving the sample site at {site.base_url}; polling it into {args.db}")
        return _run_poll(feeds_file=feeds_file, db_path=args.db)


def _run_poll(feeds_file: Path | None, db_path: Path | None, force: bool = False) -> int:
    from newsmon.feedlist import load_feeds

    # Fail on a wrong setting or feeds file before Prefect starts, in one line.
    load_feeds(Settings.from_env().replace(feeds_path=feeds_file).feeds_path)

    from flows.poll import poll_feeds
    from newsmon.report import text_summary

    try:
        report = poll_feeds(
            feeds_file=str(feeds_file) if feeds_file else None,
            db_path=str(db_path) if db_path else None,
            force=force,
        )
    except ConfigError:
        raise
    except Exception as exc:  # the flow itself failed: say so in one line, exit non-zero
        print(f"newsmon: the poll did not complete: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if report is None:
        print("newsmon: another run holds the database; this poll was skipped", file=sys.stderr)
        return 0
    print(text_summary(report))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    Settings.from_env()  # a wrong setting fails here, in one line
    from flows.digest import digest

    result = digest(
        since=args.since,
        dry_run=args.dry_run,
        send_empty=args.send_empty,
        db_path=str(args.db) if args.db else None,
    )
    if result is None:
        print("newsmon: another run holds the database; this digest was skipped", file=sys.stderr)
        return 0
    if args.dry_run or result.recorded:
        print(result.markdown)
    print(result.summary())
    for line in result.failed + result.unconfirmed:
        print(f"newsmon: {line}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_diff(args: argparse.Namespace) -> int:
    from publish.render import render_text
    from storage import digests
    from storage.db import connect

    settings = Settings.from_env().replace(db_path=args.db)
    if not settings.db_path.exists():
        raise ConfigError(f"no database at {settings.db_path} yet; run `newsmon poll` first")
    with connect(settings.db_path, read_only=True, wait=settings.lock_wait) as conn:
        now = datetime.now(UTC)
        found = digests.gather(conn, "diff", now, args.since, undelivered=False)
    print(render_text(found, f"What changed since {args.since:%Y-%m-%d %H:%M} UTC"), end="")
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
    if not args.path.is_file():
        raise ConfigError(f"{args.path}: no such file")
    Settings.from_env()  # a wrong setting fails here, in one line
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


def cmd_serve(args: argparse.Namespace) -> int:
    """Prefect's `serve`: the deployments' schedules without a work pool or a worker."""
    from prefect import serve
    from prefect.schedules import Cron

    from flows.backfill import backfill
    from flows.digest import digest
    from flows.poll import poll_feeds
    from newsmon.deployments import schedules

    Settings.from_env()  # a wrong setting fails here, not at the first scheduled run
    crons = {
        name: [Cron(s["cron"], timezone=s.get("timezone")) for s in entries]
        for name, entries in schedules().items()
    }
    serve(
        poll_feeds.to_deployment(name="poll-feeds", schedules=crons["poll-feeds"]),
        digest.to_deployment(name="digest", schedules=crons["digest"]),
        backfill.to_deployment(name="backfill", schedules=crons["backfill"]),
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from storage import queries
    from storage.db import open_database, schema_version

    settings = Settings.from_env().replace(db_path=args.db)
    if not settings.db_path.exists():
        print(f"newsmon: no database at {settings.db_path} yet; run `newsmon poll` first")
        return 1
    with open_database(settings) as conn:
        data = {
            "database": str(settings.db_path),
            "schema_version": schema_version(conn),
            "feeds": queries.feed_health(conn),
            "runs": queries.last_runs(conn),
            "articles": queries.article_counts(conn),
            "digests": queries.digest_status(conn),
        }
    if args.json:
        print(json.dumps(data, default=_json_default, indent=2, ensure_ascii=False))
        return 0
    print(f"{data['database']} (schema {data['schema_version']})\n")
    for row in data["feeds"]:
        moved = f"moved to {row['current_url']}" if row["current_url"] != row["url"] else None
        row["note"] = row["disabled_reason"] or row["last_error"] or moved
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
    digests = {k: _cell(v) for k, v in data["digests"].items()}
    print("  ".join(f"{key}={value}" for key, value in digests.items()))
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    from storage import queries
    from storage.db import open_database

    settings = Settings.from_env().replace(db_path=args.db)
    with open_database(settings) as conn:
        found = queries.enable_feed(conn, args.url)
    if not found:
        print(f"newsmon: no feed {args.url} in {settings.db_path}; see `newsmon status`")
        return 1
    print(f"{args.url} will be polled on the next run")
    return 0


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
    return text if len(text) <= 60 else text[:57] + "..."


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
