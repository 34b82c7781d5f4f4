// How many rings the sweep of generation $gen (the current: results.rings) found.
MATCH (r:Ring {gen: $gen})
RETURN count(r) AS n
