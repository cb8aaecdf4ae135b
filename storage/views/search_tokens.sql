-- The words of a text as the search index keeps them: lower case, accents and other marks
-- removed (Arabic short vowels too), split at everything that is not a letter or a digit.
-- No stemming: the sources are in many languages. `newsmon search` and analysts use it alike:
--   SELECT search_tokens('Rafah crossing: Égypte');  -- [rafah, crossing, egypte]
CREATE OR REPLACE MACRO search_tokens(s) AS
    list_filter(
        regexp_split_to_array(
            regexp_replace(lower(strip_accents(s)), '\p{M}', '', 'g'), '[^\p{L}\p{N}]+'),
        lambda word: word <> '');
