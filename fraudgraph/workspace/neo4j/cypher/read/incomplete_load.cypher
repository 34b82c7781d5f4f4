// The unfinished batched load, if any: its source, first start, batches committed of all,
// and how many transactions were stored before its first attempt.
MATCH (m:Meta {key: 'load.incomplete'})
RETURN m.value AS seq, m.source AS source, m.started_at AS started_at, m.batches AS batches,
       m.batches_done AS batches_done, m.transactions_before AS transactions_before
