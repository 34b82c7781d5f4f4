// Index (:Ring) nodes by (gen, ring_id): one node per stable ring id in each generation
// (the current one is the Meta value results.rings).
CREATE INDEX fg_ring_gen IF NOT EXISTS
FOR (r:Ring) ON (r.gen, r.ring_id)
