// Create the (:Identifier) nodes a batch of links points to (canonical kind + key).
// raw_values and n_accounts are filled in by load/refresh_identifiers.
UNWIND $rows AS row
MERGE (i:Identifier {kind: row.kind, key: row.key})
ON CREATE SET i.raw_values = [], i.n_accounts = 0
