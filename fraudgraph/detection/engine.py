"""Cluster a sweep's account graph: connected components, then communities inside the components
above a size bound, and again inside parts still too big (at most ``_MAX_SPLIT_DEPTH`` deep).

One loop, two ways to run its steps: in-process (scipy components, seeded igraph Louvain), or
through a ``stream`` function that runs the same algorithms elsewhere (the Neo4j workspace streams
them from Graph Data Science). This module knows no workspace: the caller passes the stream.
A python sweep normally uses ``rings.find_candidate_rings`` (Leiden); the in-process path here is
the server algorithm run locally, so the two engines can be compared.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

ENGINES = ("python", "gds", "auto")
# Louvain is re-run on parts still above the size bound at most this deep (then kept whole).
_MAX_SPLIT_DEPTH = 4

# stream(edges as [i, j, weight], "wcc" | "louvain") -> (node ids, labels); node ids are the
# row numbers the edges name, and a stream raises when its server answers with others.
Stream = Callable[[list[list[Any]], str], tuple[np.ndarray, np.ndarray]]


def edge_list(adjacency: sp.csr_matrix, nodes: np.ndarray | None = None) -> list[list[Any]]:
    """Upper-triangle edges as [i, j, weight] with i, j original row numbers (a projection is undirected)."""
    sub = adjacency if nodes is None else adjacency[nodes][:, nodes]
    upper = sp.triu(sub, k=1).tocoo()
    rows, cols = upper.row, upper.col
    if nodes is not None:
        rows, cols = nodes[rows], nodes[cols]
    return [[int(i), int(j), float(w)] for i, j, w in zip(rows, cols, upper.data)]


def cluster_labels(
    adjacency: sp.csr_matrix, *, max_community_size: int = 40, seed: int = 0, stream: Stream | None = None
) -> np.ndarray:
    """A cluster label per account (row of ``adjacency``), -1 for accounts with no edge.

    >>> a = sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(3, 3))
    >>> cluster_labels(a).tolist()
    [0, 0, -1]
    """
    adjacency = sp.csr_matrix(adjacency)
    n = adjacency.shape[0]
    if adjacency.shape != (n, n):
        raise ValueError(f"adjacency must be square, got shape {adjacency.shape}")
    labels = np.full(n, -1, dtype=np.int64)
    if stream is None:
        groups = _local_components(adjacency)
        split = _local_louvain(adjacency, seed)
    else:
        groups = _streamed_components(adjacency, stream)
        split = _streamed_louvain(adjacency, stream)
    _split_big_groups(labels, groups, max_community_size, split)
    return labels


def _split_big_groups(
    labels: np.ndarray, groups: list[np.ndarray], max_size: int, split: Callable[[np.ndarray], list[np.ndarray]]
) -> None:
    """Label each group; split those above ``max_size`` by ``split`` until small, unsplittable or deep."""
    next_label = 0
    pending = [(members, 0) for members in groups]
    while pending:
        members, depth = pending.pop(0)
        parts = [] if len(members) <= max_size or depth >= _MAX_SPLIT_DEPTH else split(members)
        if len(parts) <= 1:
            labels[members] = next_label  # small enough, or nothing to split: keep it whole
            next_label += 1
            continue
        pending.extend((part, depth + 1) for part in parts)


def _local_components(adjacency: sp.csr_matrix) -> list[np.ndarray]:
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(adjacency, directed=False)
    degree = np.diff(adjacency.indptr)
    return [np.flatnonzero(comp == c) for c in np.unique(comp[degree > 0])]


def _local_louvain(adjacency: sp.csr_matrix, seed: int) -> Callable[[np.ndarray], list[np.ndarray]]:
    from fraudgraph.detection.rings import import_igraph

    ig = import_igraph()

    def split(members: np.ndarray) -> list[np.ndarray]:
        sub = sp.triu(adjacency[members][:, members], k=1).tocoo()
        graph = ig.Graph(n=len(members), edges=np.column_stack([sub.row, sub.col]).tolist())
        previous = random.getstate()
        ig.set_random_number_generator(random.Random(seed))  # Louvain visits nodes in random order
        try:
            communities = np.asarray(graph.community_multilevel(weights=sub.data.astype(float).tolist()).membership)
        finally:
            ig.set_random_number_generator(random)
            random.setstate(previous)
        return [members[communities == c] for c in np.unique(communities)]

    return split


def _grouped(nodes: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """Nodes grouped by label (in label order), each group sorted."""
    order = np.argsort(labels, kind="stable")
    _, starts = np.unique(labels[order], return_index=True)
    return [np.sort(part) for part in np.split(nodes[order], starts[1:])] if len(nodes) else []


def _streamed_components(adjacency: sp.csr_matrix, stream: Stream) -> list[np.ndarray]:
    edges = edge_list(adjacency)
    if not edges:
        return []
    # The stream answers with the row numbers the edges name (it checks its server's answer).
    return _grouped(*stream(edges, "wcc"))


def _streamed_louvain(adjacency: sp.csr_matrix, stream: Stream) -> Callable[[np.ndarray], list[np.ndarray]]:
    def split(members: np.ndarray) -> list[np.ndarray]:
        return _grouped(*stream(edge_list(adjacency, members), "louvain"))

    return split
