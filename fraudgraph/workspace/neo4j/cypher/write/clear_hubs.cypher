// Delete up to $limit of the previous sweep's recorded hubs; returns how many went.
// Called in a loop inside the sweep's transaction, so one statement never holds the whole table.
MATCH (n:Hub)
WITH n
LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
