// The identifiers the members of each ring of generation $gen share (SHARES), in the order the sweep wrote them.
// $filters: list of {column, values, is_null} over ring_id, kind, key, n_members, n_accounts.
// Keyset paged: the rows after seq $after, at most $limit of them (never the whole table in one result).
MATCH (r:Ring)-[s:SHARES]->(i:Identifier)
WHERE r.gen = $gen
WITH {ring_id: r.ring_id, kind: i.kind, key: i.key, n_members: s.n_members, n_accounts: s.n_accounts} AS row,
     s.raw_values AS raw_values, s.seq AS seq
WHERE seq > $after AND all(f IN $filters WHERE CASE WHEN f.is_null THEN row[f.column] IS NULL ELSE row[f.column] IN f.values END)
RETURN row.ring_id AS ring_id, row.kind AS kind, row.key AS key, row.n_members AS n_members,
       row.n_accounts AS n_accounts, raw_values, seq
ORDER BY seq
LIMIT $limit
