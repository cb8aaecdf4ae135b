-- 005_failures: what went wrong with one article, a feed, a channel or an archive record is
-- kept with it, so a run goes on and the next one does not trip on the same thing again.

-- An unexpected error while analysing one article: recorded here, the article is not
-- analysed again (set it back to NULL to retry after an upgrade). NULL: analysed fine.
ALTER TABLE articles ADD COLUMN analysis_error VARCHAR;

-- Feeds no longer in the feeds file: kept for history, out of the health table by default.
-- Cleared when the feed comes back to the file.
ALTER TABLE feeds ADD COLUMN removed_at TIMESTAMPTZ;

-- DuckDB cannot alter a CHECK constraint: rebuild deliveries with 'abandoned' (a removed
-- channel's delivery, given up on purpose by `newsmon digest --abandon-removed`).
CREATE TABLE deliveries_005 (
    digest_id     VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,               -- sha256 prefix of the apprise URL (a secret)
    channel_label VARCHAR NOT NULL,               -- scheme and host only, for people
    status        VARCHAR NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed',
                                                     'unconfirmed', 'abandoned')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    VARCHAR,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (digest_id, channel)
);
INSERT INTO deliveries_005 SELECT * FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_005 RENAME TO deliveries;

-- Damaged stretches of a backfilled archive, skipped to the next record that reads.
CREATE TABLE backfill_skips (
    source     VARCHAR NOT NULL,                  -- as in backfill_progress.source
    "offset"   BIGINT NOT NULL,                   -- byte offset where the damage starts
    length     BIGINT NOT NULL,                   -- bytes skipped to the next good record
    reason     VARCHAR NOT NULL,                  -- one line, as the reader said it
    skipped_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, "offset")
);
