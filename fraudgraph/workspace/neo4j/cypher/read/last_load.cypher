// The most recent load: when, from where, what it changed (summary is JSON text).
MATCH (l:Load)
RETURN l.at AS at, l.source AS source, l.summary AS summary
ORDER BY l.seq DESC
LIMIT 1
