-- 010_search: full-text search over stored articles (`newsmon search`), an index the writer
-- keeps: each article's words, stored in the same transaction as the article.
--
-- The index is fast because it is sorted by term: DuckDB skips every row group whose terms
-- cannot match. Rows appended since the last sort are read whole, so the writer sorts the
-- table again once they are a tenth of it (storage/search.py); search_index says when.

CREATE TABLE search_terms (
    term       VARCHAR NOT NULL,    -- a word as search_tokens() gives it
    article_id BIGINT NOT NULL,
    tf         USMALLINT NOT NULL   -- how many times the article's title and text say it
);

CREATE TABLE search_index (
    sorted_rows  BIGINT NOT NULL,   -- rows of search_terms in term order (the rest were appended since)
    compacted_at TIMESTAMPTZ        -- when search_terms was last sorted
);

-- The articles stored before this migration, indexed now (search_tokens() as it is today).
INSERT INTO search_terms
SELECT term, article_id, least(count(*), 65535)::USMALLINT
FROM (
    SELECT article_id,
           unnest(regexp_split_to_array(
               regexp_replace(lower(strip_accents(coalesce(title, '') || ' ' || text)), '\p{M}', '', 'g'),
               '[^\p{L}\p{N}]+')) AS term
    FROM articles
    WHERE text IS NOT NULL
)
WHERE term <> ''
GROUP BY ALL
ORDER BY term, article_id;

INSERT INTO search_index SELECT count(*), now() FROM search_terms;
