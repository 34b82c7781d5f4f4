// Customer notices of the sweeps that finished after the given one ($finished_at, $sweep_id), oldest first.
MATCH (n:Notice)
MATCH (s:Sweep {sweep_id: n.sweep_id})
WHERE s.finished_at > $finished_at OR (s.finished_at = $finished_at AND s.sweep_id > $sweep_id)
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
