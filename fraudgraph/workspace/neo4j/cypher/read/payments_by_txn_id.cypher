// The given transactions wherever they are, by txn_id (a load looks up those it did not find
// under their payer). One pass with IN: Neo4j seeks the PAID(txn_id) index; servers without
// relationship indexes scan PAID once per batch instead of once per id.
MATCH ()-[p:PAID]->()
WHERE p.txn_id IN $txn_ids
RETURN p.txn_id AS txn_id, p.account_id AS account_id, p.counterparty AS counterparty,
       p.counterparty_kind AS counterparty_kind, p.amount AS amount, p.ts AS timestamp, p.status AS status
