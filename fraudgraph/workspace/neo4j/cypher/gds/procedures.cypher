// The Graph Data Science procedures this server offers (none on a server without GDS).
SHOW PROCEDURES YIELD name
WHERE name STARTS WITH 'gds.'
RETURN name
