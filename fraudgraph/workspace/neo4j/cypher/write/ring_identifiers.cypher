// Link each ring of generation $gen to the identifiers its members share (SHARES), with how many
// members and accounts use it and the raw spellings seen; seq keeps the sweep's order.
UNWIND $rows AS row
MATCH (r:Ring {gen: $gen, ring_id: row.ring_id})
MATCH (i:Identifier {kind: row.kind, key: row.key})
CREATE (r)-[:SHARES {seq: row.seq, n_members: row.n_members, n_accounts: row.n_accounts, raw_values: row.raw_values}]->(i)
