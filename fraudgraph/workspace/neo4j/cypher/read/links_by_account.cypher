// The identifier observations (USES) of the given accounts.
UNWIND $account_ids AS account_id
MATCH (a:Account {account_id: account_id})-[u:USES]->(i:Identifier)
RETURN a.account_id AS account_id, i.kind AS kind, u.value AS value, i.key AS key, u.first_seen AS first_seen
