-- The outlet of every article: the site's name, else the host of its URL, else the seed's name.
-- The one definition of "outlet": story_summary, the digests and analysts all read it here.
CREATE OR REPLACE VIEW article_outlets AS
SELECT
    article_id,
    coalesce(site_name, regexp_extract(url, '://([^/]+)', 1), seed_name) AS outlet
FROM articles;
