// Record that one more batch of a batched load committed (runs in that batch's transaction),
// with the counts so far, so the load record says how far an interrupted load got.
MATCH (l:Load {seq: $seq})
SET l.batches_done = $batches_done, l.summary = $summary
WITH l
MATCH (m:Meta {key: 'load.incomplete'})
WHERE m.value = $seq
SET m.batches_done = $batches_done
