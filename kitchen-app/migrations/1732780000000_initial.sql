-- Up Migration

-- The kitchen's recipe book. Seeded with the six recipes of the shared contracts; GET /recipes and
-- every ingredients request read it, so what the manager sees is what the warehouse is asked for.
CREATE TABLE recipes (
  name text PRIMARY KEY,
  -- Menu order, so GET /recipes lists them the same way every time.
  position smallint NOT NULL UNIQUE,
  -- [{"ingredient": "rice", "quantity": 2}, ...]: always read and written whole, with the recipe.
  ingredients jsonb NOT NULL
    CHECK (jsonb_typeof(ingredients) = 'array' AND jsonb_array_length(ingredients) > 0)
);

INSERT INTO recipes (name, position, ingredients) VALUES
  ('rice_with_chicken', 1, '[{"ingredient": "rice", "quantity": 2}, {"ingredient": "onion", "quantity": 1}, {"ingredient": "chicken", "quantity": 1}]'),
  ('rice_with_meat',    2, '[{"ingredient": "rice", "quantity": 2}, {"ingredient": "meat", "quantity": 1}, {"ingredient": "onion", "quantity": 1}]'),
  ('burger',            3, '[{"ingredient": "meat", "quantity": 1}, {"ingredient": "cheese", "quantity": 1}, {"ingredient": "ketchup", "quantity": 1}, {"ingredient": "lettuce", "quantity": 1}]'),
  ('french_fries',      4, '[{"ingredient": "potato", "quantity": 3}, {"ingredient": "ketchup", "quantity": 1}]'),
  ('pizza',             5, '[{"ingredient": "cheese", "quantity": 2}, {"ingredient": "tomato", "quantity": 3}]'),
  ('salad',             6, '[{"ingredient": "lemon", "quantity": 1}, {"ingredient": "onion", "quantity": 1}, {"ingredient": "tomato", "quantity": 2}, {"ingredient": "lettuce", "quantity": 2}]');

-- One ticket per order: the order id is the idempotency key of everything the kitchen does.
CREATE TABLE tickets (
  order_id uuid PRIMARY KEY,
  recipe text NOT NULL REFERENCES recipes (name),
  status text NOT NULL CHECK (status IN ('awaiting_ingredients', 'cooking', 'delivered')),
  requested_at timestamptz NOT NULL,
  dispatched_at timestamptz,
  ready_at timestamptz,
  delivered_at timestamptz,
  -- A ticket carries exactly the timestamps of the steps it has reached, which is what lets a
  -- re-drive rebuild its status events from the row alone.
  CONSTRAINT tickets_timestamps_match_status CHECK (
    (status = 'awaiting_ingredients' AND dispatched_at IS NULL AND ready_at IS NULL AND delivered_at IS NULL)
    OR (status = 'cooking' AND dispatched_at IS NOT NULL AND ready_at IS NOT NULL AND delivered_at IS NULL)
    OR (status = 'delivered' AND dispatched_at IS NOT NULL AND ready_at IS NOT NULL AND delivered_at IS NOT NULL)
  )
);

-- The cook loop: "cooking and ready by now, soonest first" and "when is the next dish ready".
-- Partial, so it only ever holds the dishes on the stove, however long the day's history grows.
CREATE INDEX tickets_cooking_by_ready_at ON tickets (ready_at) WHERE status = 'cooking';

-- Tickets still waiting for the warehouse: counted for the tickets gauge, and where an operator
-- looks first for stuck work. Also partial, so it stays small.
CREATE INDEX tickets_awaiting_by_requested_at ON tickets (requested_at) WHERE status = 'awaiting_ingredients';

-- Transactional outbox (OUTBOX_TABLE_SQL from @free-lunch/streams): events are written here in the
-- same transaction as the ticket change they announce; the relay publishes and deletes them.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  stream text NOT NULL,
  message jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE outbox;
DROP TABLE tickets;
DROP TABLE recipes;
