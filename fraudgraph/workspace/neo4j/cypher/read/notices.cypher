// Customer notices, oldest first.
MATCH (n:Notice)
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
