// Append audit entries. The audit trail is append-only: no query updates or deletes (:AuditEntry).
UNWIND $rows AS row
CREATE (e:AuditEntry)
SET e = row
