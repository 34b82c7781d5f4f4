// One (:Sweep) node per sweep in the history.
CREATE CONSTRAINT fg_sweep_id IF NOT EXISTS
FOR (s:Sweep) REQUIRE s.sweep_id IS UNIQUE
