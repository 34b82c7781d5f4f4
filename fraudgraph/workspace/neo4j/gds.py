"""Graph Data Science on the Neo4j server: whether it is there, and one algorithm streamed over a
temporary projection of a sweep's account graph. The algorithm's loop (components, then
communities inside the big ones) is ``fraudgraph.detection.engine``'s; only the queries are here."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from fraudgraph.errors import WorkspaceError

# The procedures the gds engine calls; a server must offer all of them.
GDS_PROCEDURES = ("gds.graph.project", "gds.wcc.stream", "gds.louvain.stream", "gds.graph.drop")
# The named query and result column of each algorithm the engine streams.
_ALGORITHMS = {"wcc": ("gds/wcc_stream", "component"), "louvain": ("gds/louvain_stream", "community")}


def server_name(ws: Any) -> str:
    """How messages name the server: its location and, when known, its agent string."""
    agent = ws.server_agent() if hasattr(ws, "server_agent") else None
    where = getattr(ws, "location", "the server")
    return f"{where} ({agent})" if agent else where


def gds_available(ws: Any) -> tuple[bool, str]:
    """Whether the server offers the GDS procedures the engine needs, and why not.

    The check is ``SHOW PROCEDURES`` (servers that do not list procedures, like ArcadeDB, list
    none, so they count as without GDS).
    """
    try:
        names = {r["name"] for r in ws.run_query("gds/procedures")}
    except WorkspaceError as e:
        return False, f"cannot list the procedures of {server_name(ws)}: {e}"
    # gds.graph.project is both a procedure and (GDS >= 2.4) the aggregation function we use.
    missing = [p for p in GDS_PROCEDURES if p not in names and p != "gds.graph.project"]
    if not any(name.startswith("gds.") for name in names):
        return False, f"GDS procedures not available on {server_name(ws)} (it lists no gds.* procedures)"
    if missing:
        return False, f"GDS procedures not available on {server_name(ws)} (missing {', '.join(missing)})"
    return True, "gds"


def gds_stream(ws: Any, edges: list[list[Any]], algorithm: str) -> tuple[np.ndarray, np.ndarray]:
    """Project ``edges`` ([i, j, weight]) as a temporary GDS graph, stream ``algorithm`` (wcc or
    louvain), and drop the graph even when the algorithm fails. Returns (node ids, labels)."""
    query, column = _ALGORITHMS[algorithm]
    name = f"fraudgraph-{uuid.uuid4().hex[:12]}"
    ws.run_query("gds/project_edges", graph_name=name, edges=edges)
    try:
        rows = ws.run_query(query, graph_name=name)
    finally:
        ws.run_query("gds/drop_graph", graph_name=name)
    nodes = np.array([int(r["node"]) for r in rows], dtype=np.int64)
    labels = np.array([int(r[column]) for r in rows], dtype=np.int64)
    # Projected with integer ids (the caller's row numbers): the answer may name no other node.
    projected = np.unique(np.array([[e[0], e[1]] for e in edges], dtype=np.int64))
    if len(nodes) and not np.isin(nodes, projected).all():
        raise WorkspaceError(
            f"{server_name(ws)}: GDS returned node ids that were not projected; the projection did not keep row numbers"
        )
    return nodes, labels
