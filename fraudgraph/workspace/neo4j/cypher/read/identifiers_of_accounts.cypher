// The identifiers the given accounts use, with the first time each account used it.
UNWIND $account_ids AS account_id
MATCH (a:Account {account_id: account_id})-[u:USES]->(i:Identifier)
RETURN a.account_id AS account_id, i.kind AS kind, i.key AS key, min(u.first_seen) AS first_seen
