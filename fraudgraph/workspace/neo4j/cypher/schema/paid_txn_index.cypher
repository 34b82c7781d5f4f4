// Index PAID relationships by txn_id: a reload finds the transactions it updates without a scan.
CREATE INDEX fg_paid_txn_id IF NOT EXISTS
FOR ()-[p:PAID]-() ON (p.txn_id)
