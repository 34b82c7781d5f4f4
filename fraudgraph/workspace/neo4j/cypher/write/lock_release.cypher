// Release a lock we hold (a lock taken over after expiry by someone else is left alone).
MATCH (l:Lock {name: $name})
WHERE l.token = $token
DELETE l
RETURN count(*) AS released
