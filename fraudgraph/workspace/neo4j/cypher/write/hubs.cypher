// Create the sweep's hub records; seq keeps the sweep's order.
UNWIND $rows AS row
CREATE (h:Hub)
SET h = row
