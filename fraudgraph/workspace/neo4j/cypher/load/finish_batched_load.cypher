// Mark a batched load complete (after its last batch committed), with its final counts.
MATCH (l:Load {seq: $seq})
SET l.complete = true, l.summary = $summary, l.batches_done = l.batches
