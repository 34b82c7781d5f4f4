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
    Missing strings become ``""``, missing integers ``0``, missing booleans ``False``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import json
import logging
import math
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import IO, Any

import networkx as nx
import numpy as np
import pandas as pd

from fraudgraph.errors import FraudGraphError

log = logging.getLogger(__name__)

FORMATS = ("graphml", "gexf", "json", "csv", "cypher", "html", "png")

SUFFIX_FORMATS = {
    ".graphml": "graphml",
    ".gexf": "gexf",
    ".json": "json",
    ".csv": "csv",
    ".cypher": "cypher",
    ".cql": "cypher",
    ".html": "html",
    ".htm": "html",
    ".png": "png",
}

# The attribute schema per node type and edge type, in column order. Values are the Python type every
# exported value has; floats additionally get a boolean ``<name>_known`` companion (see module doc).
ACCOUNT_ATTRIBUTES: dict[str, type] = {
    "node_type": str,
    "label": str,
    "account_id": str,
    "status": str,
    "score": float,
    "action": str,
    "ring_id": str,
    "created_at": str,
    "credit_limit": float,
    "balance": float,
    "overdue_days": int,
    "fraud_label": str,
    "seed": bool,
}
IDENTIFIER_ATTRIBUTES: dict[str, type] = {
    "node_type": str,
    "label": str,
    "kind": str,
    "key": str,
    "raw_values": str,  # JSON list of the raw spellings
    "n_accounts": int,
    "is_hub": bool,
    "expanded": bool,
}
USES_ATTRIBUTES: dict[str, type] = {"edge_type": str, "first_seen": str}
PAID_ATTRIBUTES: dict[str, type] = {
    "edge_type": str,
    "amount": float,
    "count": int,
    "first_ts": str,
    "last_ts": str,
}
NODE_SCHEMAS = {"account": ACCOUNT_ATTRIBUTES, "identifier": IDENTIFIER_ATTRIBUTES}
EDGE_SCHEMAS = {"uses": USES_ATTRIBUTES, "paid": PAID_ATTRIBUTES}

# Colours shared by the PNG and the HTML view, so both pictures read the same way.
KIND_COLOURS = {
    "device": "#1f77b4",
    "address": "#8c564b",
    "card": "#9467bd",
    "bank_account": "#17becf",
    "phone": "#e377c2",
    "email": "#3949ab",
    "ip": "#7f7f7f",
    "national_id": "#bcbd22",
}
EXTRA_KIND_COLOURS = ("#00897b", "#6d4c41", "#5e35b1", "#546e7a", "#c0ca33", "#d81b60")
RISK_STOPS = ((0.0, "#2e7d32"), (0.5, "#f9a825"), (1.0, "#c62828"))  # low -> high account score
ACTION_COLOURS = {
    "none": "#90a4ae",
    "monitor": "#42a5f5",
    "review": "#ffb300",
    "restrict": "#ef6c00",
    "suspend": "#b71c1c",
}
USES_EDGE_COLOUR = "#9aa5b1"
PAID_EDGE_COLOUR = "#6a1b9a"


class ExportError(FraudGraphError, ValueError):
    """The export cannot be written: unknown format, bad path, or a graph that breaks the schema."""


# --------------------------------------------------------------------------------------------
# Normalizing the graph once, for every format
# --------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return not math.isfinite(float(value))
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def _to_text(value: Any) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (list, tuple, set, dict)):
        value = sorted(value) if isinstance(value, set) else value
        # strict JSON: NaN inside (e.g. reason evidence) becomes null
        return json.dumps(_finite_json(value), ensure_ascii=False, default=_json_default, allow_nan=False)
    return str(value)


def _to_bool(value: Any) -> bool:
    if _is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "t")
    return bool(value)


def _to_int(value: Any, where: str) -> int:
    if _is_missing(value):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ExportError(f"{where}: expected an integer, got {value!r}") from None


def _to_float(value: Any, where: str) -> tuple[float, bool]:
    """(value, known): a missing or infinite float becomes (0.0, False)."""
    if _is_missing(value):
        return 0.0, False
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ExportError(f"{where}: expected a number, got {value!r}") from None
    return (number, True) if math.isfinite(number) else (0.0, False)


def _plain(value: Any) -> Any:
    """An attribute outside the schema as bool/int/float/str, or None when missing (decided later)."""
    if _is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return _to_text(value)


