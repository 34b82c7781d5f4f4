// The (kind, key) of every identifier the sweep of generation $gen (the
// current: results.hubs) recorded as a hub.
MATCH (h:Hub {gen: $gen})
RETURN h.kind AS kind, h.key AS key
