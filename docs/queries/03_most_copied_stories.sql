-- Stories picked up by the most outlets
SELECT o.title, o.url, count(*) AS copies
FROM duplicates d JOIN articles o ON o.article_id = d.duplicate_of
GROUP BY ALL ORDER BY copies DESC LIMIT 10;
