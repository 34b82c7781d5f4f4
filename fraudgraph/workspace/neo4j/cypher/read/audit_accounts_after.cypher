// Accounts with an audit entry appended after the audit sequence stood at $mark (what someone
// else changed while a sweep ran: the sweep keeps its hands off them). Served by the seq index.
MATCH (e:AuditEntry)
WHERE e.seq > $mark
RETURN DISTINCT e.account_id AS account_id
ORDER BY account_id
