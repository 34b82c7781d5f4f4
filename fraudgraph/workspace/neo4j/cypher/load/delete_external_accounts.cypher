// Remove (:ExternalAccount) nodes whose account is now loaded (their payments were adopted).
UNWIND $account_ids AS account_id
MATCH (x:ExternalAccount {account_id: account_id})
DETACH DELETE x
