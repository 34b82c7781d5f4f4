// One (:Ring) node per stable ring id of the current sweep.
CREATE CONSTRAINT fg_ring_id IF NOT EXISTS
FOR (r:Ring) REQUIRE r.ring_id IS UNIQUE
