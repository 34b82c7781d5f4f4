// Remove link observations that a load replaces (their key or first_seen changed).
// Returns the identifiers touched, so their counts can be refreshed.
UNWIND $rows AS row
MATCH (:Account {account_id: row.account_id})-[u:USES {value: row.value}]->(i:Identifier {kind: row.kind})
DELETE u
RETURN DISTINCT i.kind AS kind, i.key AS key
