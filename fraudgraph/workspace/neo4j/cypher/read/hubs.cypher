// The identifiers the current sweep recorded as hubs (too widely shared to link anyone).
// $filters: list of {column, values, is_null}; a row is kept when every filter matches.
MATCH (h:Hub)
WHERE all(f IN $filters WHERE CASE WHEN f.is_null THEN h[f.column] IS NULL ELSE h[f.column] IN f.values END)
RETURN h.kind AS kind,
       h.key AS key,
       h.n_accounts AS n_accounts,
       h.reason AS reason
ORDER BY h.seq
