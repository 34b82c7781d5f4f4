// How many audit entries there are (every account's).
MATCH (e:AuditEntry)
RETURN count(e) AS n
