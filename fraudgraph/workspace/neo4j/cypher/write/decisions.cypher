// Create decisions of generation $gen (reasons is JSON text). A sweep stores only the decisions
// that are not default (workspace.base: implied rows).
UNWIND $rows AS row
CREATE (d:Decision)
SET d = row
SET d.gen = $gen
