// Append analyst reviews; seq keeps them in order.
UNWIND $rows AS row
CREATE (v:Review)
SET v = row
