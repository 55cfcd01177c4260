-- Up Migration

-- The warehouse: one row per ingredient. Allocation and purchase recording lock these rows in
-- ingredient order, which serializes every stock change across replicas without deadlocks.
CREATE TABLE stock (
  ingredient text PRIMARY KEY,
  on_hand integer NOT NULL CHECK (on_hand >= 0)
);

-- The warehouse opens with 5 units of everything (INITIAL_STOCK_PER_INGREDIENT in contracts;
-- the audit counts from there).
INSERT INTO stock (ingredient, on_hand) VALUES
  ('tomato', 5), ('lemon', 5), ('potato', 5), ('rice', 5), ('ketchup', 5),
  ('lettuce', 5), ('onion', 5), ('cheese', 5), ('meat', 5), ('chicken', 5);

-- Every market attempt, zeros and faults included: the history the manager sees and half of the audit.
CREATE TABLE purchases (
  id bigserial PRIMARY KEY,
  ingredient text NOT NULL REFERENCES stock (ingredient),
  quantity_sold integer NOT NULL CHECK (quantity_sold >= 0),
  outcome text NOT NULL CHECK (outcome IN ('sold', 'none', 'fault')),
  error text,
  at timestamptz NOT NULL,
  -- Only a sale brings units, and only a fault carries an error.
  CHECK ((outcome = 'sold') = (quantity_sold > 0)),
  CHECK ((outcome = 'fault') = (error IS NOT NULL))
);

-- Ticket requests for ingredients, keyed by order: a redelivered request is the same row.
-- `arrival` is the queue order the allocator serves in (first come, first served, whatever the
-- clocks of the kitchen replicas say).
CREATE TABLE requests (
  order_id uuid PRIMARY KEY,
  arrival bigint GENERATED ALWAYS AS IDENTITY,
  recipe text NOT NULL,
  ingredients jsonb NOT NULL,
  requested_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dispatched')),
  dispatched_at timestamptz,
  CHECK ((status = 'dispatched') = (dispatched_at IS NOT NULL))
);

-- The allocator's queue and the shortfall query read only what is still waiting.
CREATE INDEX requests_pending_queue ON requests (arrival) WHERE status = 'pending';

-- Every unit in or out. With the opening stock it must add up to `stock.on_hand` at all times.
CREATE TABLE stock_ledger (
  id bigserial PRIMARY KEY,
  ingredient text NOT NULL REFERENCES stock (ingredient),
  delta integer NOT NULL,
  reason text NOT NULL CHECK (reason IN ('purchase', 'dispatch')),
  order_id uuid REFERENCES requests (order_id),
  purchase_id bigint REFERENCES purchases (id),
  at timestamptz NOT NULL,
  CHECK (
    (reason = 'purchase' AND delta > 0 AND purchase_id IS NOT NULL AND order_id IS NULL)
    OR (reason = 'dispatch' AND delta < 0 AND order_id IS NOT NULL AND purchase_id IS NULL)
  )
);

-- The last line of defence against handing an order its ingredients twice.
CREATE UNIQUE INDEX stock_ledger_one_dispatch_per_order ON stock_ledger (order_id, ingredient)
  WHERE reason = 'dispatch';

-- Events waiting for the relay, written in the same transaction as the change they announce
-- (OUTBOX_TABLE_SQL from @free-lunch/streams).
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  stream text NOT NULL,
  message jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE outbox;
DROP TABLE stock_ledger;
DROP TABLE requests;
DROP TABLE purchases;
DROP TABLE stock;
