// Append one (:Load) node describing a finished load (when, from where, what changed).
CREATE (l:Load)
SET l.seq = $seq, l.at = $at, l.source = $source, l.summary = $summary
