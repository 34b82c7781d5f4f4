// How many transactions are loaded.
MATCH (:Account)-[p:PAID]->()
RETURN count(p) AS n
