// One page of account ids in order, after $after (keyset paging for links and transactions).
MATCH (a:Account)
WHERE a.account_id > $after
WITH a.account_id AS account_id
ORDER BY account_id
LIMIT $limit
RETURN account_id
