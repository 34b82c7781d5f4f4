// Real-time check: the given accounts (ids that are not loaded are left out), with their ring
// and score from the last sweep and the action, status and trigger in force.
UNWIND $account_ids AS account_id
MATCH (a:Account {account_id: account_id})
OPTIONAL MATCH (s:AccountScore {gen: $scores_gen, account_id: a.account_id})
OPTIONAL MATCH (d:Decision {gen: $decisions_gen, account_id: a.account_id})
OPTIONAL MATCH (st:AccountState {account_id: a.account_id})
RETURN a.account_id AS account_id, null AS kind, null AS key, s.ring_id AS ring_id, s.score AS score,
       coalesce(st.action, d.action, 'none') AS action, coalesce(st.status, a.status) AS status,
       coalesce(st.trigger, d.trigger, 'none') AS trigger
ORDER BY account_id
