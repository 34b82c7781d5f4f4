// One (:Identifier) node per canonical (kind, key): every raw spelling of it points here.
CREATE CONSTRAINT fg_identifier_kind_key IF NOT EXISTS
FOR (i:Identifier) REQUIRE (i.kind, i.key) IS UNIQUE
