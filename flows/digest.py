"""The digest flow: new developments since the last digest, grouped by story, delivered once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from newsmon.errors import ConfigError, RunFailedError
from newsmon.feedlist import load_topic_name
from newsmon.runlock import RunLockedError, run_lock
from newsmon.settings import Settings
from publish import channels, notify
from publish.render import Publication, render
from publish.site import SiteSummary, write_folder
from storage import digests
from storage.db import connect, open_database, open_reader


@dataclass(slots=True)
class DigestResult:
    """What one digest run did, for the CLI and the tests."""

    digest_id: str
    developments: int
    stories: int
    markdown: str
    recorded: bool  # False for a dry run, or an empty digest nobody asked for
    sent: list[str] = field(default_factory=list)  # channel labels
    failed: list[str] = field(default_factory=list)  # one line each: channel and reason
    unconfirmed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.recorded:
            what = (
                "nothing new, nothing sent" if not self.developments else "not recorded (dry run)"
            )
            return f"digest {self.digest_id}: {self.developments} developments; {what}."
        return (
            f"digest {self.digest_id}: {self.developments} developments in {self.stories} "
            f"stories; sent to {len(self.sent)} channels, {len(self.failed)} failed."
        )


@task(cache_policy=NO_CACHE)
def compose(
    settings: Settings, since: datetime | None, dry_run: bool, send_empty: bool
) -> DigestResult:
    """Gather and render the digest; unless a dry run, record it with a delivery per channel."""
    now = datetime.now(UTC)
    digest_id = f"{now:%Y%m%dT%H%M%S}.{now.microsecond:06d}Z"
    if dry_run:
        with open_reader(settings) as conn:
            digest = digests.gather(conn, digest_id, now, since)
        return _result(digest, render(digest, publication_of(settings)), recorded=False)
    with open_database(settings) as conn:
        interrupted = digests.mark_interrupted(conn, now)
        digest = digests.gather(conn, digest_id, now, since)
        rendered = render(digest, publication_of(settings))
        recorded = not digest.is_empty or send_empty
        if recorded:
            digests.record(conn, digest, rendered, _channels(settings))
    result = _result(digest, rendered, recorded)
    for delivery in interrupted:
        message = (
            f"digest {delivery.digest_id} to {delivery.channel_label} may or may not have arrived: "
            f"a run stopped while sending it; it is not sent again (see {settings.digest_dir})"
        )
        get_run_logger().warning(message)
        result.unconfirmed.append(message)
    return result


@task(cache_policy=NO_CACHE)
def deliver(settings: Settings) -> tuple[list[str], list[str]]:
    """Send every pending or failed delivery, this digest's and older ones', to its channel,
    in the messages its service takes (publish/channels.py); a delivery that failed half-way
    resumes at the first message not taken. Returns the labels of the channels reached,
    and one line per failure."""
    urls = {notify.channel_key(url): url for url in settings.notify_urls}
    publication = publication_of(settings)
    with open_database(settings) as conn:
        due = digests.due(conn, sorted(urls))
    sent: list[str] = []
    failed: list[str] = []
    for delivery in due:
        url = urls[delivery.channel]
        with open_database(settings) as conn:
            rendered = digests.rendered(conn, delivery.digest_id)
            digests.set_status(conn, delivery, "sending", datetime.now(UTC))
        messages = channels.messages_for(url, rendered, publication.digest_url(delivery.digest_id))
        taken, error = delivery.parts_sent, None
        for message in messages[taken:]:
            error = notify.send(url, message)
            if error:
                break
            taken += 1
            if taken < len(messages):
                with open_database(settings) as conn:
                    digests.set_status(
                        conn, delivery, "sending", datetime.now(UTC), parts_sent=taken
                    )
        with open_database(settings) as conn:
            digests.set_status(
                conn, delivery, "failed" if error else "sent", datetime.now(UTC), error, taken
            )
        if error:
            get_run_logger().warning("digest %s: %s", delivery.digest_id, error)
            failed.append(error)
        else:
            get_run_logger().info(
                "digest %s sent to %s in %d messages",
                delivery.digest_id,
                delivery.channel_label,
                len(messages),
            )
            sent.append(delivery.channel_label)
    return sent, failed


@task(cache_policy=NO_CACHE)
def write_files(settings: Settings) -> SiteSummary:
    """The digest folder: the recent digests' files, the Atom feed and the story pages."""
    with connect(settings.db_path, wait=settings.lock_wait) as conn:
        return write_folder(conn, settings.digest_dir, publication_of(settings), datetime.now(UTC))


