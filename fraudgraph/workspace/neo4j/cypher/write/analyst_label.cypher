// Set an analyst's label on an account (fraud, legit or null); later loads keep it.
MATCH (a:Account {account_id: $account_id})
SET a.analyst_label = $label, a.analyst_label_set = true
RETURN count(a) AS updated
