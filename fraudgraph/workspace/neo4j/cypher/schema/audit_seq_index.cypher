// Index the audit trail by its sequence number: entries are read oldest first.
CREATE INDEX fg_audit_seq IF NOT EXISTS
FOR (e:AuditEntry) ON (e.seq)
