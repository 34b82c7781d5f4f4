"""Write an investigation subgraph (accounts, identifiers, money flows) to the files people open
elsewhere: Gephi / Cytoscape (GraphML, GEXF), d3 (node-link JSON), spreadsheets (CSV), Neo4j
(a Cypher script), a browser (one self-contained HTML file) and a static picture (PNG).

The subgraph comes from ``investigate.py`` as a ``networkx.DiGraph`` (see ``prepare_graph`` for the
attribute schema). Every writer goes through ``prepare_graph`` first, so attribute names and types
are the same in every format, and writes through a temporary file renamed into place, so an error
never leaves a half-written export behind.

Missing numbers
    JSON cannot hold NaN, Gephi and Neo4j handle it badly, and dropping the attribute would change
    the column set from node to node. So ``prepare_graph`` writes a missing (NaN, None or infinite)
    float as ``0.0`` and records whether it was known in a boolean companion attribute
    ``<name>_known``: every account node carries ``score_known``, ``credit_limit_known`` and
    ``balance_known``. ``0.0`` is also what the ring exposure uses for an unknown credit limit.
    Missing strings become ``""``, missing integers ``0``, missing booleans ``False``. The JSON
    export says what these stand for instead (``formats.json_graph``): such a number, and an absent
    date, ring, status or label, is null there, and lists (``raw_values``, ``reasons``, ``notes``)
    are arrays, never JSON text inside JSON.

This module is the entry point (``export_graph``) and the format dispatch; the work lives in
``subgraph`` (the schema and labels), ``paths`` (suffixes, atomic writes), ``formats`` (GraphML,
GEXF, JSON, CSV, Cypher), ``html`` (+ graph_view.js) and ``png`` (matplotlib, the ``png`` extra).
The names other code imports from here are re-exported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from fraudgraph.outputs.formats import (
    graph_to_cypher,
    graph_to_frames,
    node_link_data,
    write_csv,
    write_cypher,
    write_gexf,
    write_graphml,
    write_json,
)
from fraudgraph.outputs.html import graph_to_html, write_html
from fraudgraph.outputs.paths import atomic_paths, csv_paths, format_from_path
from fraudgraph.outputs.png import write_png
from fraudgraph.outputs.subgraph import (
    ACTION_COLOURS,
    EDGE_COLUMNS,
    FORMATS,
    KIND_COLOURS,
    NODE_COLUMNS,
    NODE_SCHEMAS,
    RISK_STOPS,
    ExportError,
    prepare_graph,
)

__all__ = [
    "ACTION_COLOURS",
    "EDGE_COLUMNS",
    "FORMATS",
    "KIND_COLOURS",
    "NODE_COLUMNS",
    "NODE_SCHEMAS",
    "RISK_STOPS",
    "WRITERS",
    "ExportError",
    "csv_paths",
    "export_graph",
    "format_from_path",
    "graph_to_cypher",
    "graph_to_frames",
    "graph_to_html",
    "node_link_data",
    "prepare_graph",
]


def export_graph(G: nx.Graph, path: str | os.PathLike, fmt: str | None = None) -> list[Path]:
    """Write the subgraph ``G`` to ``path`` in ``fmt`` (default: from the suffix); return the files written.

    CSV writes two files (see ``csv_paths``); every other format writes ``path`` itself. Files are
    written to a temporary name and renamed, so a failure leaves no partial export.

    >>> export_graph(G, "ring.graphml")          # doctest: +SKIP
    [PosixPath('ring.graphml')]
    """
    path = Path(path)
    fmt = format_from_path(path) if fmt is None else fmt.lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    H = prepare_graph(G)
    if fmt == "csv":
        targets = list(csv_paths(path))
        with atomic_paths(targets) as temps:
            write_csv(H, *temps)
        return targets
    with atomic_paths([path]) as (temp,):
        WRITERS[fmt](H, G, temp)
    return [path]


WRITERS: dict[str, Callable[[nx.DiGraph, nx.Graph, Path], None]] = {
    "graphml": write_graphml,
    "gexf": write_gexf,
    "json": write_json,
    "cypher": write_cypher,
    "html": write_html,
    "png": write_png,
}
