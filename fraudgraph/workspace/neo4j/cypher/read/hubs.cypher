// The identifiers the sweep of generation $gen recorded as hubs (too widely shared to link anyone).
// $filters: list of {column, values, is_null}; a row is kept when every filter matches.
// Keyset paged: the rows after seq $after, at most $limit of them (never the whole table in one result).
MATCH (h:Hub)
WHERE h.gen = $gen AND h.seq > $after AND all(f IN $filters WHERE CASE WHEN f.is_null THEN h[f.column] IS NULL ELSE h[f.column] IN f.values END)
RETURN h.kind AS kind,
       h.key AS key,
       h.n_accounts AS n_accounts,
       h.reason AS reason,
       h.seq AS seq
ORDER BY h.seq
LIMIT $limit
