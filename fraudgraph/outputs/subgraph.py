"""The subgraph comes from ``investigate.py`` as a ``networkx.DiGraph``; ``prepare_graph`` turns it into
the one attribute schema every format writes, so names and types match from format to format, and
``labelled_nodes`` / ``node_label_text`` decide once (for the PNG and the HTML view alike) which
nodes carry a label and what it says.

Missing numbers
    JSON cannot hold NaN, Gephi and Neo4j handle it badly, and dropping the attribute would change
    the column set from node to node. So ``prepare_graph`` writes a missing (NaN, None or infinite)
    float as ``0.0`` and records whether it was known in a boolean companion attribute
    ``<name>_known``: every account node carries ``score_known``, ``credit_limit_known`` and
    ``balance_known``. ``0.0`` is also what the ring exposure uses for an unknown credit limit.
    Missing strings become ``""``, missing integers ``0``, missing booleans ``False``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import unicodedata
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from fraudgraph.errors import FraudGraphError
from fraudgraph.model.values import json_default

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


def schema_columns(schemas: dict[str, dict[str, type]], known_flags: bool) -> list[str]:
    columns: list[str] = []
    for schema in schemas.values():
        for name, kind in schema.items():
            for column in (name, f"{name}_known") if (kind is float and known_flags) else (name,):
                if column not in columns:
                    columns.append(column)
    return columns


NODE_COLUMNS = schema_columns(NODE_SCHEMAS, known_flags=True)
EDGE_COLUMNS = schema_columns(EDGE_SCHEMAS, known_flags=False)


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


def to_text(value: Any) -> str:
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
        return json.dumps(finite_json(value), ensure_ascii=False, default=json_default, allow_nan=False)
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
    return to_text(value)


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
            out[name] = to_text(value)
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
                    data[name] = to_text(data[name])


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
        node_id = to_text(node)
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
        H.graph[name] = to_text(value) if _plain(value) is None else _plain(value)
    for name in ("title", "center"):
        H.graph.setdefault(name, "")
    for name in ("reasons", "notes"):
        H.graph.setdefault(name, "[]")
    return H


def finite_json(value: Any) -> Any:
    """Replace NaN / infinity inside reason evidence with None: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def graph_list(G: nx.Graph, name: str) -> list:
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
        return finite_json(json.loads(json.dumps(list(value), default=json_default)))
    return [value]


# --------------------------------------------------------------------------------------------
# Paths and atomic writes
# --------------------------------------------------------------------------------------------


def kind_colours(kinds: list[str]) -> dict[str, str]:
    """A colour per identifier kind: the fixed palette, then spare colours for kinds a workspace added."""
    spare = iter(EXTRA_KIND_COLOURS * (1 + len(kinds) // len(EXTRA_KIND_COLOURS)))
    return {k: KIND_COLOURS.get(k) or next(spare) for k in kinds}


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


def plain_label(text: str, limit: int = 26) -> str:
    """Text safe to draw on one line: whitespace runs collapsed, control characters shown as U+FFFD,
    cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())  # newlines and tabs would stack labels on top of each other
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else "\ufffd" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def node_label_text(label: Any) -> str:
    """What a node's label says in a picture (PNG and HTML view alike): its label on one line, at most
    26 characters."""
    return plain_label(label, 26)


def shared_first(H: nx.DiGraph) -> nx.DiGraph:
    """The picture of a prepared graph that the PNG and the HTML view draw: what accounts share first.

    Identifiers two or more accounts in the picture use (and hubs) stay, drawn large and labelled;
    an identifier only one account uses is folded into that account as a count
    (``private_identifiers``, shown in its label as ``+N own``); money flows stay as arrows. Every
    identifier node keeps ``n_in_picture``, the accounts in the picture that use it.
    """
    P = H.copy()
    own: dict[str, int] = {}
    for v, d in H.nodes(data=True):
        if d["node_type"] != "identifier":
            continue
        users = [u for u in H.predecessors(v) if H.nodes[u]["node_type"] == "account"]
        if len(users) >= 2 or d["is_hub"]:
            P.nodes[v]["n_in_picture"] = len(users)
            continue
        P.remove_node(v)
        for u in users:
            own[u] = own.get(u, 0) + 1
    for v, d in P.nodes(data=True):
        if d["node_type"] == "account":
            d["private_identifiers"] = own.get(v, 0)
            if own.get(v):
                d["label"] = f"{d['label']} +{own[v]} own"
    P.graph["private_identifiers"] = sum(own.values())
    return P
