"""Outputs layer: subgraph exports (GraphML, GEXF, JSON, CSV, Cypher, HTML, PNG) and case reports."""
