// Make generation $gen the current one of the result tables $keys (Meta results.<key>), and
// record what is left to delete ($stale: JSON text); runs in the sweep's last transaction.
UNWIND $keys AS key
MERGE (m:Meta {key: 'results.' + key})
SET m.value = $gen
WITH count(*) AS switched
MERGE (s:Meta {key: 'results.stale'})
SET s.value = $stale
RETURN switched
