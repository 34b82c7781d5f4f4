// Start a batched load: append its (:Load) node, marked incomplete (complete = false), and
// set the workspace's incomplete-load marker, which sweeps refuse to run past until a load
// of the same source finishes. A re-run of an unfinished load keeps the marker's first
// start and transactions_before (what was stored before its first attempt).
CREATE (l:Load)
SET l.seq = $seq, l.at = $at, l.source = $source, l.summary = $summary, l.complete = false,
    l.batches = $batches, l.batches_done = 0
MERGE (m:Meta {key: 'load.incomplete'})
ON CREATE SET m.started_at = $at, m.transactions_before = $transactions_before
SET m.value = $seq, m.source = $source, m.batches = $batches, m.batches_done = 0
