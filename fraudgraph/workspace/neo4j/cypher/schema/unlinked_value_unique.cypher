// One (:UnlinkedValue) per observation of a value that carries no identity (one per account, so it links nobody).
CREATE CONSTRAINT fg_unlinked_value IF NOT EXISTS
FOR (n:UnlinkedValue) REQUIRE (n.account_id, n.kind, n.value) IS UNIQUE
