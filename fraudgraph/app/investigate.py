"""What an investigator looks at: one account, one ring, a neighbourhood, a path between two accounts.

The workspace does the reading where the data lives (SQL or Cypher); this module shapes the
answers and builds the networkx subgraph that every export format is written from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import pandas as pd

from fraudgraph.app.analyst import latest_verdict, proposal_of, state_token
from fraudgraph.app.privacy import LookupKey, lookup_key
from fraudgraph.detection.graph import DetectionConfig
from fraudgraph.errors import NotFoundError
from fraudgraph.ingest.normalize import canonical_key
from fraudgraph.model.masking import IdentifierRef, pseudonym
from fraudgraph.model.values import utc_now
from fraudgraph.workspace.base import AUDIT_COLUMNS, STATE_COLUMNS, Neighbourhood, Workspace

# Identifiers shared by more accounts are shown, never expanded: the same cap detection links by,
# so `path` walks exactly where rings can form (the CLI passes a configured cap along).
DEFAULT_HUB_THRESHOLD = DetectionConfig().hub_cap
DEFAULT_MAX_NODES = 500
FLAGGED = ("review", "restrict", "suspend")


def _iso(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(v).isoformat()


def _num(v: Any, default: float = float("nan")) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return f


def ring_view(ws: Workspace, ring_id: str) -> dict[str, Any]:
    """One ring: its row, members with their scores and decisions, shared identifiers with raw spellings."""
    rings = ws.table("rings", ring_id=ring_id)
    if rings.empty:
        raise NotFoundError(f"no ring {ring_id!r} in the last sweep; see `fraudgraph rings`")
    ring = rings.iloc[0].to_dict()
    member_ids = ws.table("ring_members", ring_id=ring_id)["account_id"].tolist()
    # The same effective status/action as every other view, plus what triggered the decision.
    triggers = ws.table("decisions", account_id=member_ids)[["account_id", "trigger"]]
    members = ws.account_view(member_ids).merge(triggers, on="account_id", how="left")
    members = members.drop(columns=["properties", "ring_id"])
    members = members.sort_values(["created_at", "account_id"]).reset_index(drop=True)
    identifiers = ws.table("ring_identifiers", ring_id=ring_id)
    identifiers = identifiers.sort_values(["n_members", "kind", "key"], ascending=[False, True, True]).reset_index(
        drop=True
    )
    return {"ring": ring, "members": members, "identifiers": identifiers}


def account_view(
    ws: Workspace, account_id: str, *, nearest: int = 5, hub_threshold: int = DEFAULT_HUB_THRESHOLD
) -> dict[str, Any]:
    """One account: profile, identifiers (with how many share each), ring, score, decision, reasons,
    the latest analyst verdict, a sweep's proposed reinstatement, and the nearest flagged accounts
    (within two hops, through non-hub identifiers)."""
    acc = ws.accounts([account_id])
    if acc.empty:
        raise NotFoundError(f"no account {account_id!r} in the workspace")
    profile = acc.iloc[0].to_dict()
    profile["properties"] = json.loads(profile.get("properties") or "{}")
    links = ws.links([account_id])
    # The neighbourhood counts the accounts on every identifier of its accounts, this one's too.
    hood = ws.neighbourhood([account_id], hops=2, max_nodes=DEFAULT_MAX_NODES, hub_threshold=hub_threshold)
    hub_set = ws.hub_keys()
    counts = hood.identifiers[["kind", "key", "n_accounts"]]
    ident = links.merge(counts, on=["kind", "key"], how="left")
    ident["n_accounts"] = ident["n_accounts"].fillna(1).astype(int)
    ident.loc[ident["key"].isna(), "n_accounts"] = 0
    ident["is_hub"] = [(k, v) in hub_set for k, v in zip(ident["kind"], ident["key"])]
    ident["no_identity"] = ident["key"].isna()
    score = ws.table("account_scores", account_id=account_id)
    decision = ws.table("decisions", account_id=account_id)
    state = ws.account_state([account_id])
    ring_id = score.iloc[0]["ring_id"] if len(score) else None
    out: dict[str, Any] = {
        "profile": profile,
        "identifiers": ident.drop(columns=[]).reset_index(drop=True),
        "ring_id": ring_id if isinstance(ring_id, str) else None,
        "score": float(score.iloc[0]["score"]) if len(score) else None,
        "reasons": (score.iloc[0]["reasons"] or []) if len(score) else [],
        "decision": decision.iloc[0].to_dict() if len(decision) else None,
        "state": state.iloc[0].to_dict() if len(state) else None,
    }
    # The latest analyst verdict and what is in force because of it; a sweep's pending proposal.
    out["verdict"] = latest_verdict(ws, account_id)
    out["proposal"] = proposal_of(out["state"])
    out["state_token"] = state_token(ws, account_id)
    near = hood.accounts[(hood.accounts["account_id"] != account_id) & hood.accounts["action"].isin(FLAGGED)]
    shared = hood.uses[hood.uses["account_id"] == account_id][["kind", "key"]]
    own = set(zip(shared["kind"], shared["key"]))
    via = hood.uses[hood.uses[["kind", "key"]].apply(tuple, axis=1).isin(own)] if len(hood.uses) else hood.uses
    direct = set(via["account_id"])
    near = near.assign(hops=[1 if a in direct else 2 for a in near["account_id"]])
    out["nearest_flagged"] = (
        near.sort_values(["hops", "score"], ascending=[True, False])
        .head(nearest)[["account_id", "hops", "action", "score", "ring_id"]]
        .reset_index(drop=True)
    )
    return out


# -- finding accounts by what an investigator holds ---------------------------------------------
def typed_keys(query: str, kinds: Sequence[str], secret: bytes | None = None) -> list[tuple[str, str]]:
    """The (kind, stored key) pairs an identifier typed in may be stored under, for each kind: its
    canonical key (``normalize.canonical_key``, the rule a load applies) or, in a workspace
    pseudonymized under ``secret``, that key's pseudonym (``masking.pseudonym``, as a load stores
    it); and the text as typed (a canonical key, or a pseudonym copied from a pseudonymized export)."""
    pairs: set[tuple[str, str]] = set()
    for kind in kinds:
        key = canonical_key(kind, query)
        if key is not None:
            pairs.add((kind, key if secret is None else pseudonym(kind, key, secret)))
        pairs.add((kind, query))
    return sorted(pairs)


def find(
    ws: Workspace, query: str, kinds: Sequence[str], *, lookup: LookupKey | None = None, limit: int = 50
) -> dict[str, Any]:
    """What an investigator's ``query`` names: an account id, a ring id, or an identifier typed as
    spelled anywhere (``+1 555 123 4567`` finds ``(555) 123-4567``), in a plain workspace and in a
    pseudonymized one when the operator's key is at hand (``lookup``: read from the environment
    when None). Identifiers come back as stored (kind, key, raw_values, accounts, n_accounts), for
    the caller to show masked; ``notice``: why typed identifiers cannot be found (else None)."""
    q = (query or "").strip()
    look = lookup_key(ws) if lookup is None else lookup
    out: dict[str, Any] = {"query": q, "accounts": [], "rings": [], "identifiers": [], "truncated": False}
    out["notice"] = look.notice
    if not q:
        return out
    if len(ws.accounts([q])):
        out["accounts"].append(q)
    if len(ws.table("rings", ring_id=q)):
        out["rings"].append(q)
    hits = ws.accounts_of(typed_keys(q, kinds, look.secret), limit + 1)
    for (kind, key), group in hits.groupby(["kind", "key"], sort=True):
        counts = ws.identifier_counts(pd.DataFrame([{"kind": kind, "key": key}]))
        out["identifiers"].append(
            {
                "kind": str(kind),
                "key": str(key),
                "raw_values": counts.iloc[0]["raw_values"] if len(counts) else [key],
                "accounts": sorted(group["account_id"].astype(str).tolist())[:limit],
                "n_accounts": int(counts.iloc[0]["n_accounts"]) if len(counts) else len(group),
            }
        )
    out["truncated"] = len(hits) > limit
    return out


def path(ws: Workspace, a: str, b: str, *, max_hops: int = 6, hub_threshold: int = DEFAULT_HUB_THRESHOLD):
    """The shortest chain of shared (non-hub) identifiers from account a to account b, or None."""
    return ws.shortest_path(a, b, max_hops=max_hops, hub_threshold=hub_threshold)


def subgraph(
    ws: Workspace,
    *,
    account: str | None = None,
    ring: str | None = None,
    hops: int = 1,
    max_nodes: int = DEFAULT_MAX_NODES,
    hub_threshold: int = DEFAULT_HUB_THRESHOLD,
) -> nx.DiGraph:
    """The subgraph an export writes: a ring (its members, one hop) or an account's neighbourhood."""
    if (account is None) == (ring is None):
        raise ValueError("give exactly one of account or ring")
    reasons: list = []
    if ring is not None:
        view = ring_view(ws, ring)
        seeds = view["members"]["account_id"].tolist()
        hood = ws.neighbourhood(seeds, hops=0, max_nodes=max(max_nodes, len(seeds) * 20), hub_threshold=hub_threshold)
        title = f"Ring {ring}"
        center = f"ring {ring} ({len(seeds)} accounts)"
        reasons = view["ring"].get("reasons") or []
    else:
        hood = ws.neighbourhood([str(account)], hops=hops, max_nodes=max_nodes, hub_threshold=hub_threshold)
        seeds = [str(account)]
        title = f"Account {account}"
        center = f"account {account}, {hops} hop(s)"
        sc = ws.table("account_scores", account_id=account)
        reasons = (sc.iloc[0]["reasons"] or []) if len(sc) else []
    return build_graph(hood, seeds=seeds, title=title, center=center, reasons=reasons)


