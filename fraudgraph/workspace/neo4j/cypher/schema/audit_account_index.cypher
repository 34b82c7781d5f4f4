// Index the audit trail by account: `fraudgraph audit ACCOUNT` reads one account's entries.
CREATE INDEX fg_audit_account IF NOT EXISTS
FOR (e:AuditEntry) ON (e.account_id)
