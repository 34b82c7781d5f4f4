// One page of accounts in account_id order, after $after (keyset paging: "" for the first page).
// The label is the analyst's when one was set, else the loaded one.
MATCH (a:Account)
WHERE a.account_id > $after
WITH a
ORDER BY a.account_id
LIMIT $limit
RETURN a.account_id AS account_id, a.created_at AS created_at, a.credit_limit AS credit_limit,
       a.balance AS balance, a.overdue_days AS overdue_days, a.status AS status,
       CASE WHEN coalesce(a.analyst_label_set, false) THEN a.analyst_label ELSE a.label END AS label,
       a.properties AS properties
