// Set one workspace setting (schema version, ring counter).
MERGE (m:Meta {key: $key})
SET m.value = $value
