// Recompute n_accounts and the sorted raw spellings (raw_values) of the given identifiers
// from their USES relationships, after a load added or removed observations.
UNWIND $pairs AS pair
MATCH (i:Identifier {kind: pair.kind, key: pair.key})
OPTIONAL MATCH (i)<-[u:USES]-(a:Account)
WITH i, u, a
ORDER BY u.value
WITH i, collect(DISTINCT u.value) AS raw_values, count(DISTINCT a) AS n_accounts
SET i.raw_values = raw_values, i.n_accounts = n_accounts
