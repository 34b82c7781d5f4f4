// First load from a folder the server reads: the link observations of $url (uses.csv: account_id,
// kind, key, value, first_seen) as USES relationships, committing every $batch rows.
LOAD CSV WITH HEADERS FROM $url AS row
CALL {
  WITH row
  MATCH (a:Account {account_id: row.account_id})
  MATCH (i:Identifier {kind: row.kind, key: row.key})
  MERGE (a)-[u:USES {value: row.value}]->(i)
  SET u.first_seen = CASE WHEN coalesce(row.first_seen, '') = '' THEN null ELSE localdatetime(row.first_seen) END
} IN TRANSACTIONS OF $batch ROWS
