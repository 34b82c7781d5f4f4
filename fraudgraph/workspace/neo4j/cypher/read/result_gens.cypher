// The current generation of each result table (Meta results.<table>), and the generations
// left to delete (results.stale, JSON text).
MATCH (m:Meta)
WHERE m.key STARTS WITH 'results.'
RETURN substring(m.key, 8) AS key, m.value AS value
