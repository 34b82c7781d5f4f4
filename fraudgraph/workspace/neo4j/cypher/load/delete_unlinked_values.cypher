// Remove no-identity observations that a load replaces (their key or first_seen changed).
UNWIND $rows AS row
MATCH (n:UnlinkedValue {account_id: row.account_id, kind: row.kind, value: row.value})
DETACH DELETE n
