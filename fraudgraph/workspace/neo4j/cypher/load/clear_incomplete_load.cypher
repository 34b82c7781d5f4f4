// A load of $source finished: clear the incomplete-load marker if it was set by a load of
// the same source (every load reads what is stored and writes the rest, so finishing the
// same folder by any kind of load leaves the graph complete). Another source's marker stays.
MATCH (m:Meta {key: 'load.incomplete'})
WHERE m.source = $source
DELETE m
