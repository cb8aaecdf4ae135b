-- 002_feed_health_robots: feed backoff and moves, robots.txt rules, the 'blocked_by_robots' status.

ALTER TABLE feeds ADD COLUMN current_url VARCHAR;        -- polled address: url, or a 301/308 target
UPDATE feeds SET current_url = url;
ALTER TABLE feeds ADD COLUMN last_success_at TIMESTAMPTZ;
ALTER TABLE feeds ADD COLUMN next_poll_at TIMESTAMPTZ;   -- NULL: every run; else backing off until then
ALTER TABLE feeds ADD COLUMN disabled_at TIMESTAMPTZ;    -- set by 410 Gone; `newsmon enable URL` clears it
ALTER TABLE feeds ADD COLUMN disabled_reason VARCHAR;
UPDATE feeds SET last_success_at = last_polled_at WHERE consecutive_failures = 0;

ALTER TABLE poll_runs ADD COLUMN feeds_skipped INTEGER NOT NULL DEFAULT 0;  -- backing off or disabled
ALTER TABLE poll_runs ADD COLUMN spooled BOOLEAN NOT NULL DEFAULT false;    -- stored later from the spool

-- robots.txt of every host pages were fetched from, refreshed once a day.
CREATE TABLE robots_txt (
    origin     VARCHAR PRIMARY KEY,               -- scheme://host[:port]
    fetched_at TIMESTAMPTZ NOT NULL,
    status     INTEGER,                           -- HTTP status of /robots.txt
    body       VARCHAR                            -- NULL: no rules (4xx), everything allowed
);

-- DuckDB cannot alter a CHECK constraint: rebuild articles with the new status list.
CREATE TABLE articles_002 (
    article_id     BIGINT PRIMARY KEY,
    url            VARCHAR UNIQUE,
    canonical_url  VARCHAR,
    feed_url       VARCHAR,
    guid           VARCHAR,
    title          VARCHAR,
    author         VARCHAR,
    site_name      VARCHAR,
    language       VARCHAR,
    published_at   TIMESTAMPTZ,
    fetched_at     TIMESTAMPTZ NOT NULL,
    status         VARCHAR NOT NULL DEFAULT 'ok'
                   CHECK (status IN ('ok', 'no_text', 'not_html', 'too_large', 'blocked',
                                     'blocked_by_robots', 'http_error')),
    text           VARCHAR,
    content_hash   VARCHAR,
    is_seed        BOOLEAN NOT NULL DEFAULT false,
    seed_name      VARCHAR UNIQUE,
    duplicate_of   BIGINT,
    duplicate_kind VARCHAR CHECK (duplicate_kind IN ('url', 'exact', 'near')),
    similarity     DOUBLE,
    run_id         VARCHAR
);
INSERT INTO articles_002 SELECT * FROM articles;
DROP TABLE articles;
ALTER TABLE articles_002 RENAME TO articles;
CREATE INDEX articles_canonical_url ON articles (canonical_url);
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_feed_guid ON articles (feed_url, guid);
