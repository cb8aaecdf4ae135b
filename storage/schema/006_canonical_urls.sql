-- Stored URLs in the canonical form of extractors/normalize.py's present rules (courlan's
-- list of tracking parameters joined the hand-made one). The rows are rewritten in Python,
-- in this migration's transaction (storage/articles.py: recanonicalize_urls): url and
-- canonical_url change where the rules now drop a parameter; article_id never changes, and
-- a URL whose new form another row holds already stays as it was.
SELECT 1;
