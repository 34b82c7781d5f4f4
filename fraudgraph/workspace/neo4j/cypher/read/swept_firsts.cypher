// The parts of the accounts of the sweep of generation $gen: each part's number and smallest id.
MATCH (p:SweptPart {gen: $gen})
RETURN p.part AS part, p.first_id AS first_id
ORDER BY p.part
