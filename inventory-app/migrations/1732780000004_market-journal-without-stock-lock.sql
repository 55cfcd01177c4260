-- Up Migration

-- A journaled sale names its ingredient without a foreign key to stock: the key's check takes a
-- FOR KEY SHARE lock on the stock row, which waits behind every recording and allocation holding the
-- stock rows FOR UPDATE, and deadlocked with them (the journal's rows come in the order the market
-- answered, the stock locks in ingredient order; PostgreSQL took a second to find each deadlock and
-- the purchaser paused a second after it). A sale's ingredient reaches the books only through
-- purchases and the ledger, whose keys still check it.
ALTER TABLE market_journal DROP CONSTRAINT market_journal_ingredient_fkey;

-- Down Migration

ALTER TABLE market_journal ADD CONSTRAINT market_journal_ingredient_fkey FOREIGN KEY (ingredient) REFERENCES stock (ingredient);
