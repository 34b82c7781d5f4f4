// Delete up to $limit of the account_scores of generation $gen (one no longer current, or one whose
// write did not finish); returns how many went. Called in a loop, each call its own transaction.
MATCH (n:AccountScore {gen: $gen})
WITH n
LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
