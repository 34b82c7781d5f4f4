// Louvain communities (weighted modularity) of a projected graph: one row per node.
// concurrency 1 keeps the result the same from run to run.
CALL gds.louvain.stream($graph_name, {relationshipWeightProperty: 'weight', concurrency: 1})
YIELD nodeId, communityId
RETURN nodeId AS node, communityId AS community
