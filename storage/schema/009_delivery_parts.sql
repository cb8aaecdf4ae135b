-- 009_delivery_parts: a digest too long for one message of its service goes out in parts
-- (publish/channels.py). Each delivery counts the parts its channel has taken, so a failed
-- delivery is retried from the first part not taken, and no part arrives twice.

ALTER TABLE deliveries ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;  -- messages of this digest the channel took
