// Delete up to $limit of the previous sweep's SHARES relationships; returns how many went.
MATCH (:Ring)-[s:SHARES]->(:Identifier)
WITH s
LIMIT $limit
DELETE s
RETURN count(*) AS deleted
