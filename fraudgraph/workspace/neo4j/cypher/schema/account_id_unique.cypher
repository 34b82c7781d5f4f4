// One (:Account) node per account_id; also the index every load and lookup goes through.
CREATE CONSTRAINT fg_account_id IF NOT EXISTS
FOR (a:Account) REQUIRE a.account_id IS UNIQUE
