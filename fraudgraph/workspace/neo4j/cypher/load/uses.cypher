// Record link observations (account, kind, raw value) as USES relationships to their identifier.
// One USES per raw spelling; first_seen is computed by the caller (the earliest sighting).
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (i:Identifier {kind: row.kind, key: row.key})
MERGE (a)-[u:USES {value: row.value}]->(i)
SET u.first_seen = row.first_seen
