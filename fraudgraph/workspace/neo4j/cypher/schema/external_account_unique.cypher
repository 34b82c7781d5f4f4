// One (:ExternalAccount) per account counterparty that is not (yet) a loaded account.
CREATE CONSTRAINT fg_external_account_id IF NOT EXISTS
FOR (x:ExternalAccount) REQUIRE x.account_id IS UNIQUE
