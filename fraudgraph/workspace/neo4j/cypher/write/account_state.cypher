// Upsert account state rows: each replaces the account's previous state as a whole.
UNWIND $rows AS row
MERGE (s:AccountState {account_id: row.account_id})
SET s = row
