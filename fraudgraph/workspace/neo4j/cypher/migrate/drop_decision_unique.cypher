// Schema 1 -> 2: decisions of two generations coexist while a sweep writes, so the
// one-decision-per-account constraint of schema 1 goes (fg_decision_gen replaces it).
DROP CONSTRAINT fg_decision IF EXISTS
