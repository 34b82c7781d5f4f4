// Link each member account to its ring of generation $gen (MEMBER_OF); seq keeps the sweep's order.
UNWIND $rows AS row
MATCH (r:Ring {gen: $gen, ring_id: row.ring_id})
MATCH (a:Account {account_id: row.account_id})
CREATE (a)-[:MEMBER_OF {seq: row.seq}]->(r)
