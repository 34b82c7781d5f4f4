// The most recent sweep that wrote results (not a dry run).
MATCH (s:Sweep)
WHERE NOT coalesce(s.dry_run, false)
RETURN s.sweep_id AS sweep_id, s.finished_at AS at, s.as_of AS as_of
ORDER BY s.finished_at DESC, s.sweep_id DESC
LIMIT 1
