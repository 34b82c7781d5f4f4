// One (:AccountScore) per account in the current sweep's scores.
CREATE CONSTRAINT fg_account_score IF NOT EXISTS
FOR (s:AccountScore) REQUIRE s.account_id IS UNIQUE
