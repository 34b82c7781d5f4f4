// The audit trail of the accounts $account_ids, oldest first.
MATCH (e:AuditEntry)
WHERE e.account_id IN $account_ids
RETURN e.at AS at,
       e.sweep_id AS sweep_id,
       e.actor AS actor,
       e.account_id AS account_id,
       e.event AS event,
       e.previous_action AS previous_action,
       e.new_action AS new_action,
       e.previous_status AS previous_status,
       e.new_status AS new_status,
       e.previous_limit AS previous_limit,
       e.new_limit AS new_limit,
       e.score AS score,
       e.reasons AS reasons,
       e.policy_hash AS policy_hash,
       e.note AS note
ORDER BY e.seq
