// The given transactions, by txn_id (a load compares them with the new extract).
UNWIND $txn_ids AS txn_id
MATCH ()-[p:PAID {txn_id: txn_id}]->()
RETURN p.txn_id AS txn_id, p.account_id AS account_id, p.counterparty AS counterparty,
       p.counterparty_kind AS counterparty_kind, p.amount AS amount, p.ts AS timestamp, p.status AS status
