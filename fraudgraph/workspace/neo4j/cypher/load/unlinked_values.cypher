// Record observations of values that carry no identity ('unknown', 'N/A', all-zero ids).
// Each gets its own (:UnlinkedValue) node per account, so it can never link two accounts.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (n:UnlinkedValue {account_id: row.account_id, kind: row.kind, value: row.value})
SET n.first_seen = row.first_seen
MERGE (a)-[:OBSERVED]->(n)
