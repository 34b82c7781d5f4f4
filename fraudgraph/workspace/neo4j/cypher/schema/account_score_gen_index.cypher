// Index (:AccountScore) rows by (gen, account_id): a sweep's scores are the rows of its
// generation (the current one is the Meta value results.account_scores).
CREATE INDEX fg_account_score_gen IF NOT EXISTS
FOR (s:AccountScore) ON (s.gen, s.account_id)
