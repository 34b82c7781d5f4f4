// Create hub records of generation $gen; seq keeps the sweep's order.
UNWIND $rows AS row
CREATE (h:Hub)
SET h = row
SET h.gen = $gen
