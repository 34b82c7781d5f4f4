// Create the sweep's decisions (reasons is JSON text).
UNWIND $rows AS row
CREATE (d:Decision)
SET d = row
