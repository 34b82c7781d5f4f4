"""The file formats other tools open: GraphML and GEXF (Gephi, Cytoscape), node-link JSON (d3),
CSV (spreadsheets) and a Cypher script (Neo4j). Each takes the prepared graph (``prepare_graph``)."""

from __future__ import annotations

import io
import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from fraudgraph.outputs.subgraph import EDGE_COLUMNS, NODE_COLUMNS, ExportError, to_text

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------

# XML 1.0 cannot carry most control characters, even escaped; Python's XML writers would emit a file
# no reader accepts. They are replaced (U+FFFD) in the XML formats only, with a warning.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _strings(H: nx.DiGraph) -> Iterator[str]:
    """Every string in the graph: ids, attribute values and graph attributes."""
    for node, data in H.nodes(data=True):
        yield node
        yield from (v for v in data.values() if isinstance(v, str))
    for _, _, data in H.edges(data=True):
        yield from (v for v in data.values() if isinstance(v, str))
    yield from (v for v in H.graph.values() if isinstance(v, str))


def _xml_safe(H: nx.DiGraph) -> nx.DiGraph:
    if not any(_XML_ILLEGAL.search(text) for text in _strings(H)):
        return H

    def clean(value: Any) -> Any:
        if isinstance(value, str) and _XML_ILLEGAL.search(value):
            log.warning("replacing characters XML cannot hold with U+FFFD in %r", value)
            return _XML_ILLEGAL.sub("\ufffd", value)
        return value

    X = nx.relabel_nodes(H, {n: clean(n) for n in H}, copy=True)
    for _, data in X.nodes(data=True):
        data.update({k: clean(v) for k, v in data.items()})
    for _, _, data in X.edges(data=True):
        data.update({k: clean(v) for k, v in data.items()})
    X.graph.update({k: clean(v) for k, v in X.graph.items()})
    return X


