// The given parts of the accounts of the sweep of generation $gen: sorted ids and credit limits
// (JSON text).
UNWIND $parts AS part
MATCH (p:SweptPart {gen: $gen, part: part})
RETURN p.part AS part, p.ids AS ids, p.credit_limits AS credit_limits
ORDER BY p.part
