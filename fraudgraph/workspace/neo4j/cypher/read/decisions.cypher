// The stored decisions of generation $gen (the current sweep's: results.decisions), by account_id
// (reasons is JSON text); the default ones are implied, not stored (workspace.base).
// $filters: list of {column, values, is_null}; a row is kept when every filter matches.
// Keyset paged: the rows after account_id $after, at most $limit of them (never the whole table in one result).
MATCH (d:Decision)
WHERE d.gen = $gen AND d.account_id > $after AND all(f IN $filters WHERE CASE WHEN f.is_null THEN d[f.column] IS NULL ELSE d[f.column] IN f.values END)
RETURN d.account_id AS account_id,
       d.action AS action,
       d.trigger AS trigger,
       d.score AS score,
       d.ring_id AS ring_id,
       d.reasons AS reasons,
       d.credit_limit AS credit_limit,
       d.new_credit_limit AS new_credit_limit,
       d.evidence AS evidence
ORDER BY d.account_id
LIMIT $limit
