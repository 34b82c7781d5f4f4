// Every account's state (the action in force), by account_id.
// Keyset paged: the rows after account_id $after, at most $limit of them (never the whole table in one result).
MATCH (s:AccountState)
WHERE s.account_id > $after
RETURN s.account_id AS account_id,
       s.action AS action,
       s.trigger AS trigger,
       s.status AS status,
       s.credit_limit AS credit_limit,
       s.original_credit_limit AS original_credit_limit,
       s.manual AS manual,
       s.evidence AS evidence,
       s.updated_at AS updated_at,
       s.sweep_id AS sweep_id
ORDER BY s.account_id
LIMIT $limit
