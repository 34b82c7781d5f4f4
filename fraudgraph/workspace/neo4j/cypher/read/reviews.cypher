// Analyst reviews, oldest first.
MATCH (v:Review)
RETURN v.account_id AS account_id,
       v.verdict AS verdict,
       v.note AS note,
       v.actor AS actor,
       v.at AS at,
       v.evidence AS evidence
ORDER BY v.seq