def publication_of(settings: Settings) -> Publication:
    """The topic's name (the feeds file's [topic] name) and the public URL, for titles and links."""
    return Publication(load_topic_name(settings.feeds_path), settings.public_url)


def _channels(settings: Settings) -> dict[str, str]:
    """Each configured channel's key (a hash of its URL) and its label, as deliveries hold them."""
    return {notify.channel_key(url): notify.channel_label(url) for url in settings.notify_urls}


@task(cache_policy=NO_CACHE)
def queue_resend(settings: Settings, digest_id: str) -> DigestResult:
    """Queue a recorded digest again for every configured channel that has not received it."""
    channels = _channels(settings)
    with open_database(settings) as conn:
        try:
            rendered = digests.rendered(conn, digest_id)
        except KeyError:
            raise ConfigError(
                f"no digest {digest_id} in {settings.db_path}; the deliveries table lists them"
            ) from None
        queued = digests.queue_again(conn, digest_id, channels, datetime.now(UTC))
    get_run_logger().info("digest %s queued again for %d channels", digest_id, len(queued))
    return DigestResult(digest_id, 0, 0, rendered["markdown"], recorded=True)


def abandon_removed(settings: Settings) -> str:
    """Give up on the undelivered digests of channels no longer configured; says how many."""
    with open_database(settings) as conn:
        count = digests.abandon_other_channels(conn, list(_channels(settings)), datetime.now(UTC))
    return (
        f"{count} deliveries to channels no longer in NEWSMON_NOTIFY_URLS marked abandoned; "
        "the digests stay in the digest files and the digests table"
    )


@flow(name="digest")
def digest(
    since: datetime | None = None,
    dry_run: bool = False,
    send_empty: bool = False,
    resend: str | None = None,
    db_path: str | None = None,
) -> DigestResult | None:
    """Deliver the developments no digest has carried yet (first seen after `since`, if
    given) to every NEWSMON_NOTIFY_URLS channel, the digest files and the Atom feed.
    `resend` queues that recorded digest again for the channels that have not received it.

    Returns None when another run holds the database: this one is skipped. Ends Failed
    (RunFailedError, carrying the result) when a channel did not take its digest.
    """
    settings = Settings.from_env().replace(db_path=Path(db_path) if db_path else None)
    logger = get_run_logger()
    run_id = flow_run.get_id() or str(uuid.uuid4())
    if resend:
        try:
            with run_lock(settings.db_path, f"digest run {run_id}"):
                result = queue_resend(settings, resend)
                result.sent, result.failed = deliver(settings)
        except RunLockedError as exc:
            logger.warning(str(exc))
            return None
    elif dry_run:
        result = compose(settings, since, dry_run=True, send_empty=send_empty)
    else:
        try:
            with run_lock(settings.db_path, f"digest run {run_id}"):
                result = compose(settings, since, dry_run=False, send_empty=send_empty)
                # Also retries earlier digests' failed deliveries.
                result.sent, result.failed = deliver(settings)
                write_files(settings)  # the story pages change with every poll, digest or not
        except RunLockedError as exc:
            logger.warning(str(exc))
            return None
    logger.info(result.summary())
    publish_artifact(result, dry_run)
    if result.failed:
        message = f"{len(result.failed)} channels did not take the digest: " + "; ".join(
            result.failed
        )
        logger.error(message)
        raise RunFailedError(message, result)
    return result


def publish_artifact(result: DigestResult, dry_run: bool) -> None:
    """The digest where operators look, under a key that says what it was: 'digest' for one
    recorded (sent), 'digest-dry-run' for a preview; an empty digest nobody asked for
    publishes none (the log line says "nothing new")."""
    if dry_run:
        key, description = "digest-dry-run", "What the next digest would say (nothing sent)"
    elif result.recorded:
        key, description = "digest", "New developments in this digest"
    else:
        return
    create_markdown_artifact(key=key, markdown=result.markdown, description=description)


def _result(digest: digests.Digest, rendered: dict[str, str], recorded: bool) -> DigestResult:
    return DigestResult(
        digest_id=digest.digest_id,
        developments=len(digest.development_ids),
        stories=len(digest.stories),
        markdown=rendered["markdown"],
        recorded=recorded,
    )
