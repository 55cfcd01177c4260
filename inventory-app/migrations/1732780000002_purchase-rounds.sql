-- Up Migration

-- Every purchase round recorded, by the id the purchaser gave it before recording. A round whose
-- recording failed is recorded again with the next one (the units the market sold must reach the
-- books), and this is what keeps a retry from recording it twice when the first attempt did commit
-- after all (the connection broke while the commit was being acknowledged).
CREATE TABLE purchase_rounds (
  id uuid PRIMARY KEY,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Only recent ids matter (a round is retried from memory, within minutes): old ones are pruned.
CREATE INDEX purchase_rounds_by_age ON purchase_rounds (recorded_at);

-- Down Migration

DROP TABLE purchase_rounds;
