// Take the named lock for $owner unless someone else holds it and it has not expired.
// The first SET takes the node's write lock, so two sweeps cannot both see it free.
// Returns acquired (true/false) and the holder afterwards.
MERGE (l:Lock {name: $name})
SET l.attempt = $token
WITH l, (l.token IS NULL OR l.token = $token OR l.expires_at < $now) AS free
SET l.owner = CASE WHEN free THEN $owner ELSE l.owner END,
    l.token = CASE WHEN free THEN $token ELSE l.token END,
    l.since = CASE WHEN free THEN $now ELSE l.since END,
    l.expires_at = CASE WHEN free THEN $expires_at ELSE l.expires_at END
RETURN free AS acquired, l.owner AS owner, l.since AS since, l.expires_at AS expires_at
