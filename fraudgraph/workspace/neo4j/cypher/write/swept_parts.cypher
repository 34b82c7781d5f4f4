// Create parts of the accounts of a sweep (generation $gen): each part's sorted account ids and
// their credit limits at the sweep, both JSON text; first_id is the part's smallest id.
UNWIND $rows AS row
CREATE (p:SweptPart)
SET p = row
SET p.gen = $gen
