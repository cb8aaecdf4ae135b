-- 011_sentence_vectors: novelty by meaning. The first sentences of each relevant original and
-- seed are embedded (analysis/meaning.py, SAID_SENTENCES of them, SAID_CHARS in all), so a
-- later sentence that says the same thing in other words or another language is no
-- development, and one that says something new is, with or without a new fact.

CREATE TABLE sentence_vectors (
    article_id BIGINT NOT NULL,                   -- articles.article_id
    position   INTEGER NOT NULL,                  -- sentence number in the article, from 0 (as developments.position)
    story_id   BIGINT,                            -- the article's story (moved with it by `newsmon story merge/split`)
    model      VARCHAR NOT NULL,                  -- the embedder's name: vectors of two models are never compared
    said_at    TIMESTAMPTZ,                       -- published, else fetched; NULL for a seed
    vector     FLOAT[] NOT NULL                   -- unit length
);

-- The cosine of a development with the closest sentence said before it in its story
-- (NULL when facts alone decided: the sentence was not embedded, or its story had said nothing).
ALTER TABLE developments ADD COLUMN said_similarity DOUBLE;

-- A changed seed used to leave its old lead behind, so its new version failed every analysis
-- (duplicate key). A lead is stored in the transaction that analyses its article: the lead of
-- an article still waiting for analysis is such a leftover.
DELETE FROM article_vectors
WHERE article_id IN (
    SELECT article_id FROM articles WHERE relevance IS NULL AND analysis_error IS NULL
);
