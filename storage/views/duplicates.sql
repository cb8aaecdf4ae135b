-- Every stored copy next to the original it copies (a seed or the first-seen article).
CREATE OR REPLACE VIEW duplicates AS
SELECT
    copy.article_id,
    copy.url,
    copy.duplicate_of,
    original.url       AS original_url,
    original.seed_name AS original_seed_name,
    copy.duplicate_kind,
    copy.similarity
FROM articles AS copy
JOIN articles AS original ON original.article_id = copy.duplicate_of
WHERE copy.duplicate_of IS NOT NULL;
