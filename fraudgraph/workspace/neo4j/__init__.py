"""The Neo4j workspace over Bolt: named Cypher queries (``cypher/``), the lock node, GDS."""
