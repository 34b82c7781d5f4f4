// The transactions paid to the given accounts.
UNWIND $account_ids AS account_id
MATCH (:Account {account_id: account_id})<-[p:PAID]-()
RETURN p.txn_id AS txn_id, p.account_id AS account_id, p.counterparty AS counterparty,
       p.counterparty_kind AS counterparty_kind, p.amount AS amount, p.ts AS timestamp, p.status AS status
