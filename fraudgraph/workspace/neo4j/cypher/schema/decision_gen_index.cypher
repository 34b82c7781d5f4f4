// Index (:Decision) rows by (gen, account_id): a sweep's decisions are the rows of its
// generation (the current one is the Meta value results.decisions).
CREATE INDEX fg_decision_gen IF NOT EXISTS
FOR (d:Decision) ON (d.gen, d.account_id)
