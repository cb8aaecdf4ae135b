-- Each figure over time, per metric and unit, with the value before it and the change.
-- Seed figures come first: they are the baseline.
CREATE OR REPLACE VIEW figure_changes AS
SELECT
    f.metric,
    f.unit,
    f.value,
    lag(f.value) OVER w           AS previous_value,
    f.value - lag(f.value) OVER w AS change,
    f.published_at,
    a.is_seed,
    f.article_id,
    coalesce(a.url, a.seed_name)  AS source,
    f.sentence
FROM figures AS f
JOIN articles AS a USING (article_id)
WINDOW w AS (PARTITION BY f.metric, f.unit ORDER BY f.published_at NULLS FIRST, f.article_id, f.position);
