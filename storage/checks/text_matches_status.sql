-- Articles with status 'ok' have text, a hash and a signature; the others have none.
SELECT a.article_id, a.status
FROM articles AS a
LEFT JOIN article_signatures AS s USING (article_id)
WHERE (a.status = 'ok') <> (a.text IS NOT NULL)
   OR (a.text IS NOT NULL AND a.content_hash IS NULL)
   OR (a.status = 'ok' AND s.article_id IS NULL);
