// One (:Meta) node per workspace setting (schema version, ring counter, sequence counters).
CREATE CONSTRAINT fg_meta_key IF NOT EXISTS
FOR (m:Meta) REQUIRE m.key IS UNIQUE
