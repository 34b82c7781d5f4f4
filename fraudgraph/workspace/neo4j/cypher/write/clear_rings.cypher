// Delete up to $limit of the previous sweep's rings (and their MEMBER_OF and SHARES relationships); returns how many went.
// Called in a loop inside the sweep's transaction, so one statement never holds the whole table.
MATCH (n:Ring)
WITH n
LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
