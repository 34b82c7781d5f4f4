// The stored account scores of generation $gen (the current sweep's: results.account_scores), by
// account_id (reasons is JSON text); the default ones are implied, not stored (workspace.base).
// $filters: list of {column, values, is_null}; a row is kept when every filter matches.
// Keyset paged: the rows after account_id $after, at most $limit of them (never the whole table in one result).
MATCH (s:AccountScore)
WHERE s.gen = $gen AND s.account_id > $after AND all(f IN $filters WHERE CASE WHEN f.is_null THEN s[f.column] IS NULL ELSE s[f.column] IN f.values END)
RETURN s.account_id AS account_id,
       s.score AS score,
       s.ring_id AS ring_id,
       s.reasons AS reasons
ORDER BY s.account_id
LIMIT $limit
