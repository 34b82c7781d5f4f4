// Schema 1 -> 2: account scores of two generations coexist while a sweep writes, so the
// one-score-per-account constraint of schema 1 goes (fg_account_score_gen replaces it).
DROP CONSTRAINT fg_account_score IF EXISTS
