// The current sweep's rings, in the order the sweep wrote them (features and reasons are JSON text).
// $filters: list of {column, values, is_null}; a row is kept when every filter matches.
MATCH (r:Ring)
WHERE all(f IN $filters WHERE CASE WHEN f.is_null THEN r[f.column] IS NULL ELSE r[f.column] IN f.values END)
RETURN r.ring_id AS ring_id,
       r.size AS size,
       r.score AS score,
       r.exposure AS exposure,
       r.features AS features,
       r.reasons AS reasons
ORDER BY r.seq
