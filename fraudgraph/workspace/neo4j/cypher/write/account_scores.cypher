// Create the sweep's account scores (reasons is JSON text).
UNWIND $rows AS row
CREATE (s:AccountScore)
SET s = row
