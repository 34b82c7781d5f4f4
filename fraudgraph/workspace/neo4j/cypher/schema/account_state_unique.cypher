// One (:AccountState) per account that ever had an action (upserted).
CREATE CONSTRAINT fg_account_state IF NOT EXISTS
FOR (s:AccountState) REQUIRE s.account_id IS UNIQUE
