// The ring memberships (MEMBER_OF) of the rings of generation $gen, in the order the sweep wrote them.
// $filters: list of {column, values, is_null} over ring_id / account_id.
// Keyset paged: the rows after seq $after, at most $limit of them (never the whole table in one result).
MATCH (a:Account)-[m:MEMBER_OF]->(r:Ring)
WHERE r.gen = $gen
WITH {ring_id: r.ring_id, account_id: a.account_id} AS row, m.seq AS seq
WHERE seq > $after AND all(f IN $filters WHERE CASE WHEN f.is_null THEN row[f.column] IS NULL ELSE row[f.column] IN f.values END)
RETURN row.ring_id AS ring_id, row.account_id AS account_id, seq
ORDER BY seq
LIMIT $limit
