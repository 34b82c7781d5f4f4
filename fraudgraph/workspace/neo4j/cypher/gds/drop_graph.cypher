// Drop a projected graph from the GDS catalog (no error when it is already gone).
CALL gds.graph.drop($graph_name, false)
YIELD graphName
RETURN graphName AS graph_name
