-- 008_story_edits: analysts merge and split stories (`newsmon story merge|split`). Each edit
-- is recorded, and later articles respect it: one close to a merged story joins the story it
-- was merged into.

ALTER TABLE stories ADD COLUMN merged_into BIGINT;   -- the story this one was merged into; NULL while it stands

CREATE SEQUENCE story_edit_ids START 1;
CREATE TABLE story_edits (
    edit_id     BIGINT PRIMARY KEY DEFAULT nextval('story_edit_ids'),
    made_at     TIMESTAMPTZ NOT NULL,
    action      VARCHAR NOT NULL CHECK (action IN ('merge', 'split')),
    story_id    BIGINT NOT NULL,                  -- merge: the story kept; split: the story the articles left
    other_id    BIGINT NOT NULL,                  -- merge: the story merged into it; split: the story they form
    article_ids BIGINT[] NOT NULL                 -- the articles that changed story, their copies included
);
