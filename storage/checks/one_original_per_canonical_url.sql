-- Two originals (not duplicates) may not share a canonical URL.
SELECT canonical_url, count(*) AS originals
FROM articles
WHERE duplicate_of IS NULL AND canonical_url IS NOT NULL
GROUP BY canonical_url
HAVING count(*) > 1;
