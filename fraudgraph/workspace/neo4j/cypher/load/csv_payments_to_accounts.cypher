// First load from a folder the server reads: the transactions of $url paid to a loaded account (payments_accounts.csv),
// as PAID relationships (one per txn_id: a re-run finds the ones already there), committing every $batch rows.
LOAD CSV WITH HEADERS FROM $url AS row
CALL {
  WITH row
  MATCH (payer:Account {account_id: row.account_id})
  MATCH (payee:Account {account_id: row.counterparty})
  MERGE (payer)-[p:PAID {txn_id: row.txn_id}]->(payee)
  SET p.account_id = row.account_id, p.counterparty = row.counterparty,
      p.counterparty_kind = row.counterparty_kind,
      p.amount = CASE WHEN coalesce(row.amount, '') = '' THEN null ELSE toFloat(row.amount) END,
      p.ts = CASE WHEN coalesce(row.ts, '') = '' THEN null ELSE localdatetime(row.ts) END,
      p.status = CASE WHEN coalesce(row.status, '') = '' THEN null ELSE row.status END
} IN TRANSACTIONS OF $batch ROWS
