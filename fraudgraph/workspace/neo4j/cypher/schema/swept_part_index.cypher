// Index (:SweptPart) nodes by (gen, part): the accounts of a sweep, in parts of sorted ids.
CREATE INDEX fg_swept_part IF NOT EXISTS
FOR (p:SweptPart) ON (p.gen, p.part)
