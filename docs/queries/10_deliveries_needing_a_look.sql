-- Deliveries that need a look
SELECT digest_id, channel_label, status, attempts, last_error FROM deliveries
WHERE status IN ('failed', 'unconfirmed');
