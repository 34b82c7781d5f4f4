// One workspace setting (schema version, ring counter), or no row.
MATCH (m:Meta {key: $key})
RETURN m.value AS value
