-- Up Migration

-- Every sale the market made to a purchaser, written as the answer arrives, before the purchaser
-- makes its next call: a purchaser killed in the middle of a round loses only the calls it had in
-- flight, not what the round's answered calls bought. A recording takes a round's sales out of the
-- journal in the transaction that puts them in stock, ledger and purchases, so each sale reaches the
-- books once, whoever records it: the purchaser that bought it deletes its rows; a purchaser that
-- replays another's (one that died before recording them) marks them taken instead, so that a
-- retried write of a row already taken (its first write's COMMIT answer lost) finds it there and
-- adds nothing. Zero answers and faults bring no units and are not journaled.
CREATE TABLE market_journal (
  -- Which purchaser made the call (one id per process), and its count of sales: a write retried
  -- after a lost answer is recognised by this key.
  purchaser uuid NOT NULL,
  seq bigint NOT NULL,
  ingredient text NOT NULL REFERENCES stock (ingredient),
  quantity_sold integer NOT NULL CHECK (quantity_sold > 0),
  at timestamptz NOT NULL,
  -- Set when another purchaser replayed the sale into the books; the row is kept a day, then pruned.
  taken_at timestamptz,
  PRIMARY KEY (purchaser, seq)
);

-- What a replay reads: the sales no one has recorded.
CREATE INDEX market_journal_untaken ON market_journal (purchaser) WHERE taken_at IS NULL;
-- What pruning reads: the rows replayed long ago.
CREATE INDEX market_journal_taken ON market_journal (taken_at) WHERE taken_at IS NOT NULL;

-- Down Migration

DROP TABLE market_journal;
