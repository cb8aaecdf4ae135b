-- One row per feed, worst first: what an operator reads at a glance.
CREATE OR REPLACE VIEW feed_health AS
SELECT
    f.name,
    f.url,
    CASE
        WHEN f.last_polled_at IS NULL THEN 'never polled'
        WHEN f.consecutive_failures = 0 THEN 'ok'
        ELSE 'failing'
    END AS health,
    f.last_status,
    f.last_polled_at,
    f.consecutive_failures,
    f.last_error,
    count(a.article_id) FILTER (WHERE a.status = 'ok') AS articles,
    count(a.article_id) FILTER (WHERE a.duplicate_of IS NOT NULL) AS duplicates,
    max(a.fetched_at) AS last_article_at
FROM feeds AS f
LEFT JOIN articles AS a ON a.feed_url = f.url
GROUP BY ALL
ORDER BY f.consecutive_failures DESC, f.name;
