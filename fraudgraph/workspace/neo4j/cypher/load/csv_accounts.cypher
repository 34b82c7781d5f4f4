// First load from a folder the server reads: upsert the accounts of $url (accounts.csv written
// by Neo4jWorkspace.load_csv), committing every $batch rows. An empty field is a missing value
// (Neo4j reads it as null, other servers as ''); times are ISO local date-times (UTC).
// Loaded fields are replaced; an analyst's label is never touched.
LOAD CSV WITH HEADERS FROM $url AS row
CALL {
  WITH row
  MERGE (a:Account {account_id: row.account_id})
  SET a.created_at = CASE WHEN coalesce(row.created_at, '') = '' THEN null ELSE localdatetime(row.created_at) END,
      a.credit_limit = CASE WHEN coalesce(row.credit_limit, '') = '' THEN null ELSE toFloat(row.credit_limit) END,
      a.balance = CASE WHEN coalesce(row.balance, '') = '' THEN null ELSE toFloat(row.balance) END,
      a.overdue_days = toInteger(row.overdue_days),
      a.status = CASE WHEN coalesce(row.status, '') = '' THEN null ELSE row.status END,
      a.label = CASE WHEN coalesce(row.label, '') = '' THEN null ELSE row.label END,
      a.properties = coalesce(row.properties, '')
} IN TRANSACTIONS OF $batch ROWS
