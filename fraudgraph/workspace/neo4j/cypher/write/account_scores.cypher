// Create account scores of generation $gen (reasons is JSON text). A sweep stores only the
// scores that are not default (workspace.base: implied rows).
UNWIND $rows AS row
CREATE (s:AccountScore)
SET s = row
SET s.gen = $gen
