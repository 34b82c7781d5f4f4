// Weakly connected components of a projected graph: one row per node (its integer position).
CALL gds.wcc.stream($graph_name)
YIELD nodeId, componentId
RETURN nodeId AS node, componentId AS component
