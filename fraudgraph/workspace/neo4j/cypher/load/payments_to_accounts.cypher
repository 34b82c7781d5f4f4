// Record transactions paid to a loaded account as PAID relationships between the two accounts.
UNWIND $rows AS row
MATCH (payer:Account {account_id: row.account_id})
MATCH (payee:Account {account_id: row.counterparty})
CREATE (payer)-[p:PAID]->(payee)
SET p.txn_id = row.txn_id, p.account_id = row.account_id, p.counterparty = row.counterparty,
    p.counterparty_kind = row.counterparty_kind, p.amount = row.amount, p.ts = row.ts, p.status = row.status
