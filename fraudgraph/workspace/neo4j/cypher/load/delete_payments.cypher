// Remove the PAID relationships of transactions a load replaces (any field changed).
UNWIND $txn_ids AS txn_id
MATCH ()-[p:PAID {txn_id: txn_id}]->()
DELETE p
