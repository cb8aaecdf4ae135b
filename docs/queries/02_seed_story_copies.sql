-- Who carried each seed story, and how closely
SELECT original_seed_name, url, duplicate_kind, similarity
FROM duplicates
WHERE original_seed_name IS NOT NULL
ORDER BY original_seed_name, similarity DESC;
