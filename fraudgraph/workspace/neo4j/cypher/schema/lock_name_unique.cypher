// One (:Lock) node per lock name, so two sweeps MERGE the same node and one of them waits.
CREATE CONSTRAINT fg_lock_name IF NOT EXISTS
FOR (l:Lock) REQUIRE l.name IS UNIQUE
