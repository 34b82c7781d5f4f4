// Real-time check: the given rings of the last sweep (reasons is JSON text) and the action and
// trigger in force of each member, from which the caller takes the ring's action.
UNWIND $ring_ids AS ring_id
MATCH (r:Ring {gen: $rings_gen, ring_id: ring_id})
OPTIONAL MATCH (m:Account)-[:MEMBER_OF]->(r)
OPTIONAL MATCH (d:Decision {gen: $decisions_gen, account_id: m.account_id})
OPTIONAL MATCH (st:AccountState {account_id: m.account_id})
RETURN r.ring_id AS ring_id, r.size AS size, r.score AS score, r.reasons AS reasons,
       collect(coalesce(st.action, d.action, 'none')) AS actions,
       collect(coalesce(st.trigger, d.trigger, 'none')) AS triggers
