// Reserve $count sequence numbers of one log (audit, notices, reviews, loads); returns the
// last number used before them. The MERGE + SET takes a write lock, so concurrent writers serialize.
MERGE (m:Meta {key: $key})
SET m.value = coalesce(m.value, 0) + $count
RETURN m.value - $count AS last_used
