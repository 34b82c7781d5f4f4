// Schema 1 -> 2: rings of two generations coexist while a sweep writes, so the one-node-per-ring-id
// constraint of schema 1 goes (fg_ring_gen replaces it).
DROP CONSTRAINT fg_ring_id IF EXISTS
