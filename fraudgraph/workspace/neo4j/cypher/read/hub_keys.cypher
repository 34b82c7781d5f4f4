// The (kind, key) of every identifier the current sweep recorded as a hub.
MATCH (h:Hub)
RETURN h.kind AS kind, h.key AS key
