// Delete up to $limit of the previous sweep's MEMBER_OF relationships; returns how many went.
MATCH (:Account)-[m:MEMBER_OF]->(:Ring)
WITH m
LIMIT $limit
DELETE m
RETURN count(*) AS deleted
