-- 004_developments: relevance and stories on articles, the facts already known, the
-- developments (sentences with new facts), figures, and the digests that deliver them.

-- DuckDB cannot alter a CHECK constraint: rebuild articles with 'off_topic' and two columns.
CREATE TABLE articles_004 (
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
                                     'blocked_by_robots', 'http_error', 'off_topic')),
    text           VARCHAR,
    content_hash   VARCHAR,
    is_seed        BOOLEAN NOT NULL DEFAULT false,
    seed_name      VARCHAR UNIQUE,
    duplicate_of   BIGINT,
    duplicate_kind VARCHAR CHECK (duplicate_kind IN ('url', 'exact', 'near')),
    similarity     DOUBLE,
    run_id         VARCHAR,
    relevance      DOUBLE,                        -- 0 to 1 (see extractors/topic.py); NULL until analysed
    story_id       BIGINT                         -- stories.story_id; NULL when not relevant
);
INSERT INTO articles_004 SELECT *, NULL, NULL FROM articles;
DROP TABLE articles;
ALTER TABLE articles_004 RENAME TO articles;
CREATE INDEX articles_canonical_url ON articles (canonical_url);
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_feed_guid ON articles (feed_url, guid);
CREATE INDEX articles_story ON articles (story_id);

ALTER TABLE poll_runs ADD COLUMN off_topic INTEGER NOT NULL DEFAULT 0;     -- entries not fetched: off topic
ALTER TABLE poll_runs ADD COLUMN developments INTEGER NOT NULL DEFAULT 0;  -- sentences with new facts

-- Articles about the same event. A copy joins its original's story.
CREATE TABLE stories (
    story_id      BIGINT PRIMARY KEY,             -- article_id of the article that opened it
    title         VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_event_at TIMESTAMPTZ,                    -- latest article time (published, else fetched); NULL for seeds
    terms         VARCHAR NOT NULL                -- JSON {word: weight} the next articles are compared with
);

-- Every fact stated so far (a figure, a name, a quote): the index novelty looks up.
CREATE TABLE facts (
    fact_key      BIGINT PRIMARY KEY,             -- 63-bit hash of kind:text
    kind          VARCHAR NOT NULL CHECK (kind IN ('figure', 'name', 'quote', 'term')),
    text          VARCHAR NOT NULL,               -- 'aid_trucks=900', 'majed ansari', ...
    article_id    BIGINT NOT NULL,                -- the first article that stated it
    first_seen_at TIMESTAMPTZ NOT NULL
);

-- Sentences of relevant originals that state something not stated before.
CREATE TABLE developments (
    development_id BIGINT PRIMARY KEY,            -- hash of article_id and position
    article_id     BIGINT NOT NULL,
    story_id       BIGINT,
    position       INTEGER NOT NULL,              -- sentence number in the article, from 0
    sentence       VARCHAR NOT NULL,
    novelty        DOUBLE NOT NULL,               -- share of the sentence's facts that were new
    new_facts      VARCHAR[] NOT NULL,            -- those facts, as kind:text
    first_seen_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX developments_first_seen ON developments (first_seen_at);

-- Quantities with what they count, from seeds and relevant originals.
CREATE TABLE figures (
    article_id   BIGINT NOT NULL,
    position     INTEGER NOT NULL,                -- sentence number in the article
    metric       VARCHAR NOT NULL,                -- 'aid_trucks', 'fuel', 'people', ...
    value        DOUBLE NOT NULL,
    unit         VARCHAR,                         -- 'liters', 'percent', 'usd', ...; NULL for a count
    sentence     VARCHAR NOT NULL,
    published_at TIMESTAMPTZ                      -- article's time (published, else fetched); NULL for seeds
);
CREATE INDEX figures_metric ON figures (metric);

-- One row per digest; a development belongs to one digest at most.
CREATE TABLE digests (
    digest_id    VARCHAR PRIMARY KEY,             -- UTC time of creation, 20261123T100000Z
    created_at   TIMESTAMPTZ NOT NULL,
    watermark    TIMESTAMPTZ,                     -- latest first_seen_at among its developments
    developments INTEGER NOT NULL,
    stories      INTEGER NOT NULL,
    markdown     VARCHAR NOT NULL,
    html         VARCHAR NOT NULL,
    json         VARCHAR NOT NULL
);
CREATE TABLE digest_items (
    development_id BIGINT PRIMARY KEY,
    digest_id      VARCHAR NOT NULL
);

-- Each digest to each notification channel: recorded before and after sending.
CREATE TABLE deliveries (
    digest_id     VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,               -- sha256 prefix of the apprise URL (a secret)
    channel_label VARCHAR NOT NULL,               -- scheme and host only, for people
    status        VARCHAR NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unconfirmed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    VARCHAR,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (digest_id, channel)
);
