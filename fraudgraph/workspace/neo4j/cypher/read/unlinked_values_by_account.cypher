// The no-identity observations of the given accounts (key is null: they never link).
UNWIND $account_ids AS account_id
MATCH (:Account {account_id: account_id})-[:OBSERVED]->(n:UnlinkedValue)
RETURN n.account_id AS account_id, n.kind AS kind, n.value AS value, null AS key, n.first_seen AS first_seen
