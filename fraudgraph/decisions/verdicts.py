"""What is in force for an account: the applied state (a sweep's action as applied, or an
analyst's verdict or manual action) wherever there is one, else the latest decision or the
source's own value. Every view (``account``, ``decisions``, the ring view, exports) shows this,
so an analyst's dismissal or suspension is what everyone sees, whatever the policy proposes.

Also what a verdict remembers (``snapshots``): the account's own data at review time, against
which a sweep decides whether new evidence about a dismissed account has arrived."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd


def in_force(frame: pd.DataFrame, state: pd.DataFrame, columns: Iterable[str] = ("action",)) -> pd.DataFrame:
    """``frame`` (rows keyed by ``account_id``) with each of ``columns`` taken from ``state`` where
    the account has an applied state row. Row order and the other columns are kept."""
    columns = list(columns)
    if state is None or not len(state):
        return frame
    applied = state[["account_id", *columns]].rename(columns={c: f"{c}__in_force" for c in columns})
    out = frame.merge(applied, on="account_id", how="left")
    for c in columns:
        value = out[f"{c}__in_force"]
        out[c] = value.where(value.notna(), out[c]) if c in out else value
    out.index = frame.index
    return out.drop(columns=[f"{c}__in_force" for c in columns])


# --------------------------------------------------------------------------------------------
# What a dismissal remembers: the account's own data at review time, never the scorer's output.
#
# A dismissal holds until new evidence about the account arrives: a new identifier on it, a new
# transaction of it, a new ring mate sharing one of its identifiers, or its credit getting worse
# (a higher overdue or utilization tier). Labels, scores and reason codes are not evidence: they
# move because of reviews (the dismissal's own label, a ring mate's verdict), so remembering
# them re-flagged accounts on the very evidence an analyst had cleared.
# --------------------------------------------------------------------------------------------

SNAPSHOT_VERSION = 2


@dataclass(frozen=True)
class AccountData:
    """The loaded data a sweep (or a review) reads evidence from: LINK_COLUMNS, TRANSACTION_COLUMNS
    (those of the accounts concerned are enough) and the ring_members of the sweep. ``links`` and
    ``transactions`` may be readers instead (``Workspace.links``, ``Workspace.transactions``: account
    ids -> their rows), asked only for the accounts the evidence concerns, so that a whole-world
    sweep need not hold every link and transaction."""

    links: pd.DataFrame | Callable[[list[str]], pd.DataFrame]
    transactions: pd.DataFrame | Callable[[list[str]], pd.DataFrame]
    ring_members: pd.DataFrame


def _tag(kind: str, key: Any) -> str:
    return hashlib.sha256(f"{kind}\x1f{key}".encode()).hexdigest()[:12]


def identifiers_by_account(
    links: pd.DataFrame | Callable[[list[str]], pd.DataFrame], account_ids: set[str]
) -> dict[str, set[tuple[str, str]]]:
    """The (kind, key) pairs of each of ``account_ids`` (one pass over the links, or one read of
    theirs when ``links`` is a reader, as ``AccountData.links`` may be)."""
    if callable(links):
        links = links(sorted(account_ids)) if account_ids else pd.DataFrame(columns=["account_id", "kind", "key"])
    rows = links.loc[links["account_id"].isin(account_ids) & links["key"].notna(), ["account_id", "kind", "key"]]
    out: dict[str, set[tuple[str, str]]] = {a: set() for a in account_ids}
    for account_id, kind, key in rows.itertuples(index=False, name=None):
        out[str(account_id)].add((str(kind), str(key)))
    return out


def _transactions_of(
    transactions: pd.DataFrame | Callable[[list[str]], pd.DataFrame], account_ids: set[str]
) -> dict[str, list]:
    """Per account: [count, digest of the sorted ids, latest timestamp] of the transactions it paid
    or received (a counterparty account receives); ``transactions`` may be a reader (``AccountData``)."""
    tx = transactions(sorted(account_ids)) if callable(transactions) else transactions
    cols = ["txn_id", "account_id", "timestamp"]
    paid = tx.loc[tx["account_id"].isin(account_ids), cols]
    got = tx.loc[tx.get("counterparty_kind", pd.Series(dtype=object)).eq("account"), cols + ["counterparty"]]
    got = got.loc[got["counterparty"].isin(account_ids), ["txn_id", "counterparty", "timestamp"]]
    both = pd.concat([paid, got.rename(columns={"counterparty": "account_id"})], ignore_index=True)
    out: dict[str, list] = {a: [0, "", None] for a in account_ids}
    if both.empty:
        return out
    both = both.assign(txn_id=both["txn_id"].astype(str), timestamp=pd.to_datetime(both["timestamp"]))
    latest = both.groupby("account_id", sort=False)["timestamp"].max()
    for account_id, ids in both.sort_values("txn_id").groupby("account_id", sort=False)["txn_id"]:
        digest = hashlib.sha256("\n".join(ids.tolist()).encode()).hexdigest()[:16]
        when = latest[account_id]
        out[str(account_id)] = [len(ids), digest, None if pd.isna(when) else when.isoformat()]
    return out


def snapshots(accounts: pd.DataFrame, data: AccountData) -> dict[str, dict[str, Any]]:
    """What a dismissal of each of ``accounts`` (account_id, balance, credit_limit, overdue_days)
    remembers: its identifiers (tagged, never the values), its transactions, the ring mates that
    share an identifier with it, and its overdue days and utilization."""
    ids = {str(a) for a in accounts["account_id"]}
    members = data.ring_members
    mine = members.loc[members["account_id"].astype(str).isin(ids)] if len(members) else members
    ring_of = dict(zip(mine["account_id"].astype(str), mine["ring_id"])) if len(mine) else {}
    rings = members.loc[members["ring_id"].isin(set(ring_of.values()))] if ring_of else members.iloc[:0]
    in_ring = rings.groupby("ring_id")["account_id"].agg(lambda x: set(map(str, x))).to_dict() if len(rings) else {}
    mates_of = {a: in_ring.get(ring_of.get(a), set()) - {a} for a in ids}
    pairs = identifiers_by_account(data.links, ids | set().union(*mates_of.values()))
    tx = _transactions_of(data.transactions, ids)
    out = {}
    for row in accounts.itertuples(index=False):
        account_id = str(row.account_id)
        own = pairs[account_id]
        limit, balance, overdue = (
            float(x) if pd.notna(x) else None for x in (row.credit_limit, row.balance, row.overdue_days)
        )
        out[account_id] = {
            "v": SNAPSHOT_VERSION,
            "identifiers": sorted(f"{k}:{_tag(k, v)}" for k, v in own),
            "transactions": tx[account_id],
            "mates": sorted(m for m in mates_of[account_id] if pairs[m] & own),
            "overdue_days": overdue,
            "utilization": balance / limit if limit and balance is not None else None,
        }
    return out


def encode_snapshot(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"))


def decode_snapshot(text: Any) -> dict[str, Any] | None:
    """The snapshot a review recorded; None for a review recorded before snapshots (a bare hash)."""
    if not isinstance(text, str) or not text.startswith("{"):
        return None
    try:
        snap = json.loads(text)
    except ValueError:
        return None
    return snap if isinstance(snap, dict) and snap.get("v") == SNAPSHOT_VERSION else None


def dismissal_token(text: Any) -> str:
    """The evidence a dismissed account's state carries: short, stable, equal for equal snapshots."""
    return "dismissed:" + hashlib.sha256(str(text).encode()).hexdigest()[:16]


