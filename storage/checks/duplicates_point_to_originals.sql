-- A duplicate points to an existing original, never to another copy or to itself.
SELECT copy.article_id, copy.duplicate_of
FROM articles AS copy
LEFT JOIN articles AS original ON original.article_id = copy.duplicate_of
WHERE copy.duplicate_of IS NOT NULL
  AND (original.article_id IS NULL OR original.duplicate_of IS NOT NULL
       OR copy.duplicate_of = copy.article_id);
