"""An investigation subgraph as a person may see it: identifiers masked (the default), in full, or
pseudonymized, in node ids, keys, labels, raw spellings, reason texts and notes alike, so every
export format and case report written from it carries no more than the chosen form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import networkx as nx
import pandas as pd

from fraudgraph.model.masking import IdentifierRef, Shower


def _spellings(raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except json.JSONDecodeError:
            raw = [raw]
    return [str(v) for v in raw] if isinstance(raw, list) else []


def graph_refs(G: nx.Graph) -> list[IdentifierRef]:
    """(kind, key, raw spellings) of every identifier node of ``G``."""
    return [
        (str(d["kind"]), str(d["key"]), _spellings(d.get("raw_values")))
        for _, d in G.nodes(data=True)
        if d.get("node_type") == "identifier" and d.get("key") is not None
    ]


def shown_graph(G: nx.Graph, sh: Shower) -> nx.Graph:
    """A copy of ``G`` whose identifiers read as ``sh`` shows them (``G`` itself when revealing).

    Identifier node ids become ``identifier:<kind>:<shown key>`` (a numbered suffix if two masked
    keys read alike), so no file carries a raw key even where it names nodes; pseudonyms are the
    same in every file written under one key."""
    if sh.reveals:
        return G
    refs = graph_refs(G)
    names: dict[Any, Any] = {}
    taken: set[str] = set()
    H = G.copy()
    for node, d in sorted(G.nodes(data=True), key=lambda item: str(item[0])):
        if d.get("node_type") != "identifier":
            continue
        kind, key = str(d["kind"]), str(d["key"])
        raw = _spellings(d.get("raw_values"))
        shown_key = sh.key(kind, key)
        name, n = f"identifier:{kind}:{shown_key}", 1
        while name in taken:
            n += 1
            name = f"identifier:{kind}:{shown_key}~{n}"
        taken.add(name)
        names[node] = name
        H.nodes[node].update(
            key=shown_key,
            label=f"{kind.replace('_', ' ')}: {sh.show(kind, raw[0] if raw else key, key)}",
            raw_values=json.dumps(sorted(sh.values(kind, raw, key)), ensure_ascii=False),
        )
    H = nx.relabel_nodes(H, names, copy=True)
    H.graph["reasons"] = sh.reasons(_as_list(G.graph.get("reasons")), refs)
    H.graph["notes"] = [sh.text(note, refs) for note in _as_list(G.graph.get("notes"))]
    return H


def _as_list(value: Any) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def shown_identifiers(df, sh: Shower):
    """An identifier frame (``kind``, ``key``, and ``value`` / ``raw_values`` where present) as
    ``sh`` shows it: the same columns, masked (or pseudonymized, or in full)."""
    if sh.reveals or df is None or not len(df) or "kind" not in df:
        return df
    out = df.copy()
    kinds = out["kind"].astype(str).tolist()
    keys = out["key"].tolist() if "key" in out else [None] * len(out)
    if "value" in out:
        out["value"] = [sh.show(k, v, key) for k, v, key in zip(kinds, out["value"], keys)]
    if "raw_values" in out:
        out["raw_values"] = [sh.values(k, v, key) for k, v, key in zip(kinds, out["raw_values"], keys)]
    if "key" in out:
        out["key"] = [None if key is None else sh.key(k, key) for k, key in zip(kinds, keys)]
    return out


def shown_reasons(df, sh: Shower, refs=(), column: str = "reasons", by_ring: dict | None = None):
    """A frame's reasons column (lists, or JSON text as the audit stores it) as ``sh`` shows it.

    ``refs`` are identifiers any row's texts may quote; ``by_ring`` (ring id -> refs) adds, per
    row, those of the row's ring and of every ring its reasons name (an account's IN_SUSPECT_RING
    text repeats its ring's top reason), so each text is matched against a few identifiers only."""
    if sh.reveals or df is None or column not in df:
        return df
    rings = df["ring_id"].tolist() if "ring_id" in df else [None] * len(df)

    def one(v, ring_id):
        reasons = json.loads(v) if isinstance(v, str) and v.strip() else v
        known = list(refs)
        if by_ring:
            for rid in {ring_id, *reason_ring_ids(reasons)}:
                known += by_ring.get(rid, []) if isinstance(rid, str) else []
        shown = sh.reasons(reasons, known)
        return json.dumps(shown, ensure_ascii=False) if isinstance(v, str) and v.strip() else shown

    return df.assign(**{column: [one(v, rid) for v, rid in zip(df[column], rings)]})


def reason_ring_ids(reasons: Any) -> set[str]:
    """The ring ids stored reasons name in their evidence (``IN_SUSPECT_RING``'s ``ring_id``)."""
    out = set()
    for r in reasons if isinstance(reasons, list) else []:
        evidence = r.get("evidence") if isinstance(r, dict) else None
        if isinstance(evidence, dict) and isinstance(evidence.get("ring_id"), str):
            out.add(evidence["ring_id"])
    return out


def shown_report_inputs(inputs: dict[str, Any], sh: Shower, refs: Sequence[IdentifierRef] = ()) -> dict[str, Any]:
    """``investigate.case_report_inputs`` as ``sh`` shows identifiers: the ring's reasons, the
    identifier table, the timeline's first uses, decision and audit reasons, notes and the graph."""
    if sh.reveals:
        return inputs
    out = dict(inputs)
    graph = inputs.get("graph")
    known = list(refs)
    ident = inputs.get("identifiers")
    if ident is not None and len(ident):
        known += [
            (str(k), str(key), [str(v) for v in (raw if isinstance(raw, list) else [])])
            for k, key, raw in zip(ident["kind"], ident["key"], ident["raw_values"])
        ]
    if graph is not None:
        known += graph_refs(graph)
        out["graph"] = shown_graph(graph, sh)
    ring = dict(inputs["ring"])
    ring["reasons"] = sh.reasons(ring.get("reasons"), known)
    out["ring"] = ring
    out["identifiers"] = shown_identifiers(ident, sh)
    first = inputs.get("first_seen")
    if first is not None and len(first) and "value" in first:
        out["first_seen"] = first.assign(value=[sh.show(str(k), v) for k, v in zip(first["kind"], first["value"])])
    for name in ("decisions", "audit"):
        frame = inputs.get(name)
        if isinstance(frame, pd.DataFrame):
            frame = shown_reasons(frame, sh, known)
            if "note" in frame:
                frame = frame.assign(note=[sh.text(n, known) for n in frame["note"]])
            out[name] = frame
    return out
