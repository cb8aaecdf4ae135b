-- Which outlet breaks news first: new facts stated first, per outlet
SELECT o.outlet, count(*) AS first_with
FROM facts f JOIN articles a USING (article_id) JOIN article_outlets o USING (article_id)
WHERE NOT a.is_seed GROUP BY ALL ORDER BY first_with DESC;
