// First load from a folder the server reads: observations of values that carry no identity, from
// $url (unlinked.csv: account_id, kind, value, first_seen), one (:UnlinkedValue) per account,
// committing every $batch rows.
LOAD CSV WITH HEADERS FROM $url AS row
CALL {
  WITH row
  MATCH (a:Account {account_id: row.account_id})
  MERGE (n:UnlinkedValue {account_id: row.account_id, kind: row.kind, value: row.value})
  SET n.first_seen = CASE WHEN coalesce(row.first_seen, '') = '' THEN null ELSE localdatetime(row.first_seen) END
  MERGE (a)-[:OBSERVED]->(n)
} IN TRANSACTIONS OF $batch ROWS
