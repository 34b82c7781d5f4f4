// Customer notices of the sweeps that finished after the given one ($finished_at, $sweep_id), and
// those written outside a sweep (no sweep_id) since it finished, oldest first.
MATCH (n:Notice)
OPTIONAL MATCH (s:Sweep {sweep_id: n.sweep_id})
WITH n, s
WHERE (s IS NOT NULL AND (s.finished_at > $finished_at OR (s.finished_at = $finished_at AND s.sweep_id > $sweep_id)))
   OR (n.sweep_id IS NULL AND n.created_at > $finished_at)
RETURN n.notice_id AS notice_id,
       n.sweep_id AS sweep_id,
       n.account_id AS account_id,
       n.created_at AS created_at,
       n.category AS category,
       n.action AS action,
       n.subject AS subject,
       n.body AS body,
       n.customer_actions AS customer_actions,
       n.repayment_plan AS repayment_plan
ORDER BY n.seq
