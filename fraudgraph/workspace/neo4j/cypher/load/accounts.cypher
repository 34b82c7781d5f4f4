// Upsert accounts from a batch of rows (only new or changed ones are sent).
// Loaded fields are replaced (a null removes the property); an analyst's label
// (analyst_label, analyst_label_set) is never touched by a load.
UNWIND $rows AS row
MERGE (a:Account {account_id: row.account_id})
SET a.created_at = row.created_at,
    a.credit_limit = row.credit_limit,
    a.balance = row.balance,
    a.overdue_days = row.overdue_days,
    a.status = row.status,
    a.label = row.label,
    a.properties = row.properties
