-- Developments that no digest has carried yet: what the next digest sends.
CREATE OR REPLACE VIEW undelivered_developments AS
SELECT d.*
FROM developments AS d
WHERE NOT EXISTS (SELECT 1 FROM digest_items AS i WHERE i.development_id = d.development_id);
