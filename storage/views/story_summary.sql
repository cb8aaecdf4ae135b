-- Each story with its articles, the outlets that carried it and its developments.
-- An outlet is the site's name, else the host of the article's URL, else the seed.
CREATE OR REPLACE VIEW story_summary AS
SELECT
    s.story_id,
    s.title,
    s.first_seen_at,
    s.last_event_at,
    count(DISTINCT a.article_id)                                     AS articles,
    count(DISTINCT coalesce(a.site_name, regexp_extract(a.url, '://([^/]+)', 1), a.seed_name))
                                                                     AS outlets,
    (SELECT count(*) FROM developments AS d WHERE d.story_id = s.story_id) AS developments
FROM stories AS s
LEFT JOIN articles AS a ON a.story_id = s.story_id
GROUP BY ALL;
