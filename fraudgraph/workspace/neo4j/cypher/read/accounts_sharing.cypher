// The accounts that use any of the given identifiers, one row per (account, identifier),
// at most $limit rows, in a stable order.
UNWIND $pairs AS pair
MATCH (i:Identifier {kind: pair.kind, key: pair.key})<-[:USES]-(a:Account)
WITH DISTINCT a.account_id AS account_id, i.kind AS kind, i.key AS key
RETURN account_id, kind, key
ORDER BY kind, key, account_id
LIMIT $limit
