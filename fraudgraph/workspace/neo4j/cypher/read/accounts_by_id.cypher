// The given accounts (ids that are not loaded are left out).
UNWIND $account_ids AS account_id
MATCH (a:Account {account_id: account_id})
RETURN a.account_id AS account_id, a.created_at AS created_at, a.credit_limit AS credit_limit,
       a.balance AS balance, a.overdue_days AS overdue_days, a.status AS status,
       CASE WHEN coalesce(a.analyst_label_set, false) THEN a.analyst_label ELSE a.label END AS label,
       a.properties AS properties
