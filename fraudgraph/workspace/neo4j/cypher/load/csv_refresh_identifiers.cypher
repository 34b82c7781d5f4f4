// After a first load from a folder: compute n_accounts and the sorted raw spellings (raw_values)
// of the identifiers listed in $url (identifiers.csv), committing every $batch rows.
LOAD CSV WITH HEADERS FROM $url AS row
CALL {
  WITH row
  MATCH (i:Identifier {kind: row.kind, key: row.key})
  OPTIONAL MATCH (i)<-[u:USES]-(a:Account)
  WITH i, u, a
  ORDER BY u.value
  WITH i, collect(DISTINCT u.value) AS raw_values, count(DISTINCT a) AS n_accounts
  SET i.raw_values = raw_values, i.n_accounts = n_accounts
} IN TRANSACTIONS OF $batch ROWS
