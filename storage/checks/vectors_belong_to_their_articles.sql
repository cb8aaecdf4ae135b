-- Every vector belongs to a stored article, a sentence's to an original, once a model, in
-- its article's story; only a seed's sentences have no said_at.
SELECT 'lead' AS kind, v.article_id, NULL AS position
FROM article_vectors AS v
LEFT JOIN articles AS a USING (article_id)
WHERE a.article_id IS NULL
UNION ALL
SELECT 'sentence', v.article_id, v.position
FROM sentence_vectors AS v
LEFT JOIN articles AS a USING (article_id)
WHERE a.article_id IS NULL
   OR a.duplicate_of IS NOT NULL
   OR v.story_id IS DISTINCT FROM a.story_id
   OR (v.said_at IS NULL) <> a.is_seed
UNION ALL
SELECT 'sentence', article_id, position
FROM sentence_vectors
GROUP BY article_id, position, model
HAVING count(*) > 1;