def new_evidence(
    then: dict[str, Any], now: dict[str, Any], identifiers: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """What is new about an account since a dismissal (``then``), as evidence items: identifiers
    (kind and key, shown masked like every identifier), transactions, ring mates sharing an
    identifier. ``identifiers``: the account's (kind, key) pairs now, to name the new ones. Empty:
    nothing new."""
    items: list[dict[str, Any]] = []
    known = set(then.get("identifiers", []))
    seen: set[str] = set()
    for kind, key in sorted(identifiers):
        tagged = f"{kind}:{_tag(kind, key)}"
        if tagged not in known and tagged not in seen:
            seen.add(tagged)
            items.append({"new": "identifier", "kind": str(kind), "key": str(key)})
    tx_then, tx_now = then.get("transactions") or [0, "", None], now["transactions"]
    if tx_now[1] != tx_then[1] and tx_now[0] > 0:
        items.append({"new": "transactions", "count": max(tx_now[0] - tx_then[0], 1), "latest": tx_now[2]})
    for mate in sorted(set(now["mates"]) - set(then.get("mates", []))):
        items.append({"new": "ring_member", "account_id": mate})
    return items


def describe_new(items: list[dict[str, Any]]) -> str:
    """The items of ``new_evidence`` in a few words (identifier values are not named here)."""
    parts = []
    kinds = sorted({i["kind"] for i in items if i["new"] == "identifier"})
    if kinds:
        n = sum(1 for i in items if i["new"] == "identifier")
        parts.append(f"{n} new identifier(s) ({', '.join(kinds)})")
    for i in items:
        if i["new"] == "transactions":
            parts.append(f"{i['count']} new transaction(s)")
        elif i["new"] == "credit":
            parts.append(i["text"])
    mates = [i["account_id"] for i in items if i["new"] == "ring_member"]
    if mates:
        parts.append(
            f"new ring mate(s) sharing its identifiers: {', '.join(mates[:5])}{' ...' if len(mates) > 5 else ''}"
        )
    return "; ".join(parts)
