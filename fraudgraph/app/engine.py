"""Where a sweep's graph algorithms run: in-process, or inside Neo4j with Graph Data Science.

``resolve_engine`` turns the user's engine choice (python, gds, auto) into the engine that will
run (``gds`` on a server without GDS is an error, ``auto`` falls back to python with a log line);
``cluster_function`` gives ``detect`` its ``cluster_fn`` for that engine. The algorithm is
``fraudgraph.detection.engine``'s; the server's queries are ``fraudgraph.workspace.neo4j.gds``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from fraudgraph.detection.engine import ENGINES, Stream, cluster_labels
from fraudgraph.errors import WorkspaceError
from fraudgraph.model.config import DetectionConfig
from fraudgraph.workspace.neo4j.gds import gds_available as server_gds_available, gds_stream

__all__ = [
    "ENGINES",
    "cluster_function",
    "components_and_communities",
    "detect_engine",
    "gds_available",
    "resolve_engine",
]

log = logging.getLogger("fraudgraph")


def gds_available(ws: Any) -> tuple[bool, str]:
    """Whether the workspace's server offers Graph Data Science, and why not. Only Neo4j can."""
    backend = getattr(ws, "backend", None)
    if backend != "neo4j":
        return False, f"the {backend or 'unknown'} workspace runs no server-side graph algorithms"
    return server_gds_available(ws)


def detect_engine(ws: Any) -> str:
    """``"gds"`` when the workspace's server has Graph Data Science, else ``"python"``."""
    ok, _ = gds_available(ws)
    return "gds" if ok else "python"


def resolve_engine(ws: Any, requested: str = "python") -> str:
    """The engine a sweep will use. ``python`` always works; ``gds`` raises ``WorkspaceError``
    (one line: which server, what is missing) where GDS is not there; ``auto`` falls back."""
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


def _stream_of(ws: Any) -> Stream:
    return lambda edges, algorithm: gds_stream(ws, edges, algorithm)


def cluster_function(
    ws: Any, engine: str, *, seed: int = 0, config: Any = None
) -> Callable[[sp.csr_matrix], np.ndarray] | None:
    """The ``cluster_fn`` for ``detect``: None for python (its own components + Leiden), a
    function that runs WCC and Louvain in the database for gds."""
    if engine == "python":
        return None
    if engine != "gds":
        raise ValueError(f"cluster_function needs a resolved engine (python or gds), got {engine!r}")
    max_size = (config or DetectionConfig()).max_community_size
    return lambda adjacency: cluster_labels(adjacency, max_community_size=max_size, seed=seed, stream=_stream_of(ws))


def components_and_communities(
    ws: Any, adjacency: sp.csr_matrix, *, engine: str = "python", max_community_size: int = 40, seed: int = 0
) -> np.ndarray:
    """Cluster labels of ``adjacency`` with the given engine (see ``detection.engine.cluster_labels``)."""
    if engine not in ("python", "gds"):
        raise ValueError(f"unknown engine {engine!r}; expected python or gds")
    stream = _stream_of(ws) if engine == "gds" else None
    return cluster_labels(adjacency, max_community_size=max_community_size, seed=seed, stream=stream)
