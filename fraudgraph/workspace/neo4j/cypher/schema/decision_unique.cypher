// One (:Decision) per account in the current sweep's decisions.
CREATE CONSTRAINT fg_decision IF NOT EXISTS
FOR (d:Decision) REQUIRE d.account_id IS UNIQUE
