// Append one sweep to the history (summary and diff are JSON text).
CREATE (s:Sweep)
SET s = $row
