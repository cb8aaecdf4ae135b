-- One row per feed, worst first: what an operator reads at a glance.
-- health: 'disabled' (410 Gone; `newsmon enable URL`), 'failing' (due again now),
-- 'backing off' (failing, paused until next_poll_at), 'moved' (healthy at the address a
-- 301/308 gave: update the feeds file), 'ok', 'never polled', or 'removed' (no longer in the
-- feeds file; kept for history, last in the list).
CREATE OR REPLACE VIEW feed_health AS
WITH per_feed AS (
    SELECT
        feed_url,
        count(*) FILTER (WHERE status = 'ok') AS articles,
        count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,
        max(fetched_at) AS last_article_at
    FROM articles
    WHERE feed_url IS NOT NULL
    GROUP BY feed_url
)
SELECT
    f.name,
    f.url,
    CASE
        WHEN f.removed_at IS NOT NULL THEN 'removed'
        WHEN f.disabled_at IS NOT NULL THEN 'disabled'
        WHEN f.last_polled_at IS NULL THEN 'never polled'
        WHEN f.consecutive_failures > 0 AND f.next_poll_at > now() THEN 'backing off'
        WHEN f.consecutive_failures > 0 THEN 'failing'
        WHEN f.current_url <> f.url THEN 'moved'
        ELSE 'ok'
    END AS health,
    f.current_url,
    f.last_status,
    f.last_polled_at,
    f.last_success_at,
    f.next_poll_at,
    f.consecutive_failures,
    f.last_error,
    f.disabled_reason,
    coalesce(a.articles, 0) AS articles,
    coalesce(a.duplicates, 0) AS duplicates,
    a.last_article_at,
    f.removed_at
FROM feeds AS f
LEFT JOIN per_feed AS a ON a.feed_url = f.url
ORDER BY
    CASE health WHEN 'disabled' THEN 0 WHEN 'failing' THEN 1 WHEN 'backing off' THEN 2
                WHEN 'moved' THEN 3 WHEN 'never polled' THEN 4 WHEN 'ok' THEN 5 ELSE 6 END,
    f.consecutive_failures DESC,
    f.name;
