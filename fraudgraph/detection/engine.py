"""Where a sweep's graph algorithms run: in-process (scipy components + igraph Leiden) or inside
Neo4j with the Graph Data Science library (WCC + Louvain), behind one function.

``resolve_engine`` turns the user's ``--engine python|gds|auto`` into the engine that will run
(``gds`` on a server without GDS is an error, ``auto`` falls back to python with a log line);
``cluster_function`` gives ``detection.detect`` its ``cluster_fn`` for that engine.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from fraudgraph.errors import WorkspaceError

__all__ = [
    "ENGINES",
    "GDS_PROCEDURES",
    "cluster_function",
    "components_and_communities",
    "detect_engine",
    "gds_available",
    "resolve_engine",
]

log = logging.getLogger("fraudgraph")

ENGINES = ("python", "gds", "auto")
# The procedures the gds engine calls; a server must offer all of them.
GDS_PROCEDURES = ("gds.graph.project", "gds.wcc.stream", "gds.louvain.stream", "gds.graph.drop")
# Louvain is re-run on parts still above the size bound at most this deep (then kept whole).
_MAX_SPLIT_DEPTH = 4


def _server_name(ws) -> str:
    agent = ws.server_agent() if hasattr(ws, "server_agent") else None
    where = getattr(ws, "location", "the server")
    return f"{where} ({agent})" if agent else where


def gds_available(ws) -> tuple[bool, str]:
    """Whether the workspace's server offers the GDS procedures this engine needs, and why not.

    Only a Neo4j workspace can; the check is ``SHOW PROCEDURES`` (servers that do not list
    procedures, like ArcadeDB, list none, so they count as without GDS).
    """
    if getattr(ws, "backend", None) != "neo4j":
        return (
            False,
            f"the {getattr(ws, 'backend', 'unknown')} workspace runs no server-side graph algorithms",
        )
    try:
        names = {r["name"] for r in ws.run_query("gds/procedures")}
    except WorkspaceError as e:
        return False, f"cannot list the procedures of {_server_name(ws)}: {e}"
    # gds.graph.project is both a procedure and (GDS >= 2.4) the aggregation function we use.
    missing = [p for p in GDS_PROCEDURES if p not in names and p != "gds.graph.project"]
    if not any(name.startswith("gds.") for name in names):
        return False, f"GDS procedures not available on {_server_name(ws)} (it lists no gds.* procedures)"
    if missing:
        return False, f"GDS procedures not available on {_server_name(ws)} (missing {', '.join(missing)})"
    return True, "gds"


def detect_engine(ws) -> str:
    """``"gds"`` when the workspace's server has Graph Data Science, else ``"python"``."""
    ok, _ = gds_available(ws)
    return "gds" if ok else "python"


def resolve_engine(ws, requested: str = "python") -> str:
    """The engine a sweep will use for ``--engine requested``.

    ``python`` always works; ``gds`` raises ``WorkspaceError`` (one line: which server, what is
    missing) when the server has no GDS, rather than silently running something else; ``auto``
    picks gds when available and logs the fallback otherwise.
    """
    if requested not in ENGINES:
        raise ValueError(f"unknown engine {requested!r}; expected one of {', '.join(ENGINES)}")
    if requested == "python":
        return "python"
    ok, why = gds_available(ws)
    if ok:
        return "gds"
    if requested == "gds":
        raise WorkspaceError(f"the GDS engine cannot run: {why}; use the python engine (or auto)", setting="engine")
    log.info("engine auto: %s; running the python engine", why)
    return "python"


def cluster_function(ws, engine: str, *, seed: int = 0, config=None) -> Callable[[sp.csr_matrix], np.ndarray] | None:
    """The ``cluster_fn`` for ``detection.detect``: None for python (its own components + Leiden),
    a function that runs WCC and Louvain in the database for gds."""
    if engine == "python":
        return None
    if engine != "gds":
        raise ValueError(f"cluster_function needs a resolved engine (python or gds), got {engine!r}")
    from fraudgraph.detection.graph import DetectionConfig

    max_size = (config or DetectionConfig()).max_community_size

    def gds_clusters(adjacency: sp.csr_matrix) -> np.ndarray:
        return components_and_communities(ws, adjacency, engine="gds", max_community_size=max_size, seed=seed)

    return gds_clusters


