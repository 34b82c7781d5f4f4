// Real-time check: which of an event's identifiers the last sweep recorded as hubs (the
// fg_hub_kind_key index), with the sweep's count and reason.
UNWIND $pairs AS pair
MATCH (h:Hub {kind: pair.kind, key: pair.key})
WHERE h.gen = $hubs_gen
RETURN h.kind AS kind, h.key AS key, h.n_accounts AS n_accounts, h.reason AS reason