def build_graph(hood: Neighbourhood, *, seeds: list[str], title: str, center: str, reasons: list) -> nx.DiGraph:
    """Neighbourhood frames -> the networkx graph of ``fraudgraph.outputs.export`` (one attribute schema)."""
    G = nx.DiGraph(title=title, center=center, reasons=list(reasons), notes=list(hood.notes))
    seed_set = set(seeds)
    for r in hood.accounts.to_dict("records"):
        label = r.get("label")
        G.add_node(
            f"account:{r['account_id']}",
            node_type="account",
            label=str(r["account_id"]),
            account_id=str(r["account_id"]),
            status=str(r.get("status") or ""),
            score=_num(r.get("score"), 0.0),
            action=str(r.get("action") or "none"),
            ring_id=r["ring_id"] if isinstance(r.get("ring_id"), str) else "",
            created_at=_iso(r.get("created_at")),
            credit_limit=_num(r.get("credit_limit")),
            balance=_num(r.get("balance")),
            overdue_days=int(_num(r.get("overdue_days"), 0.0)),
            fraud_label=label if isinstance(label, str) else "",
            seed=r["account_id"] in seed_set,
        )
    for r in hood.identifiers.to_dict("records"):
        raw = r.get("raw_values")
        raw_list = raw if isinstance(raw, list) else json.loads(raw or "[]")
        key = str(r["key"])
        G.add_node(
            f"identifier:{r['kind']}:{key}",
            node_type="identifier",
            label=f"{r['kind']}: {key if len(key) <= 32 else key[:29] + '...'}",
            kind=str(r["kind"]),
            key=key,
            raw_values=json.dumps(sorted(raw_list), ensure_ascii=False),
            n_accounts=int(r["n_accounts"]),
            is_hub=bool(r["is_hub"]),
            expanded=bool(r["expanded"]),
        )
    for r in hood.uses.to_dict("records"):
        a, i = f"account:{r['account_id']}", f"identifier:{r['kind']}:{r['key']}"
        if a in G and i in G:
            G.add_edge(a, i, edge_type="uses", first_seen=_iso(r.get("first_seen")))
    for r in hood.paid.to_dict("records"):
        a, b = f"account:{r['account_id']}", f"account:{r['counterparty']}"
        if a in G and b in G:
            G.add_edge(
                a,
                b,
                edge_type="paid",
                amount=float(r["amount"]),
                count=int(r["count"]),
                first_ts=_iso(r["first_ts"]),
                last_ts=_iso(r["last_ts"]),
            )
    return G


