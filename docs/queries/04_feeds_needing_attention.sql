-- Feeds that need attention
SELECT name, health, consecutive_failures, next_poll_at, coalesce(disabled_reason, last_error)
FROM feed_health WHERE health <> 'ok';
