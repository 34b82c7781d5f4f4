// Append customer notices; seq keeps them in order.
UNWIND $rows AS row
CREATE (n:Notice)
SET n = row
