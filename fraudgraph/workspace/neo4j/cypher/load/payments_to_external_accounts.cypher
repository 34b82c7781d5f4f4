// Record transactions paid to an account id that is not loaded (closed elsewhere, outside the
// extract) as PAID relationships to an (:ExternalAccount) node; it is adopted if the account is loaded later.
UNWIND $rows AS row
MATCH (payer:Account {account_id: row.account_id})
MERGE (x:ExternalAccount {account_id: row.counterparty})
CREATE (payer)-[p:PAID]->(x)
SET p.txn_id = row.txn_id, p.account_id = row.account_id, p.counterparty = row.counterparty,
    p.counterparty_kind = row.counterparty_kind, p.amount = row.amount, p.ts = row.ts, p.status = row.status
