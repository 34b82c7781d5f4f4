// How many rings the current sweep found.
MATCH (r:Ring)
RETURN count(r) AS n
