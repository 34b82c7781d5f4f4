// Create rings of generation $gen; features and reasons are JSON text, seq keeps the sweep's order.
UNWIND $rows AS row
CREATE (r:Ring)
SET r = row
SET r.gen = $gen
