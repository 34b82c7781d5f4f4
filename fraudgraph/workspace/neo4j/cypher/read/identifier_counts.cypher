// For (kind, key) pairs: how many accounts use the identifier and its raw spellings
// (kept on the node by every load). Identifiers nobody uses any more are left out.
UNWIND $pairs AS pair
MATCH (i:Identifier {kind: pair.kind, key: pair.key})
WHERE i.n_accounts > 0
RETURN i.kind AS kind, i.key AS key, i.n_accounts AS n_accounts, i.raw_values AS raw_values
