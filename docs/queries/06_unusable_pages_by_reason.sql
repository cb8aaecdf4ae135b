-- Pages that could not be used, by reason
SELECT status, count(*) FROM articles WHERE status <> 'ok' GROUP BY status ORDER BY 2 DESC;
