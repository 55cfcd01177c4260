-- Up Migration

-- Units the waiting requests need in all, per ingredient: what the purchaser weighs against stock
-- to know what is short. Kept in step with `requests` inside the same transactions (a request
-- joining the queue adds its needs, a dispatch takes them off), so reading the shortfall costs ten
-- rows however long the queue is, instead of unpacking every waiting request's ingredients.
CREATE TABLE pending_needs (
  ingredient text PRIMARY KEY REFERENCES stock (ingredient),
  units integer NOT NULL CHECK (units >= 0)
);

INSERT INTO pending_needs (ingredient, units)
SELECT s.ingredient, coalesce(sum(n.quantity) FILTER (WHERE n.ingredient IS NOT NULL), 0)
  FROM stock AS s
  LEFT JOIN (
    SELECT need.ingredient, need.quantity
      FROM requests AS r
     CROSS JOIN LATERAL jsonb_to_recordset(r.ingredients) AS need (ingredient text, quantity int)
     WHERE r.status = 'pending'
  ) AS n USING (ingredient)
 GROUP BY s.ingredient;

-- Down Migration

DROP TABLE pending_needs;