def case_report_inputs(
    ws: Workspace,
    ring_id: str,
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    hub_threshold: int = DEFAULT_HUB_THRESHOLD,
) -> dict[str, Any]:
    """Everything ``report.write_report`` needs for one ring, read from the workspace."""
    view = ring_view(ws, ring_id)
    members = view["members"]
    ids = members["account_id"].tolist()
    txns = ws.transactions(ids)
    flows = pd.DataFrame(columns=["account_id", "counterparty", "counterparty_kind", "amount", "count"])
    if len(txns):
        flows = (
            txns.groupby(["account_id", "counterparty", "counterparty_kind"], as_index=False)
            .agg(
                amount=("amount", "sum"),
                count=("txn_id", "count"),
                first_ts=("timestamp", "min"),
                last_ts=("timestamp", "max"),
            )
            .sort_values("amount", ascending=False)
            .reset_index(drop=True)
        )
    decisions = ws.table("decisions", account_id=ids)
    audit = ws.audit()
    audit = audit[audit["account_id"].isin(ids)].reset_index(drop=True)
    first_seen = ws.links(ids).dropna(subset=["first_seen"])[["account_id", "kind", "value", "first_seen"]]
    graph = subgraph(ws, ring=ring_id, max_nodes=max_nodes, hub_threshold=hub_threshold)
    return {
        "ring": view["ring"],
        "members": members,
        "identifiers": view["identifiers"],
        "flows": flows,
        "decisions": decisions,
        "audit": audit,
        "graph": graph,
        "first_seen": first_seen,
    }


