-- Up Migration
-- How often the reconciler has re-sent an order since it last made progress. Each nudge waits twice
-- as long as the one before (up to a cap), so orders waiting minutes for a slow market are not
-- re-sent through the whole pipeline every RECONCILE_AFTER_MS. Progress sets it back to 0.
ALTER TABLE orders ADD COLUMN nudges integer NOT NULL DEFAULT 0 CHECK (nudges >= 0);

-- Down Migration
ALTER TABLE orders DROP COLUMN nudges;
