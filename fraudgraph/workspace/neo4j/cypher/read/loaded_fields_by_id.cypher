// The fields a load compares to decide whether an account changed (the loaded label, not the analyst's).
UNWIND $account_ids AS account_id
MATCH (a:Account {account_id: account_id})
RETURN a.account_id AS account_id, a.created_at AS created_at, a.credit_limit AS credit_limit,
       a.balance AS balance, a.overdue_days AS overdue_days, a.status AS status, a.label AS label,
       a.properties AS properties
