// Index (:Hub) rows by (kind, key): investigation asks whether an identifier is a recorded hub.
CREATE INDEX fg_hub_kind_key IF NOT EXISTS
FOR (h:Hub) ON (h.kind, h.key)
