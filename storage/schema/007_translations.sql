-- 007_translations: an article may be a translation of another ('translation' in
-- duplicate_kind), and relevant originals keep the embedding of their lead.

-- DuckDB cannot alter a CHECK constraint: rebuild articles with 'translation'.
CREATE TABLE articles_007 (
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
    duplicate_kind VARCHAR CHECK (duplicate_kind IN ('url', 'exact', 'near', 'translation')),
    similarity     DOUBLE,                        -- url/exact/near: MinHash estimate; translation: CSLS score
    run_id         VARCHAR,
    relevance      DOUBLE,                        -- 0 to 1 (see analysis/topic.py); NULL until analysed
    story_id       BIGINT,                        -- stories.story_id; NULL when not relevant
    analysis_error VARCHAR                        -- why its analysis failed; NULL when it did not
);
INSERT INTO articles_007 SELECT * FROM articles;
DROP TABLE articles;
ALTER TABLE articles_007 RENAME TO articles;
CREATE INDEX articles_canonical_url ON articles (canonical_url);
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_feed_guid ON articles (feed_url, guid);
CREATE INDEX articles_story ON articles (story_id);

-- The lead (headline and start of the text) of each relevant original and seed, embedded by
-- NEWSMON_EMBEDDER's model; later articles are compared with it to find translations.
CREATE TABLE article_vectors (
    article_id BIGINT PRIMARY KEY,                -- articles.article_id
    model      VARCHAR NOT NULL,                  -- the embedder's name: vectors of two models are never compared
    language   VARCHAR,                           -- articles.language when it was embedded
    numbers    VARCHAR[] NOT NULL,                -- the numbers its text states, digits only
    vector     FLOAT[] NOT NULL                   -- unit length
);
