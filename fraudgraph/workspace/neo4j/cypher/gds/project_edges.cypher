// Project the sweep's weighted, undirected account graph into the GDS catalog as $graph_name.
// Accounts are integer positions (rows of the sweep's adjacency); edges are sent once (i < j).
UNWIND $edges AS edge
WITH gds.graph.project(
  $graph_name, edge[0], edge[1],
  {relationshipProperties: {weight: edge[2]}},
  {undirectedRelationshipTypes: ['*']}
) AS g
RETURN g.graphName AS graph_name, g.nodeCount AS node_count, g.relationshipCount AS relationship_count
