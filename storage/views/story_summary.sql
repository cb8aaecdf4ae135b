-- Each story with its articles, the outlets that carried it and its developments.
-- Outlets as article_outlets defines them. A story merged into another is not listed: its
-- articles are the other one's.
CREATE OR REPLACE VIEW story_summary AS
SELECT
    s.story_id,
    s.title,
    s.first_seen_at,
    s.last_event_at,
    count(DISTINCT a.article_id)                                     AS articles,
    count(DISTINCT o.outlet)                                         AS outlets,
    (SELECT count(*) FROM developments AS d WHERE d.story_id = s.story_id) AS developments
FROM stories AS s
LEFT JOIN articles AS a ON a.story_id = s.story_id
LEFT JOIN article_outlets AS o ON o.article_id = a.article_id
WHERE s.merged_into IS NULL
GROUP BY ALL;