def components_and_communities(
    ws,
    adjacency: sp.csr_matrix,
    *,
    engine: str = "python",
    max_community_size: int = 40,
    seed: int = 0,
) -> np.ndarray:
    """A cluster label per account (row of ``adjacency``), -1 for accounts with no edge.

    Components of the weighted, symmetric adjacency; a component above ``max_community_size``
    is split by community detection, and parts still too big are split again. With
    ``engine="gds"`` both steps run in the database (``gds.wcc.stream``, ``gds.louvain.stream``
    on graphs projected from the adjacency's edges); with ``"python"`` they run here (scipy
    components, igraph Leiden seeded with ``seed``).

    >>> import scipy.sparse as sp
    >>> a = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(3, 3))
    >>> components_and_communities(None, a).tolist()
    [0, 0, -1]
    """
    adjacency = sp.csr_matrix(adjacency)
    n = adjacency.shape[0]
    if adjacency.shape != (n, n):
        raise ValueError(f"adjacency must be square, got shape {adjacency.shape}")
    if engine == "python":
        return _python_clusters(adjacency, max_community_size, seed)
    if engine == "gds":
        return _gds_clusters(ws, adjacency, max_community_size)
    raise ValueError(f"unknown engine {engine!r}; expected python or gds")


def _python_clusters(adjacency: sp.csr_matrix, max_size: int, seed: int) -> np.ndarray:
    """The gds engine's algorithm run here (components, then seeded Louvain inside big ones), to
    compare the two engines; a python sweep uses ``rings.find_candidate_rings`` (Leiden) instead."""
    import igraph as ig
    from scipy.sparse.csgraph import connected_components

    n = adjacency.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    _, comp = connected_components(adjacency, directed=False)
    degree = np.diff(adjacency.indptr)
    next_label = 0
    pending = [(np.flatnonzero(comp == c), 0) for c in np.unique(comp[degree > 0])]
    while pending:
        members, depth = pending.pop(0)
        if len(members) <= max_size or depth >= _MAX_SPLIT_DEPTH:
            labels[members] = next_label
            next_label += 1
            continue
        sub = sp.triu(adjacency[members][:, members], k=1).tocoo()
        graph = ig.Graph(n=len(members), edges=np.column_stack([sub.row, sub.col]).tolist())
        previous = random.getstate()
        ig.set_random_number_generator(random.Random(seed))  # Louvain visits nodes in random order
        try:
            communities = np.asarray(graph.community_multilevel(weights=sub.data.astype(float).tolist()).membership)
        finally:
            ig.set_random_number_generator(random)
            random.setstate(previous)
        if len(np.unique(communities)) <= 1:
            labels[members] = next_label
            next_label += 1
            continue
        for c in np.unique(communities):
            pending.append((members[communities == c], depth + 1))
    return labels


def _edges(adjacency: sp.csr_matrix, nodes: np.ndarray | None = None) -> list[list[Any]]:
    """Upper-triangle edges as [i, j, weight] with i, j original row numbers (a projection is undirected)."""
    sub = adjacency if nodes is None else adjacency[nodes][:, nodes]
    upper = sp.triu(sub, k=1).tocoo()
    rows, cols = upper.row, upper.col
    if nodes is not None:
        rows, cols = nodes[rows], nodes[cols]
    return [[int(i), int(j), float(w)] for i, j, w in zip(rows, cols, upper.data)]


def _gds_stream(ws, edges: list[list[Any]], procedure: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Project ``edges`` as a temporary GDS graph, stream one algorithm, drop the graph."""
    name = f"fraudgraph-{uuid.uuid4().hex[:12]}"
    ws.run_query("gds/project_edges", graph_name=name, edges=edges)
    try:
        rows = ws.run_query(procedure, graph_name=name)
    finally:
        ws.run_query("gds/drop_graph", graph_name=name)
    nodes = np.array([int(r["node"]) for r in rows], dtype=np.int64)
    labels = np.array([int(r[column]) for r in rows], dtype=np.int64)
    return nodes, labels


def _gds_clusters(ws, adjacency: sp.csr_matrix, max_size: int) -> np.ndarray:
    n = adjacency.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    edges = _edges(adjacency)
    if not edges:
        return labels
    # Projected with integer ids (the row numbers), so streamed node ids are those rows.
    nodes, components = _gds_stream(ws, edges, "gds/wcc_stream", "component")
    if len(nodes) and (nodes.min() < 0 or nodes.max() >= n):
        raise WorkspaceError(f"GDS returned node ids outside 0..{n - 1}; the projection did not keep row numbers")
    next_label = 0
    pending: list[tuple[np.ndarray, int]] = []
    order = np.argsort(components, kind="stable")
    _, starts = np.unique(components[order], return_index=True)
    for members in np.split(nodes[order], starts[1:]):
        pending.append((np.sort(members), 0))
    while pending:
        members, depth = pending.pop(0)
        if len(members) <= max_size or depth >= _MAX_SPLIT_DEPTH:
            labels[members] = next_label
            next_label += 1
            continue
        part_nodes, communities = _gds_stream(ws, _edges(adjacency, members), "gds/louvain_stream", "community")
        if len(np.unique(communities)) <= 1:
            labels[members] = next_label  # nothing to split: keep it whole rather than loop
            next_label += 1
            continue
        order = np.argsort(communities, kind="stable")
        _, starts = np.unique(communities[order], return_index=True)
        for part in np.split(part_nodes[order], starts[1:]):
            pending.append((np.sort(part), depth + 1))
    return labels
