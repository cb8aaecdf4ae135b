-- What each run did
SELECT started_at, feeds_polled, feeds_failed, feeds_skipped, articles_new, duplicates,
       pages_failed, spooled
FROM poll_runs ORDER BY started_at DESC LIMIT 20;
