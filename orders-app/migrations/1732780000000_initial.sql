-- Up Migration

-- The system of record for orders. Statuses only move forward (see contracts' orderStatuses); the
-- consumer enforces that, the CHECK keeps anything else from ever landing here.
CREATE TABLE orders (
  id         uuid        PRIMARY KEY,
  status     text        NOT NULL
             CHECK (status IN ('queued', 'awaiting_ingredients', 'cooking', 'delivered')),
  recipe     text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- When the reconciler last re-sent order.placed for this order: it waits RECONCILE_AFTER_MS
  -- before nudging the same order again.
  nudged_at  timestamptz
);

-- GET /orders: newest first, keyset-paged on (created_at, id).
CREATE INDEX orders_newest_first ON orders (created_at DESC, id DESC);

-- GET /orders?status=…: the same order within one status; also lets GET /orders/summary count
-- per status from the index alone.
CREATE INDEX orders_by_status_newest_first ON orders (status, created_at DESC, id DESC);

-- The reconciler looks only at unfinished orders, oldest progress first; delivered orders, the
-- vast majority over a day, stay out of this index.
CREATE INDEX orders_unfinished_by_progress ON orders (updated_at) WHERE status <> 'delivered';

-- Every status an order reached and when; one line per status, so a redelivered event adds nothing.
CREATE TABLE order_timeline (
  order_id uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  status   text        NOT NULL
           CHECK (status IN ('queued', 'awaiting_ingredients', 'cooking', 'delivered')),
  at       timestamptz NOT NULL,
  PRIMARY KEY (order_id, status)
);

-- POST /orders answers by Idempotency-Key. The key row is inserted first, in the same transaction
-- as the orders, so a concurrent duplicate waits on it and then reads the stored response.
CREATE TABLE idempotency_keys (
  key        text        PRIMARY KEY,
  -- The request the key was first used with: the same key with another quantity is refused.
  quantity   integer     NOT NULL,
  response   jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox (OUTBOX_TABLE_SQL of @free-lunch/streams): events are written here in the
-- transaction that makes the change, and the outbox relay publishes them to Redis.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  stream text NOT NULL,
  message jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE outbox;
DROP TABLE idempotency_keys;
DROP TABLE order_timeline;
DROP TABLE orders;
