// Real-time check: the accounts using the given identifiers (each shared by few accounts: the
// caller leaves hubs out), with their ring and score from the last sweep and the action,
// status and trigger in force (an applied AccountState wins over the sweep's Decision).
UNWIND $pairs AS pair
MATCH (i:Identifier {kind: pair.kind, key: pair.key})<-[:USES]-(a:Account)
WITH DISTINCT a, i.kind AS kind, i.key AS key
OPTIONAL MATCH (s:AccountScore {gen: $scores_gen, account_id: a.account_id})
OPTIONAL MATCH (d:Decision {gen: $decisions_gen, account_id: a.account_id})
OPTIONAL MATCH (st:AccountState {account_id: a.account_id})
RETURN a.account_id AS account_id, kind, key, s.ring_id AS ring_id, s.score AS score,
       coalesce(st.action, d.action, 'none') AS action, coalesce(st.status, a.status) AS status,
       coalesce(st.trigger, d.trigger, 'none') AS trigger
ORDER BY kind, key, account_id