def write_graphml(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    buffer = io.BytesIO()
    nx.write_graphml(_xml_safe(H), buffer, encoding="utf-8", prettyprint=True, named_key_ids=True)
    # ElementTree leaves a carriage return raw in element text, and every XML reader turns a raw CR LF
    # into LF; the writer's own line breaks are LF, so any CR is data and becomes a character reference
    path.write_bytes(buffer.getvalue().replace(b"\r", b"&#13;"))


def write_gexf(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    from xml.etree.ElementTree import SubElement

    from networkx.readwrite.gexf import GEXFWriter

    X = _xml_safe(H)
    X.graph["name"] = X.graph.get("title", "")
    # GEXF has no graph attributes; keep title, centre, reasons and notes in <meta><description>
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    meta = writer.xml.find("meta")
    description = {k: X.graph[k] for k in ("title", "center", "reasons", "notes")}
    SubElement(meta, "description").text = json.dumps(description, ensure_ascii=False)
    writer.add_graph(X)
    # networkx renames a "key" attribute to "networkx_key" (its multigraph edge key); on nodes it is the
    # identifier's canonical key, so give it its name back (readers only special-case it on edges)
    for attributes in writer.xml.iter("attributes"):
        if attributes.get("class") == "node":
            for attribute in attributes.iter("attribute"):
                if attribute.get("title") == "networkx_key":
                    attribute.set("title", "key")
    with open(path, "wb") as fh:
        writer.write(fh)


def node_link_data(H: nx.DiGraph) -> dict:
    """Node-link data (d3 / Cytoscape.js style) with the edge list under ``"edges"`` on every networkx
    version (networkx 3.4+ takes ``edges=``; older ones called it ``link=``). Read it back with
    ``nx.node_link_graph(data, edges="edges")``."""
    try:
        return nx.node_link_data(H, edges="edges")
    except TypeError:  # networkx < 3.4
        return nx.node_link_data(H, link="edges")


# The prepared graph keeps lists as JSON text and absent values as "" or 0.0 (with a ``_known``
# flag), as GraphML, GEXF and CSV need; JSON says what they are instead.
_JSON_LISTS = ("raw_values",)  # schema attributes that hold a JSON list as text
_ABSENT_WHEN_EMPTY = ("status", "ring_id", "created_at", "fraud_label", "first_seen", "first_ts", "last_ts")
_NESTED = (list, tuple, set, dict)


def _json_list(text: Any) -> list:
    """A list attribute the schema keeps as JSON text, as the list (a foreign plain text: one item)."""
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [value]


def _json_attributes(item: dict[str, Any], original: dict[str, Any]) -> None:
    """One node's or edge's attributes as JSON means them (in place): lists and objects nested,
    an unknown number, date, ring or label null. ``original``: its attributes before preparing."""
    for name, value in list(item.items()):
        if name in _JSON_LISTS:
            item[name] = _json_list(value)
        elif isinstance(original.get(name), _NESTED) and isinstance(value, str):
            item[name] = json.loads(value) if value else None
        elif name in _ABSENT_WHEN_EMPTY and value == "":
            item[name] = None
        elif name.endswith("_known") and value is False and name[: -len("_known")] in item:
            item[name[: -len("_known")]] = None


def json_graph(H: nx.DiGraph, G: nx.Graph) -> dict:
    """Node-link data (``node_link_data``) of the prepared graph ``H`` (of ``G``) that never
    double-encodes: ``raw_values`` and the graph's ``reasons`` and ``notes`` are arrays, evidence
    objects; a number whose ``_known`` flag is false, and an absent date, ring, status or label,
    are null."""
    data = node_link_data(H)
    originals = {to_text(n): d for n, d in G.nodes(data=True)}
    for node in data["nodes"]:
        _json_attributes(node, originals.get(node["id"], {}))
    edge_originals = {(to_text(u), to_text(v)): d for u, v, d in G.edges(data=True)}
    for edge in data["edges"]:
        _json_attributes(edge, edge_originals.get((edge["source"], edge["target"]), {}))
    graph = data["graph"]
    for name, value in graph.items():
        if (name in ("reasons", "notes") or isinstance(G.graph.get(name), _NESTED)) and isinstance(value, str):
            graph[name] = json.loads(value) if value.strip() else []
    return data


def write_json(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(json_graph(H, G), fh, ensure_ascii=False, indent=1, allow_nan=False)
        fh.write("\n")


def graph_to_frames(H: nx.DiGraph) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The prepared graph as a nodes frame (``id`` + ``NODE_COLUMNS`` + extras) and an edges frame
    (``source``, ``target`` + ``EDGE_COLUMNS`` + extras); a cell is empty where the attribute belongs
    to the other node or edge type."""
    node_data = [d for _, d in H.nodes(data=True)]
    edge_data = [d for _, _, d in H.edges(data=True)]
    node_columns = ["id", *NODE_COLUMNS, *_extra_names(node_data, NODE_COLUMNS)]
    edge_columns = ["source", "target", *EDGE_COLUMNS, *_extra_names(edge_data, EDGE_COLUMNS)]
    return (
        pd.DataFrame([{"id": n, **d} for n, d in H.nodes(data=True)], columns=node_columns, dtype=object),
        pd.DataFrame(
            [{"source": u, "target": v, **d} for u, v, d in H.edges(data=True)],
            columns=edge_columns,
            dtype=object,
        ),
    )


def _extra_names(items: list[dict[str, Any]], known: list[str]) -> list[str]:
    extra: dict[str, None] = {}
    for data in items:
        extra.update((name, None) for name in data if name not in known)
    return list(extra)


def write_csv(H: nx.DiGraph, nodes_path: Path, edges_path: Path) -> None:
    nodes, edges = graph_to_frames(H)
    nodes.to_csv(nodes_path, index=False, encoding="utf-8", lineterminator="\n")
    edges.to_csv(edges_path, index=False, encoding="utf-8", lineterminator="\n")


# --------------------------------------------------------------------------------------------
# Cypher
# --------------------------------------------------------------------------------------------

_CYPHER_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def cypher_string(value: str) -> str:
    """``value`` as a single-quoted Cypher string literal that cannot end early.

    Backslash and quote are escaped; control, format (bidi overrides, zero-width), line and
    paragraph separator and surrogate characters become ``\\uXXXX`` so the script shows what it
    does; every other character stays as it is (the file is UTF-8).

    >>> cypher_string("O'Brien\\n")
    "'O\\\\'Brien\\\\n'"
    """
    out = ["'"]
    for ch in value:
        escaped = _CYPHER_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


def cypher_value(value: Any) -> str:
    """A bool, int, float or str as a Cypher literal."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ExportError(f"cannot write the non-finite number {number!r} as a Cypher literal")
        text = repr(number).replace("e+", "e")  # openCypher exponents take no '+'
        return text if ("." in text or "e" in text) else f"{text}.0"
    return cypher_string(to_text(value))


def cypher_name(name: str) -> str:
    """A property name, backquoted (with backquotes doubled) unless it is a plain identifier."""
    return name if _PLAIN_NAME.match(name) else "`" + name.replace("`", "``") + "`"


def _cypher_map(data: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{cypher_name(k)}: {cypher_value(v)}" for k, v in data.items()) + "}"


def _cypher_comment(text: str) -> str:
    # JSON with ensure_ascii escapes every line break, so data in a // comment cannot start a new line
    return json.dumps(text, ensure_ascii=True)


def _node_match(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if data["node_type"] == "account":
        return "Account", {"account_id": data["account_id"]}
    return "Identifier", {"kind": data["kind"], "key": data["key"]}


def graph_to_cypher(H: nx.DiGraph) -> str:
    """A standalone Cypher script of ``MERGE`` statements recreating the prepared subgraph: ``(:Account
    {account_id})``, ``(:Identifier {kind, key})``, ``[:USES]`` and ``[:PAID]``; re-running it changes
    nothing. Every value is an escaped literal (this file is for pasting into cypher-shell or the
    Neo4j browser, so the usual ``$parameters`` are not available)."""
    lines = [
        "// fraudgraph subgraph export: run with cypher-shell -f FILE (or paste into Neo4j Browser).",
        f"// title: {_cypher_comment(str(H.graph.get('title', '')))}",
        f"// center: {_cypher_comment(str(H.graph.get('center', '')))}",
        f"// {H.number_of_nodes()} nodes, {H.number_of_edges()} edges. Re-running it changes nothing (MERGE).",
        "// For speed on a fresh database, first create the constraints the fraudgraph workspace uses, e.g.",
        "//   CREATE CONSTRAINT IF NOT EXISTS FOR (a:Account) REQUIRE a.account_id IS UNIQUE;",
        "//   CREATE CONSTRAINT IF NOT EXISTS FOR (i:Identifier) REQUIRE (i.kind, i.key) IS UNIQUE;",
        "",
    ]
    for _, data in H.nodes(data=True):
        label, keys = _node_match(data)
        rest = {k: v for k, v in data.items() if k not in keys and k != "node_type"}
        lines.append(f"MERGE (n:{label} {_cypher_map(keys)}) SET n += {_cypher_map(rest)};")
    for u, v, data in H.edges(data=True):
        source_label, source_keys = _node_match(H.nodes[u])
        target_label, target_keys = _node_match(H.nodes[v])
        rel = "PAID" if data["edge_type"] == "paid" else "USES"
        rest = {k: val for k, val in data.items() if k != "edge_type"}
        lines.append(
            f"MATCH (a:{source_label} {_cypher_map(source_keys)}) MATCH (b:{target_label} {_cypher_map(target_keys)}) "
            f"MERGE (a)-[r:{rel}]->(b) SET r += {_cypher_map(rest)};"
        )
    return "\n".join(lines) + "\n"


def write_cypher(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    path.write_text(graph_to_cypher(H), encoding="utf-8")
