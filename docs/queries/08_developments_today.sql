-- Today's developments, by story
SELECT s.title AS story, d.sentence, d.new_facts, a.url
FROM developments d JOIN articles a USING (article_id) LEFT JOIN stories s ON s.story_id = d.story_id
WHERE d.first_seen_at >= current_date ORDER BY d.story_id, a.published_at, d.position;
