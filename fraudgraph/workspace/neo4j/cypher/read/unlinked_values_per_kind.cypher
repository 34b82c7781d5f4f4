// Per identifier kind: observations of values that carry no identity.
MATCH (n:UnlinkedValue)
RETURN n.kind AS kind, count(n) AS no_identity
