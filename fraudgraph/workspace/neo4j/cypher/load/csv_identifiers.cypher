// First load from a folder the server reads: create the (:Identifier) nodes of $url
// (identifiers.csv: kind, key), committing every $batch rows. raw_values and n_accounts are
// filled in by load/csv_refresh_identifiers.
LOAD CSV WITH HEADERS FROM $url AS row
CALL {
  WITH row
  MERGE (i:Identifier {kind: row.kind, key: row.key})
  ON CREATE SET i.raw_values = [], i.n_accounts = 0
} IN TRANSACTIONS OF $batch ROWS
