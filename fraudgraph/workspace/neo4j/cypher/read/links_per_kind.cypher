// Per identifier kind: observations that link (USES) and distinct identifiers they use.
MATCH (:Account)-[u:USES]->(i:Identifier)
RETURN i.kind AS kind, count(u) AS links, count(DISTINCT i.key) AS identifiers
