// The rings of generation $gen (the current sweep's: results.rings), in the order the sweep wrote them (features and reasons are JSON text).
// $filters: list of {column, values, is_null}; a row is kept when every filter matches.
// Keyset paged: the rows after seq $after, at most $limit of them (never the whole table in one result).
MATCH (r:Ring)
WHERE r.gen = $gen AND r.seq > $after AND all(f IN $filters WHERE CASE WHEN f.is_null THEN r[f.column] IS NULL ELSE r[f.column] IN f.values END)
RETURN r.ring_id AS ring_id,
       r.size AS size,
       r.score AS score,
       r.exposure AS exposure,
       r.features AS features,
       r.reasons AS reasons,
       r.seq AS seq
ORDER BY r.seq
LIMIT $limit