def _normalize_attributes(
    data: dict[str, Any], schema: dict[str, type], where: str, *, known_flags: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in schema.items():
        value = data.get(name)
        if kind is float:
            out[name], known = _to_float(value, f"{where} attribute {name!r}")
            if known_flags:
                # an already prepared graph says False here while its value reads 0.0: keep the False
                out[f"{name}_known"] = known and data.get(f"{name}_known", True) is not False
        elif kind is int:
            out[name] = _to_int(value, f"{where} attribute {name!r}")
        elif kind is bool:
            out[name] = _to_bool(value)
        else:
            out[name] = _to_text(value)
    for name, value in data.items():
        if name not in out:
            out[name] = _plain(value)
    return out


def _unify_extra_types(items: list[dict[str, Any]], schema_names: set[str]) -> None:
    """Give every attribute outside the schema one type across the graph (GraphML declares one type
    per key) and no missing values: numbers with a gap become floats with a ``_known`` companion,
    booleans fill with False, text with "", and any other mix of types becomes text."""
    present: dict[str, set[type]] = {}
    for data in items:
        for name, value in data.items():
            if name not in schema_names:
                present.setdefault(name, set()).add(type(value))
    for name, seen in present.items():
        if name.endswith("_known") and name[: -len("_known")] in present:
            continue  # handled with the attribute it describes
        missing = type(None) in seen
        seen = seen - {type(None)}
        if seen and seen <= {int, float} and (float in seen or missing):
            for data in items:
                if name in data:
                    was_known = data.get(f"{name}_known", True) is not False
                    data[name], known = _to_float(data[name], name)
                    data[f"{name}_known"] = known and was_known
        elif seen == {bool} or (seen == {int} and not missing):
            fill = False if seen == {bool} else 0
            for data in items:
                if name in data and data[name] is None:
                    data[name] = fill
        else:
            for data in items:
                if name in data:
                    data[name] = _to_text(data[name])


def _node_type_of(node: Any, data: dict[str, Any]) -> str:
    node_type = data.get("node_type")
    if node_type is None and isinstance(node, str):
        node_type = node.split(":", 1)[0]
    if node_type not in NODE_SCHEMAS:
        raise ExportError(
            f"node {node!r} has node_type {data.get('node_type')!r}; expected one of {', '.join(NODE_SCHEMAS)}"
        )
    return node_type


def prepare_graph(G: nx.Graph) -> nx.DiGraph:
    """A normalized copy of ``G`` that every exporter writes: the one place types are decided.

    Node ids become ``str``; account and identifier nodes carry exactly the attributes of
    ``ACCOUNT_ATTRIBUTES`` / ``IDENTIFIER_ATTRIBUTES`` (missing ones filled), ``uses`` and ``paid``
    edges those of ``USES_ATTRIBUTES`` / ``PAID_ATTRIBUTES``; floats get a ``<name>_known`` flag and
    ``0.0`` when missing; timestamps become ISO strings; lists and dicts become JSON strings
    (``raw_values``, and graph attributes such as ``reasons`` and ``notes``). Attributes outside the
    schema are kept, as plain bool/int/float/str with one type per name.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node("account:A1", node_type="account", account_id="A1", credit_limit=float("nan"))
    >>> H = prepare_graph(G)
    >>> H.nodes["account:A1"]["credit_limit"], H.nodes["account:A1"]["credit_limit_known"]
    (0.0, False)
    """
    H = nx.DiGraph()
    node_items: list[dict[str, Any]] = []
    node_ids: dict[Any, str] = {}
    for node, data in G.nodes(data=True):
        node_type = _node_type_of(node, data)
        node_id = _to_text(node)
        if node_id in H:
            raise ExportError(f"two nodes have the same id {node_id!r} once written as text")
        attrs = _normalize_attributes(
            {**data, "node_type": node_type}, NODE_SCHEMAS[node_type], f"node {node_id!r}", known_flags=True
        )
        if not attrs["label"]:
            attrs["label"] = attrs.get("account_id") or attrs.get("key") or node_id
        node_ids[node] = node_id
        H.add_node(node_id, **attrs)
        node_items.append(H.nodes[node_id])
    _unify_extra_types(node_items, set(NODE_COLUMNS))

    edge_items: list[dict[str, Any]] = []
    for u, v, data in G.edges(data=True):
        edge_type = data.get("edge_type")
        if edge_type is None:
            edge_type = "paid" if H.nodes[node_ids[v]]["node_type"] == "account" else "uses"
        if edge_type not in EDGE_SCHEMAS:
            raise ExportError(
                f"edge {u!r} -> {v!r} has edge_type {edge_type!r}; expected one of {', '.join(EDGE_SCHEMAS)}"
            )
        # edge totals are sums, always known: edges carry no _known flags
        attrs = _normalize_attributes(
            {**data, "edge_type": edge_type},
            EDGE_SCHEMAS[edge_type],
            f"edge {u!r} -> {v!r}",
            known_flags=False,
        )
        H.add_edge(node_ids[u], node_ids[v], **attrs)
        edge_items.append(H.edges[node_ids[u], node_ids[v]])
    _unify_extra_types(edge_items, set(EDGE_COLUMNS))

    for name, value in G.graph.items():
        H.graph[name] = _to_text(value) if _plain(value) is None else _plain(value)
    for name in ("title", "center"):
        H.graph.setdefault(name, "")
    for name in ("reasons", "notes"):
        H.graph.setdefault(name, "[]")
    return H


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _finite_json(value: Any) -> Any:
    """Replace NaN / infinity inside reason evidence with None: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value


def _graph_list(G: nx.Graph, name: str) -> list:
    """A list-valued graph attribute (reasons, notes), whether it is still a list or already JSON text."""
    value = G.graph.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value]
    if isinstance(value, (list, tuple)):
        return _finite_json(json.loads(json.dumps(list(value), default=_json_default)))
    return [value]


# --------------------------------------------------------------------------------------------
# Paths and atomic writes
# --------------------------------------------------------------------------------------------


def format_from_path(path: str | os.PathLike) -> str:
    """The export format a path's suffix names (``.cql`` is Cypher, ``.htm`` HTML); an existing
    directory means CSV (``nodes.csv`` and ``edges.csv`` inside).

    >>> format_from_path("ring.gexf")
    'gexf'
    """
    path = Path(path)
    if path.is_dir():
        return "csv"
    suffix = path.suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    shown = repr(suffix) if suffix else "no suffix"
    raise ExportError(
        f"cannot tell the export format of {str(path)!r} from {shown}; use one of "
        f"{', '.join(sorted(SUFFIX_FORMATS))} or pass a format ({', '.join(FORMATS)})"
    )


@contextmanager
def _atomic_paths(targets: list[Path]) -> Iterator[list[Path]]:
    """Temporary paths beside each target; renamed onto the targets only when the block succeeds."""
    temps: list[Path] = []
    try:
        for target in targets:
            if not target.parent.is_dir():
                raise ExportError(f"cannot write {str(target)!r}: directory {str(target.parent)!r} does not exist")
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            temps.append(Path(name))
        yield temps
        # mkstemp makes private (0600) files; an export gets the usual permissions (umask applies)
        umask = os.umask(0)
        os.umask(umask)
        for temp, target in zip(temps, targets):
            os.chmod(temp, 0o666 & ~umask)
            os.replace(temp, target)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def csv_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """Where the CSV export of ``path`` goes: ``out.csv`` -> ``out.nodes.csv`` + ``out.edges.csv``;
    an existing directory -> ``nodes.csv`` + ``edges.csv`` inside it."""
    path = Path(path)
    if path.is_dir():
        return path / "nodes.csv", path / "edges.csv"
    base = path.name[: -len(path.suffix)] if path.suffix.lower() == ".csv" else path.name
    return path.with_name(f"{base}.nodes.csv"), path.with_name(f"{base}.edges.csv")


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
        with _atomic_paths(targets) as temps:
            _write_csv(H, *temps)
        return targets
    with _atomic_paths([path]) as (temp,):
        WRITERS[fmt](H, G, temp)
    return [path]


# --------------------------------------------------------------------------------------------
# GraphML, GEXF, JSON, CSV
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


def _write_graphml(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    buffer = io.BytesIO()
    nx.write_graphml(_xml_safe(H), buffer, encoding="utf-8", prettyprint=True, named_key_ids=True)
    # ElementTree leaves a carriage return raw in element text, and every XML reader turns a raw CR LF
    # into LF; the writer's own line breaks are LF, so any CR is data and becomes a character reference
    path.write_bytes(buffer.getvalue().replace(b"\r", b"&#13;"))


def _write_gexf(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
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


def _write_json(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(node_link_data(H), fh, ensure_ascii=False, indent=1, allow_nan=False)
        fh.write("\n")


def _schema_columns(schemas: dict[str, dict[str, type]], known_flags: bool) -> list[str]:
    columns: list[str] = []
    for schema in schemas.values():
        for name, kind in schema.items():
            for column in (name, f"{name}_known") if (kind is float and known_flags) else (name,):
                if column not in columns:
                    columns.append(column)
    return columns


NODE_COLUMNS = _schema_columns(NODE_SCHEMAS, known_flags=True)
EDGE_COLUMNS = _schema_columns(EDGE_SCHEMAS, known_flags=False)


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


def _write_csv(H: nx.DiGraph, nodes_path: Path, edges_path: Path) -> None:
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
    return cypher_string(_to_text(value))


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


def _write_cypher(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    path.write_text(graph_to_cypher(H), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# HTML: one self-contained interactive file
# --------------------------------------------------------------------------------------------

_SCRIPT_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def script_json(value: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    JavaScript line separators are \\u-escaped, so no value (``</script>``, ``<!--``) can end the
    element; ``JSON.parse`` and ``json.loads`` give the original strings back."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_JSON_ESCAPES[m.group()], text)


def view_data(H: nx.DiGraph, G: nx.Graph | None = None) -> dict:
    """What the HTML view draws: nodes, edges, reasons and notes (structured), and the colour scheme."""
    source = G if G is not None else H
    kinds = sorted({d["kind"] for _, d in H.nodes(data=True) if d["node_type"] == "identifier"})
    return {
        "title": str(H.graph.get("title", "")),
        "center": str(H.graph.get("center", "")),
        "reasons": _graph_list(source, "reasons"),
        "notes": [_to_text(n) for n in _graph_list(source, "notes")],
        "nodes": [{"id": n, **d} for n, d in H.nodes(data=True)],
        "edges": [{"source": u, "target": v, **d} for u, v, d in H.edges(data=True)],
        "style": {
            "kind_colours": kind_colours(kinds),
            "risk_stops": [list(stop) for stop in RISK_STOPS],
            "action_colours": ACTION_COLOURS,
            "uses_edge": USES_EDGE_COLOUR,
            "paid_edge": PAID_EDGE_COLOUR,
        },
    }


def kind_colours(kinds: list[str]) -> dict[str, str]:
    """A colour per identifier kind: the fixed palette, then spare colours for kinds a workspace added."""
    spare = iter(EXTRA_KIND_COLOURS * (1 + len(kinds) // len(EXTRA_KIND_COLOURS)))
    return {k: KIND_COLOURS.get(k) or next(spare) for k in kinds}


_HTML_STYLE = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1c2733;background:#f4f6f8}
#app{display:flex;height:100vh}
#stage{position:relative;flex:1;min-width:0;background:#fff;border-right:1px solid #d5dbe1}
#graph{display:block;width:100%;height:100%;cursor:grab;touch-action:none}
#toolbar{position:absolute;top:8px;left:8px;display:flex;gap:6px;align-items:center;background:rgba(255,255,255,.92);border:1px solid #d5dbe1;border-radius:6px;padding:4px 6px}
#toolbar input,#toolbar select,#toolbar button{font:inherit}
#tooltip{position:absolute;pointer-events:none;background:#1c2733;color:#fff;padding:4px 7px;border-radius:4px;max-width:340px;white-space:pre-wrap;word-break:break-all;font-size:12px}
#panel{width:360px;flex:none;overflow:auto;padding:12px 14px}
#panel h1{font-size:17px;margin:0 0 4px;word-break:break-word}
#panel h2{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#56677a;margin:14px 0 6px}
#center,#counts{margin:2px 0;color:#3d4b59;word-break:break-word}
.legend-row{display:flex;align-items:center;gap:7px;margin:2px 0}
.swatch{width:12px;height:12px;flex:none;border:1px solid rgba(0,0,0,.35)}
.swatch.circle{border-radius:50%}
.swatch.line{height:3px;border:none}
.ramp{height:10px;width:150px;border:1px solid #bbb}
.ramp-labels{display:flex;justify-content:space-between;width:150px;font-size:11px;color:#56677a}
ol,ul{margin:0;padding-left:18px}
li{margin:0 0 6px;word-break:break-word}
.code{font-weight:600;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
pre{margin:3px 0 0;background:#eef1f4;padding:4px 6px;border-radius:4px;white-space:pre-wrap;word-break:break-all;font-size:11px;max-height:160px;overflow:auto}
table.details{border-collapse:collapse;width:100%}
table.details th{text-align:left;font-weight:600;color:#56677a;padding:1px 6px 1px 0;vertical-align:top;white-space:nowrap}
table.details td{padding:1px 0;word-break:break-all}
.muted{color:#7a8896}
"""

_HTML_BODY = """<div id="app">
<div id="stage"><canvas id="graph" aria-label="subgraph"></canvas>
<div id="toolbar"><button id="fit" type="button">Fit</button>
<label>Accounts by <select id="colour-mode"><option value="risk">risk score</option><option value="action">action</option></select></label>
<input id="search" type="search" placeholder="find account / identifier" size="22"></div>
<div id="tooltip" hidden></div></div>
<aside id="panel">
<h1 id="title"></h1><p id="center"></p><p id="counts"></p>
<h2>Legend</h2><div id="legend"></div>
<h2>Selected</h2><div id="details"><span class="muted">Click a node to see its details; drag to move it, scroll to zoom, drag the background to pan.</span></div>
<h2>Reasons</h2><ol id="reasons"></ol>
<h2>Notes</h2><ul id="notes"></ul>
</aside></div>
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def graph_view_js() -> str:
    """The interactive view's JavaScript (fraudgraph/outputs/graph_view.js, shipped with the package)."""
    return resources.files("fraudgraph.outputs").joinpath("graph_view.js").read_text(encoding="utf-8")


def graph_to_html(H: nx.DiGraph, G: nx.Graph | None = None, *, ticks: int = 300) -> str:
    """One self-contained HTML page showing the prepared subgraph: no network access at all (a
    Content-Security-Policy with ``default-src 'none'`` forbids it; only this page's own script and
    style, pinned by hash, may run). The layout is computed synchronously (``ticks`` steps of the force
    simulation) before the first paint, from a deterministic start, so screenshots are reproducible."""
    data = view_data(H, G)
    data["ticks"] = int(ticks)
    js = graph_view_js()
    csp = (
        f"default-src 'none'; script-src {_csp_hash(js)}; style-src {_csp_hash(_HTML_STYLE)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = data["title"] or "fraudgraph subgraph"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
        f"{_HTML_BODY}"
        f'<script type="application/json" id="fraudgraph-data">{script_json(data)}</script>\n'
        f"<script>{js}</script>\n</body>\n</html>\n"
    )


def _write_html(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    path.write_text(graph_to_html(H, G), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# PNG: a static matplotlib picture
# --------------------------------------------------------------------------------------------


def _layout(H: nx.DiGraph, seed: int) -> dict[str, np.ndarray]:
    """Seeded Fruchterman-Reingold positions. (Kamada-Kawai reads a little better on small graphs but
    took 0.8 s for 20 nodes here, most of a report's time, and distorts disconnected graphs.)"""
    U = H.to_undirected(as_view=True)
    n = U.number_of_nodes()
    if n == 0:
        return {}
    # a larger spacing than networkx's default 1/sqrt(n) keeps the dense core of a ring readable
    k = (3.0 if n <= 100 else 1.6) / math.sqrt(n)
    if n < 500 or n > 2500:
        return nx.spring_layout(U, seed=seed, k=k, iterations=100)
    # From 500 nodes networkx switches to its sparse per-node loop (9 s at 500 nodes here, 14 s with
    # its default energy method); the same algorithm vectorized over an n x n array takes 0.3 s.
    return _dense_spring_layout(U, seed=seed, k=k, iterations=100)


def _dense_spring_layout(U: nx.Graph, *, seed: int, k: float, iterations: int) -> dict[str, np.ndarray]:
    """Fruchterman-Reingold as in networkx's dense layout: repulsion k^2/d between all pairs,
    attraction d^2/k along edges, a linearly cooling step; scaled into [-1, 1]."""
    from scipy.spatial.distance import cdist

    nodes = list(U)
    adjacency = nx.to_numpy_array(U, nodelist=nodes, weight=None)
    pos = np.random.default_rng(seed).random((len(nodes), 2))
    step = 0.1 * float((pos.max(axis=0) - pos.min(axis=0)).max())
    cooling = step / (iterations + 1)
    for _ in range(iterations):
        distance = np.maximum(cdist(pos, pos), 0.01)
        force = k * k / distance**2 - adjacency * distance / k
        # sum_j force_ij (pos_i - pos_j), without the n x n x 2 array of differences
        displacement = pos * force.sum(axis=1)[:, None] - force @ pos
        length = np.maximum(np.hypot(displacement[:, 0], displacement[:, 1]), 0.01)
        pos += displacement * (step / length)[:, None]
        step -= cooling
    pos -= pos.mean(axis=0)
    pos /= max(float(np.abs(pos).max()), 1e-12)
    return dict(zip(nodes, pos))


def labelled_nodes(H: nx.DiGraph) -> set[str]:
    """The nodes a picture labels (the HTML view uses the same rule): every node of a small graph (up
    to 25 nodes); otherwise every account while there are at most 80 of them (else the seed accounts,
    up to 400 nodes), and, up to 200 nodes, the hubs and the identifiers shared within the picture
    (single-use identifiers only add clutter)."""
    n = H.number_of_nodes()
    if n <= 25:
        return set(H)
    n_accounts = sum(1 for _, d in H.nodes(data=True) if d["node_type"] == "account")
    labelled = set()
    for v, d in H.nodes(data=True):
        if d["node_type"] == "account":
            if n_accounts <= 80 or (d["seed"] and n <= 400):
                labelled.add(v)
        elif n <= 200 and (d["is_hub"] or H.degree(v) >= 2):
            labelled.add(v)
    return labelled


def _plain_label(text: str, limit: int = 26) -> str:
    text = " ".join(str(text).split())  # newlines and tabs would stack labels on top of each other
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else "\ufffd" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def render_png(
    G: nx.Graph,
    target: str | os.PathLike | IO[bytes],
    *,
    seed: int = 7,
    dpi: int = 100,
) -> None:
    """Draw the subgraph as a PNG: accounts as circles coloured by risk score, identifiers as squares
    coloured by kind (hubs with a dashed outline), seed accounts larger, confirmed fraud outlined
    black, money flows as purple arrows; seeded layout, legend and title. The figure grows with the
    node count; labels follow ``labelled_nodes`` (the same rule as the HTML view).

    Uses matplotlib's Agg canvas directly (never pyplot), so it changes no global backend state.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    H = prepare_graph(G)  # idempotent, so an already prepared graph passes through unchanged
    n = H.number_of_nodes()
    side = float(np.clip(5.0 + 0.55 * math.sqrt(n), 6.0, 20.0))
    fig = Figure(figsize=(side + 3.2, side), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    pos = _layout(H, seed)

    risk_cmap = LinearSegmentedColormap.from_list("risk", list(RISK_STOPS))
    uses = [(pos[u], pos[v]) for u, v, d in H.edges(data=True) if d["edge_type"] == "uses"]
    if uses:
        ax.add_collection(LineCollection(uses, colors=USES_EDGE_COLOUR, linewidths=0.7, alpha=0.8, zorder=1))
    paid = [(u, v, d) for u, v, d in H.edges(data=True) if d["edge_type"] == "paid"]
    max_amount = max((d["amount"] for _, _, d in paid), default=1.0) or 1.0
    for u, v, d in paid:
        ax.annotate(
            "",
            xy=pos[v],
            xytext=pos[u],
            zorder=2,
            arrowprops=dict(
                arrowstyle="-|>",
                color=PAID_EDGE_COLOUR,
                alpha=0.85,
                shrinkA=6,
                shrinkB=6,
                linewidth=0.8 + 2.2 * math.sqrt(max(d["amount"], 0.0) / max_amount),
                mutation_scale=11,
            ),
        )

    node_size = float(np.clip(900 / math.sqrt(max(n, 1)), 30, 260))
    accounts = [(v, d) for v, d in H.nodes(data=True) if d["node_type"] == "account"]
    identifiers = [(v, d) for v, d in H.nodes(data=True) if d["node_type"] == "identifier"]
    colours = kind_colours(sorted({d["kind"] for _, d in identifiers}))
    if identifiers:
        for hub in (False, True):
            group = [(v, d) for v, d in identifiers if d["is_hub"] == hub]
            if not group:
                continue
            xy = np.array([pos[v] for v, _ in group])
            # identifiers many accounts in the picture share are drawn larger: they are what links the ring
            degree = np.array([H.degree(v) for v, _ in group], dtype=float)
            ax.scatter(
                xy[:, 0],
                xy[:, 1],
                marker="s",
                s=node_size * np.clip(0.7 + 0.25 * np.sqrt(degree), 1.0, 3.0),
                c=[colours[d["kind"]] for _, d in group],
                edgecolors="#222" if hub else "white",
                linewidths=1.4 if hub else 0.6,
                linestyles="--" if hub else "-",
                zorder=3,
            )
    if accounts:
        xy = np.array([pos[v] for v, _ in accounts])
        seed_flags = np.array([d["seed"] for _, d in accounts])
        fraud_flags = np.array([d["fraud_label"] == "fraud" for _, d in accounts])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            marker="o",
            s=np.where(seed_flags, node_size * 1.5, node_size),
            c=[d["score"] for _, d in accounts],
            cmap=risk_cmap,
            vmin=0.0,
            vmax=1.0,
            edgecolors=np.where(fraud_flags, "black", "white").tolist(),
            linewidths=np.where(fraud_flags, 2.2, 0.8),
            zorder=4,
        )

    labelled = labelled_nodes(H)
    font_size = float(np.clip(11 - n / 25, 6.5, 10))
    for v, d in H.nodes(data=True):
        if v in labelled:
            x, y = pos[v]
            ax.annotate(
                _plain_label(d["label"]),
                (x, y),
                xytext=(0, -9 - math.sqrt(node_size) / 2),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=font_size,
                color="#263238",
                zorder=5,
                annotation_clip=False,
            ).set_parse_math(False)
    title = _plain_label(H.graph.get("title") or "fraudgraph subgraph", 90)
    center = _plain_label(H.graph.get("center") or "", 90)
    counts = f"{len(accounts)} accounts, {len(identifiers)} identifiers, {H.number_of_edges()} edges"
    ax.set_title(f"{title}\n{center + ' | ' if center else ''}{counts}", fontsize=12, loc="left").set_parse_math(False)

    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            ms=9,
            mfc=RISK_STOPS[-1][1],
            mec="white",
            label="account (colour = risk score)",
        ),
        Line2D([], [], marker="o", ls="", ms=11, mfc="#cfd8dc", mec="white", label="seed account (larger)"),
        Line2D([], [], marker="o", ls="", ms=9, mfc="#cfd8dc", mec="black", mew=2, label="labelled fraud"),
        *[
            Line2D([], [], marker="s", ls="", ms=8, mfc=c, mec="white", label=k.replace("_", " "))
            for k, c in colours.items()
        ],
        Line2D([], [], marker="s", ls="", ms=9, mfc="white", mec="#222", label="hub (not expanded)"),
        Line2D([], [], color=USES_EDGE_COLOUR, lw=1.2, label="uses identifier"),
        Line2D([], [], color=PAID_EDGE_COLOUR, lw=2, marker=">", ms=6, label="paid (width = amount)"),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=9,
        borderaxespad=0,
    )
    colorbar = fig.colorbar(
        ScalarMappable(norm=Normalize(0.0, 1.0), cmap=risk_cmap),
        ax=ax,
        location="bottom",
        fraction=0.025,
        shrink=0.35,
        pad=0.01,
    )
    colorbar.set_label("account risk score", fontsize=9)
    if pos:
        xy = np.array(list(pos.values()))
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        margin = 0.08 * max(float((hi - lo).max()), 1e-9)
        ax.set_xlim(lo[0] - margin, hi[0] + margin)
        ax.set_ylim(lo[1] - margin, hi[1] + margin)
    with warnings.catch_warnings():
        # ids in scripts the bundled font lacks (CJK, emoji) draw as boxes; that is fine, not a warning
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing.*")
        fig.savefig(target, format="png", dpi=dpi, facecolor="white")


def _write_png(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    render_png(H, path)


WRITERS: dict[str, Callable[[nx.DiGraph, nx.Graph, Path], None]] = {
    "graphml": _write_graphml,
    "gexf": _write_gexf,
    "json": _write_json,
    "cypher": _write_cypher,
    "html": _write_html,
    "png": _write_png,
}
