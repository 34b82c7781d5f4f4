// Schema 1 -> 2: put up to $limit of the stored decisions (written before generations) in
// generation 0; returns how many were updated (0: done).
MATCH (n:Decision)
WHERE n.gen IS NULL
WITH n
LIMIT $limit
SET n.gen = 0
RETURN count(*) AS updated
