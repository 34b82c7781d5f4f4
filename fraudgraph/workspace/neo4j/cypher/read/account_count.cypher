// How many accounts are loaded.
MATCH (a:Account)
RETURN count(a) AS n
