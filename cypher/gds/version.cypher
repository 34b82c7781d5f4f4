// The Graph Data Science library version (null where the call is accepted but GDS is absent).
RETURN gds.version() AS version
