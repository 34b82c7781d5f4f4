// The sweep history, newest first (summary and diff are JSON text).
MATCH (s:Sweep)
RETURN s.sweep_id AS sweep_id,
       s.started_at AS started_at,
       s.finished_at AS finished_at,
       s.as_of AS as_of,
       s.seed AS seed,
       s.engine AS engine,
       s.policy_hash AS policy_hash,
       s.dry_run AS dry_run,
       s.summary AS summary,
       s.diff AS diff
ORDER BY s.finished_at DESC, s.sweep_id DESC
