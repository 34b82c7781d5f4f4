// Push the expiry of a lock we hold further out (a heartbeat while a long sweep runs).
MATCH (l:Lock {name: $name})
WHERE l.token = $token
SET l.expires_at = $expires_at
RETURN count(l) AS renewed
