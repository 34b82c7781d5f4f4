// Money paid between the given accounts, summed per (payer, payee).
MATCH (payer:Account)-[p:PAID]->(payee:Account)
WHERE payer.account_id IN $account_ids AND payee.account_id IN $account_ids
  AND p.counterparty_kind = 'account'
RETURN payer.account_id AS account_id, payee.account_id AS counterparty, sum(p.amount) AS amount,
       count(p) AS count, min(p.ts) AS first_ts, max(p.ts) AS last_ts
ORDER BY account_id, counterparty
