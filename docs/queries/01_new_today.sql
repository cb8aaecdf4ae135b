-- What is new today, originals only, newest first
SELECT published_at, site_name, title, url
FROM articles
WHERE status = 'ok' AND duplicate_of IS NULL AND NOT is_seed
  AND fetched_at >= current_date
ORDER BY published_at DESC;
