// Record transactions paid to a merchant as PAID relationships to its (:Merchant) node.
UNWIND $rows AS row
MATCH (payer:Account {account_id: row.account_id})
MERGE (m:Merchant {merchant_id: row.counterparty})
CREATE (payer)-[p:PAID]->(m)
SET p.txn_id = row.txn_id, p.account_id = row.account_id, p.counterparty = row.counterparty,
    p.counterparty_kind = row.counterparty_kind, p.amount = row.amount, p.ts = row.ts, p.status = row.status