# -- identifiers shown to people ----------------------------------------------------------------
def ring_identifier_refs(ws: Workspace, ring_ids: list[str]) -> list[IdentifierRef]:
    """(kind, key, raw spellings) of the identifiers the rings ``ring_ids`` share: what a reason
    quoting one of these rings may spell out, so a masked view can mask it."""
    return [ref for refs in ring_identifier_refs_by_ring(ws, ring_ids).values() for ref in refs]


def ring_identifier_refs_by_ring(ws: Workspace, ring_ids: list[str]) -> dict[str, list[IdentifierRef]]:
    """``ring_identifier_refs`` per ring id (rings without shared identifiers are left out)."""
    ids = sorted({r for r in ring_ids if isinstance(r, str) and r})
    if not ids:
        return {}
    df = ws.table("ring_identifiers", ring_id=ids)
    out: dict[str, list[IdentifierRef]] = {}
    for rid, k, key, raw in zip(df["ring_id"], df["kind"], df["key"], df["raw_values"]):
        out.setdefault(str(rid), []).append(
            (str(k), str(key), [str(v) for v in (raw if isinstance(raw, list) else [])])
        )
    return out


def record_reveal(ws: Workspace, account_ids: list[str], *, actor: str, command: str) -> int:
    """Write the audit trail's note that ``actor`` had the identifiers of ``account_ids`` shown in
    full by ``command``: one ``reveal`` row per account (changing nothing else). Returns the rows."""
    at = utc_now().isoformat(timespec="seconds")
    accounts = list(dict.fromkeys(str(a) for a in account_ids if isinstance(a, str) and a))
    rows = [
        {
            "at": at,
            "actor": actor,
            "account_id": a,
            "event": "reveal",
            "reasons": "[]",
            "note": f"identifiers shown in full by: {command}",
        }
        for a in accounts
    ]
    if rows:
        ws.apply_manual(state=pd.DataFrame(columns=STATE_COLUMNS), audit=pd.DataFrame(rows, columns=AUDIT_COLUMNS))
    return len(rows)
