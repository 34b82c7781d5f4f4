// Delete up to $limit of the decisions of generation $gen (one no longer current, or one whose
// write did not finish); returns how many went. Called in a loop, each call its own transaction.
MATCH (n:Decision {gen: $gen})
WITH n
LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
