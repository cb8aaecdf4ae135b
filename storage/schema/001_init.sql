-- 001_init: feeds and their health, poll runs, articles, and the near-duplicate index.
-- Every timestamp is UTC. Ids are deterministic (a hash of the article's URL or
-- seed name), so a run that is repeated after a crash stores the same rows.

CREATE TABLE feeds (
    url                  VARCHAR PRIMARY KEY,     -- as written in the feeds file
    name                 VARCHAR NOT NULL,        -- label from the feeds file
    title                VARCHAR,                 -- the feed's own <title>
    etag                 VARCHAR,                 -- for the next conditional GET
    last_modified        VARCHAR,                 -- for the next conditional GET
    body_hash            VARCHAR,                 -- sha256 of the last body fully processed
    last_polled_at       TIMESTAMPTZ,
    last_status          INTEGER,                 -- HTTP status; NULL when no response came
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           VARCHAR                  -- one line: what went wrong, what to do
);

CREATE TABLE poll_runs (
    id             VARCHAR PRIMARY KEY,           -- the Prefect flow run id
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ NOT NULL,
    feeds_polled   INTEGER NOT NULL,
    feeds_failed   INTEGER NOT NULL,
    entries_seen   INTEGER NOT NULL,              -- entries in the feeds that changed
    articles_new   INTEGER NOT NULL,              -- originals stored
    duplicates     INTEGER NOT NULL,              -- copies stored with duplicate_of set
    pages_rejected INTEGER NOT NULL,              -- stored with a status other than 'ok'
    pages_failed   INTEGER NOT NULL               -- not stored; the next run tries again
);

CREATE TABLE articles (
    article_id     BIGINT PRIMARY KEY,
    url            VARCHAR UNIQUE,                -- entry link, canonical form; NULL for a seed without one
    canonical_url  VARCHAR,                       -- <link rel=canonical> on the same site, else url
    feed_url       VARCHAR,                       -- NULL for seeds
    guid           VARCHAR,                       -- the feed entry's id
    title          VARCHAR,
    author         VARCHAR,
    site_name      VARCHAR,
    language       VARCHAR,                       -- ISO 639-1 from <html lang> or Content-Language
    published_at   TIMESTAMPTZ,                   -- feed time, else page time; NULL if unknown
    fetched_at     TIMESTAMPTZ NOT NULL,
    status         VARCHAR NOT NULL DEFAULT 'ok'
                   CHECK (status IN ('ok', 'no_text', 'not_html', 'too_large', 'blocked', 'http_error')),
    text           VARCHAR,                       -- NFC, one line per paragraph; NULL unless status = 'ok'
    content_hash   VARCHAR,                       -- sha256 of the case-folded words of text
    is_seed        BOOLEAN NOT NULL DEFAULT false,
    seed_name      VARCHAR UNIQUE,                -- file name in seeds/
    duplicate_of   BIGINT,                        -- article_id of the first-seen original
    duplicate_kind VARCHAR CHECK (duplicate_kind IN ('url', 'exact', 'near')),
    similarity     DOUBLE,                        -- 1.0 for url/exact; max(Jaccard, containment) for near
    run_id         VARCHAR                        -- poll_runs.id; NULL for seeds
);
CREATE INDEX articles_canonical_url ON articles (canonical_url);
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_feed_guid ON articles (feed_url, guid);

-- MinHash signatures and their LSH band keys (see extractors/dedup.py).
CREATE TABLE article_signatures (
    article_id BIGINT PRIMARY KEY,
    shingles   INTEGER NOT NULL,                  -- size of the word 3-shingle set
    minhash    UINTEGER[] NOT NULL                -- 126 values
);
CREATE TABLE lsh_buckets (
    bucket     BIGINT NOT NULL,                   -- hash of one band of the signature
    article_id BIGINT NOT NULL
);
CREATE INDEX lsh_buckets_bucket ON lsh_buckets (bucket);
