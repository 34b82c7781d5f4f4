// One sweep's finish time (to list what came after it), or no row.
MATCH (s:Sweep {sweep_id: $sweep_id})
RETURN s.sweep_id AS sweep_id, s.finished_at AS finished_at
