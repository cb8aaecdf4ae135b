-- 003_backfill: where each backfill source (a WARC file or a list of URLs) got to.

CREATE TABLE backfill_progress (
    source      VARCHAR PRIMARY KEY,              -- absolute path of the file, and its size
    position    BIGINT NOT NULL,                  -- byte offset (WARC) or line (URL list) to resume at
    records     BIGINT NOT NULL,                  -- records read so far
    stored      BIGINT NOT NULL,                  -- articles stored from them so far
    finished_at TIMESTAMPTZ,                      -- NULL while the file is not done
    updated_at  TIMESTAMPTZ NOT NULL
);
