-- Two originals may not have the same normalized text.
SELECT content_hash, count(*) AS originals
FROM articles
WHERE duplicate_of IS NULL AND content_hash IS NOT NULL
GROUP BY content_hash
HAVING count(*) > 1;
