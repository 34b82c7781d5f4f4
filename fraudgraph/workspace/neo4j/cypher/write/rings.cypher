// Create the sweep's rings; features and reasons are JSON text, seq keeps the sweep's order.
UNWIND $rows AS row
CREATE (r:Ring)
SET r = row
