-- duplicate_of, duplicate_kind and similarity are set together or not at all; seeds are originals.
SELECT article_id, duplicate_of, duplicate_kind, similarity
FROM articles
WHERE (duplicate_of IS NULL) <> (duplicate_kind IS NULL)
   OR (duplicate_of IS NULL) <> (similarity IS NULL)
   OR (is_seed AND duplicate_of IS NOT NULL)
   OR (is_seed <> (seed_name IS NOT NULL));
