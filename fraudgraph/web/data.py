"""What the workbench shows, as plain JSON-ready dicts: the pages and the ``/api/`` share these.

Every function takes an open workspace and returns lists and dicts of str, int, float, bool and
None (never a frame, never JSON text inside JSON). Identifiers leave here already shown through
a ``Shower`` (masked by default); their canonical keys stay inside the server.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from fraudgraph.app import analyst
from fraudgraph.app.investigate import account_view, find, ring_view
from fraudgraph.app.privacy import LookupKey
from fraudgraph.errors import NotFoundError
from fraudgraph.model.masking import MASKED, Shower
from fraudgraph.workspace.base import Workspace

FLAGGED = ("review", "restrict", "suspend")
SORTS = ("score", "exposure", "age")
PAGE_SIZE = 50
MAX_PAGE = 500
TIMELINE_ROWS = 200


def plain(value: Any) -> Any:
    """One value made JSON-ready: numpy scalars unwrapped, NaN/NaT as None, times as ISO text."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-ready dicts (only ``columns`` when given and present)."""
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def decoded(value: Any) -> Any:
    """A stored list/dict that may still be JSON text (audit reasons) as the real thing."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def named_identifiers(evidence: Any) -> list[tuple[str, str, list[str]]]:
    """Every identifier a reason's evidence names: (kind, key, raw spellings), found at any depth."""
    found: list[tuple[str, str, list[str]]] = []
    if isinstance(evidence, dict):
        if evidence.get("kind") and evidence.get("key"):
            found.append((str(evidence["kind"]), str(evidence["key"]), [str(v) for v in evidence.get("values") or []]))
        for v in evidence.values():
            found.extend(named_identifiers(v))
    elif isinstance(evidence, list):
        for v in evidence:
            found.extend(named_identifiers(v))
    return found


def reason_text(reason: dict[str, Any], shower: Shower) -> str:
    """A reason's words with every identifier it names shown through ``shower``. The words of a
    ring reason quoted in an account's reason name identifiers without evidence: cut there (the
    ring page shows them)."""
    text = str(reason.get("text", ""))
    if reason.get("code") == "IN_SUSPECT_RING" and shower.mode != "reveal":
        text = text.split(": ", 1)[0]
    for kind, key, spellings in named_identifiers(reason.get("evidence")):
        shown = shower.show_tagged(kind, spellings[0] if spellings else key, key)
        for secret in sorted({key, *spellings}, key=len, reverse=True):
            text = text.replace(secret, shown)
    return text


def reason_list(value: Any, shower: Shower = MASKED) -> list[dict[str, Any]]:
    """Reasons as ``[{"code", "text"}]`` whatever form they were stored in, identifiers masked."""
    value = decoded(value)
    if not isinstance(value, list):
        return []
    return [{"code": str(r.get("code", "")), "text": reason_text(r, shower)} for r in value if isinstance(r, dict)]


# -- the optimistic check ------------------------------------------------------------------
class AuditRead:
    """The audit of some accounts, read once (``Workspace.audit_of``), answering ``audit(account_id)``
    as the workspace would: ``analyst.state_token`` then fingerprints many accounts from one read."""

    def __init__(self, audit: pd.DataFrame):
        self.empty = audit.iloc[:0]
        self.by_account = {str(a): rows for a, rows in audit.groupby("account_id", sort=False)} if len(audit) else {}

    def audit(self, account_id: str) -> pd.DataFrame:
        return self.by_account.get(account_id, self.empty)


# Audit rows that change nothing an analyst decides on: someone seeing identifiers in full is no
# reason to refuse another analyst's action on the page they opened before.
NO_CHANGE_EVENTS = ("reveal",)


def account_tokens(
    ws: Workspace, account_ids: list[str], audit: pd.DataFrame | None = None, *, changes_only: bool = True
) -> dict[str, str]:
    """Each account's ``analyst.state_token`` from one read of their audit (``audit``: that read,
    when the caller has it already); ``changes_only``: over the rows that change something (not
    ``NO_CHANGE_EVENTS``), which is what a page's token is made of."""
    rows = ws.audit_of(account_ids) if audit is None else audit
    if changes_only and len(rows):
        rows = rows[~rows["event"].isin(NO_CHANGE_EVENTS)]
    read = AuditRead(rows)
    return {a: analyst.state_token(cast(Workspace, read), a) for a in account_ids}


def page_token(tokens: dict[str, str]) -> str:
    """The state a page showed, as one token its forms carry: an account's token, or for several
    accounts a digest of theirs."""
    if len(tokens) == 1:
        return next(iter(tokens.values()))
    text = "\x1f".join(f"{a}={t}" for a, t in sorted(tokens.items()))
    return f"{len(tokens)}-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def state_token(ws: Workspace, account_ids: list[str]) -> str:
    """The page token of these accounts now (``page_token`` of their ``account_tokens``)."""
    return page_token(account_tokens(ws, account_ids))


# -- the queue -----------------------------------------------------------------------------
def waiting_accounts(ws: Workspace, account_ids: list[str] | None = None) -> pd.DataFrame:
    """Every account (or those of ``account_ids``) whose flag (review / restrict / suspend) waits for
    an analyst's word: account_id, action, trigger, score, ring_id, exposure, since, reasons, and
    proposal (the reinstatement a sweep proposes, ``suspend -> review``; None when it proposes none)."""
    state = ws.account_state(account_ids)
    cols = ["account_id", "action", "trigger", "score", "ring_id", "exposure", "since", "reasons", "proposal"]
    waiting = state[state["action"].isin(FLAGGED) & ~state["manual"].astype(bool)]
    if waiting.empty:
        return pd.DataFrame(columns=cols)
    ids = waiting["account_id"].tolist()
    dec = ws.table("decisions", account_id=ids)[["account_id", "score", "ring_id", "reasons"]]
    acc = ws.accounts(ids)[["account_id", "balance"]]
    proposals = [analyst.proposal_of(row) for row in waiting.to_dict("records")]
    out = waiting[["account_id", "action", "trigger", "updated_at", "original_credit_limit"]].assign(proposal=proposals)
    out = out.merge(dec, on="account_id", how="left")
    out = out.merge(acc, on="account_id", how="left")
    limit = pd.to_numeric(out["original_credit_limit"], errors="coerce").fillna(0.0)
    balance = pd.to_numeric(out["balance"], errors="coerce").fillna(0.0)
    out["exposure"] = np.fmax(limit, balance).clip(lower=0)
    out["score"] = pd.to_numeric(out["score"], errors="coerce").fillna(0.0)
    out["ring_id"] = out["ring_id"].astype(object).where(out["ring_id"].notna(), None)
    out = out.rename(columns={"updated_at": "since"})
    return out[cols].reset_index(drop=True)


@dataclass
class QueueSnapshot:
    """What the queue is computed from, read once and kept by the server: the waiting accounts and
    the rows of their rings. Decisions change only with a sweep (``sweep_id``); account state changes
    with every action, so ``refreshed`` re-reads it and reads decisions only for newcomers."""

    sweep_id: str
    waiting: pd.DataFrame
    rings: pd.DataFrame
    all_ring_rows: pd.DataFrame | None = None  # ring_rows of every waiting account, made on first use

    def ring_rows(self, waiting: pd.DataFrame) -> pd.DataFrame:
        """``ring_rows`` of ``waiting`` (a subset of this snapshot's), kept when it is all of it."""
        if len(waiting) != len(self.waiting):
            return ring_rows(waiting, self.rings)
        if self.all_ring_rows is None:
            self.all_ring_rows = ring_rows(self.waiting, self.rings)
        return self.all_ring_rows

    @classmethod
    def read(cls, ws: Workspace) -> QueueSnapshot:
        waiting = waiting_accounts(ws)
        return cls(last_sweep_id(ws), waiting, ring_table(ws, waiting["ring_id"].dropna().unique().tolist()))

    def refreshed(self, ws: Workspace, account_ids: list[str] | None = None) -> QueueSnapshot:
        """The snapshot after changes to ``account_ids`` (None: any account; a new sweep: all anew)."""
        if account_ids is None:
            if last_sweep_id(ws) != self.sweep_id:
                return QueueSnapshot.read(ws)
            state = ws.account_state()
            now = state[state["action"].isin(FLAGGED) & ~state["manual"].astype(bool)]
            key = ["account_id", "action", "trigger"]
            same = self.waiting.merge(now[key + ["updated_at"]], on=key, how="inner")
            same = same[same["since"].astype(str) == same["updated_at"].astype(str)].drop(columns="updated_at")
            account_ids = sorted(set(now["account_id"]) - set(same["account_id"]))
            kept = same
        else:
            kept = self.waiting[~self.waiting["account_id"].isin(set(account_ids))]
        fresh = waiting_accounts(ws, account_ids) if account_ids else kept.iloc[:0]
        waiting = pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept.reset_index(drop=True)
        missing = sorted(set(fresh["ring_id"].dropna()) - set(self.rings["ring_id"]))
        rings = pd.concat([self.rings, ring_table(ws, missing)], ignore_index=True) if missing else self.rings
        return QueueSnapshot(self.sweep_id, waiting, rings)


def last_sweep_id(ws: Workspace) -> str:
    sweeps = ws.sweeps()
    return str(sweeps.iloc[0]["sweep_id"]) if len(sweeps) else ""


def ring_table(ws: Workspace, ring_ids: list[str]) -> pd.DataFrame:
    """ring_id, size, score, exposure, reasons of these rings."""
    cols = ["ring_id", "size", "score", "exposure", "reasons"]
    if not ring_ids:
        return pd.DataFrame(columns=cols)
    rings = ws.table("rings", ring_id=ring_ids)[cols]
    return rings.astype({"score": "float64", "exposure": "float64"})


def page_args(offset: Any, limit: Any) -> tuple[int, int]:
    """Paging arguments as numbers within bounds (bad text reads as the default)."""
    try:
        off = max(0, int(offset or 0))
    except (TypeError, ValueError):
        off = 0
    try:
        lim = min(MAX_PAGE, max(1, int(limit or PAGE_SIZE)))
    except (TypeError, ValueError):
        lim = PAGE_SIZE
    return off, lim


def sort_frame(df: pd.DataFrame, sort: str, descending: bool, id_column: str) -> pd.DataFrame:
    """Sorted by score, exposure or age (age: oldest flag first when descending)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: expected one of {', '.join(SORTS)}")
    if sort == "age":
        return df.sort_values(["since", id_column], ascending=[descending, True], na_position="last")
    return df.sort_values([sort, id_column], ascending=[not descending, True])


def queue(
    ws: Workspace,
    *,
    view: str = "accounts",
    sort: str = "score",
    descending: bool = True,
    action: str | None = None,
    trigger: str | None = None,
    ring: str | None = None,
    proposal: bool = False,
    offset: Any = 0,
    limit: Any = PAGE_SIZE,
    snapshot: QueueSnapshot | None = None,
) -> dict[str, Any]:
    """One page of the queue (``view`` accounts or rings) with the counts an analyst reads first;
    ``snapshot``: the server's ``QueueSnapshot`` (read now when None)."""
    if view not in ("accounts", "rings"):
        raise ValueError(f"unknown queue view {view!r}: expected accounts or rings")
    off, lim = page_args(offset, limit)
    snap = QueueSnapshot.read(ws) if snapshot is None else snapshot
    everything = snap.waiting
    df = everything
    if action:
        df = df[df["action"] == action]
    if trigger:
        df = df[df["trigger"] == trigger]
    if ring:
        df = df[df["ring_id"] == ring]
    if proposal:
        df = df[df["proposal"].notna()]
    if view == "rings":
        df = snap.ring_rows(df)
        total_all = int(everything["ring_id"].nunique())
    else:
        total_all = len(everything)
    df = sort_frame(df, sort, descending, "ring_id" if view == "rings" else "account_id")
    page = df.iloc[off : off + lim]
    rows = records(page)
    for row in rows:
        row["reasons"] = reason_list(row.get("reasons"))[:3]
    proposed = [r["account_id"] for r in rows if r.get("proposal")]
    tokens = account_tokens(ws, proposed) if proposed and view == "accounts" else {}
    for row in rows:  # a proposed reinstatement is accepted from the queue: its form needs the state seen
        if row.get("account_id") in tokens:
            row["token"] = tokens[row["account_id"]]
    return {
        "view": view,
        "sort": sort,
        "descending": descending,
        "filters": {"action": action, "trigger": trigger, "ring": ring, "proposal": bool(proposal)},
        "offset": off,
        "limit": lim,
        "total": int(len(df)),
        "total_unfiltered": int(total_all),
        "counts": {
            "action": {str(k): int(v) for k, v in everything["action"].value_counts().sort_index().items()},
            "trigger": {str(k): int(v) for k, v in everything["trigger"].value_counts().sort_index().items()},
            "proposals": int(everything["proposal"].notna().sum()),
        },
        "rows": rows,
    }


def ring_rows(waiting: pd.DataFrame, rings: pd.DataFrame) -> pd.DataFrame:
    """The rings with accounts waiting: ring_id, size, score, exposure, waiting, actions, since, reasons."""
    cols = ["ring_id", "size", "score", "exposure", "waiting", "actions", "since", "reasons"]
    in_ring = waiting[waiting["ring_id"].notna()]
    if in_ring.empty:
        return pd.DataFrame(columns=cols)
    grouped = in_ring.groupby("ring_id").agg(waiting=("account_id", "count"), since=("since", "min"))
    per_action = in_ring.groupby(["ring_id", "action"]).size()
    words: dict[str, list[str]] = {}
    for (ring_id, action), n in per_action.items():
        words.setdefault(ring_id, []).append(f"{n} {action}")
    grouped["actions"] = [", ".join(words[r]) for r in grouped.index]
    out = rings.merge(grouped.reset_index(), on="ring_id", how="inner")
    return out[cols]


# -- one ring ------------------------------------------------------------------------------
def shown_raw(kind: str, raw_values: Any, key: Any, shower: Shower) -> list[str]:
    """Each raw spelling of one identifier as this ``shower`` shows it (distinct, in order)."""
    raws = decoded(raw_values)
    if not isinstance(raws, list) or not raws:
        raws = [key]
    out: list[str] = []
    for raw in sorted(str(r) for r in raws):
        text = shower.show_tagged(kind, raw, key)
        if text not in out:
            out.append(text)
    return out


def ring(ws: Workspace, ring_id: str, *, shower: Shower = MASKED) -> dict[str, Any]:
    """Everything the ring page shows: summary, shared and private identifiers, members, money
    between members, the timeline of first appearances, decisions and the audit of the members."""
    view = ring_view(ws, ring_id)
    summary = {k: plain(v) for k, v in view["ring"].items() if k not in ("features", "reasons")}
    reasons = reason_list(view["ring"].get("reasons"), shower)
    members = view["members"]
    ids = members["account_id"].tolist()
    uses = ws.identifiers_of(ids)
    shared, private = split_identifiers(view["identifiers"], uses, ids, shower)
    flows = ws.paid_between(ids)
    audit = ws.audit_of(ids)
    member_rows = records(
        members,
        ["account_id", "created_at", "status", "action", "trigger", "score", "credit_limit", "balance", "label"],
    )
    for row in member_rows:
        row["private_identifiers"] = private.get(row["account_id"], 0)
    actions = members["action"].value_counts().sort_index()
    return {
        "ring": summary,
        "reasons": reasons,
        "actions": {str(k): int(v) for k, v in actions.items()},
        "members": member_rows,
        "shared": shared,
        "flows": records(flows, ["account_id", "counterparty", "amount", "count", "first_ts", "last_ts"]),
        "timeline": timeline(members, shared)[:TIMELINE_ROWS],
        "audit": audit_rows(audit),
        "token": page_token(account_tokens(ws, ids, audit)),
    }


def split_identifiers(
    identifiers: pd.DataFrame, uses: pd.DataFrame, member_ids: list[str], shower: Shower
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The identifiers two or more members share (shown, with who uses them) and, per member, how
    many identifiers it uses alone (a count: what matters in a ring is what is shared)."""
    sharing = identifiers[identifiers["n_members"].astype(int) >= 2]
    users = uses.groupby(["kind", "key"])["account_id"].agg(sorted) if len(uses) else pd.Series(dtype=object)
    # Who used each identifier first (the earliest first_seen; the smallest account id on a tie).
    earliest = uses.dropna(subset=["first_seen"]).sort_values(["first_seen", "account_id"], kind="stable")
    earliest = earliest.drop_duplicates(["kind", "key"])
    firsts = {
        (k, key): (t, a)
        for k, key, t, a in earliest[["kind", "key", "first_seen", "account_id"]].itertuples(index=False, name=None)
    }
    shared = []
    for r in sharing.to_dict("records"):
        pair = (r["kind"], r["key"])
        shared.append(
            {
                "id": "i" + hashlib.sha256(f"{r['kind']}\x1f{r['key']}".encode()).hexdigest()[:10],
                "kind": str(r["kind"]),
                "shown": shown_raw(r["kind"], r.get("raw_values"), r["key"], shower),
                "n_members": int(r["n_members"]),
                "n_accounts": int(r["n_accounts"]),
                "members": list(users.get(pair, [])),
                "first_seen": plain(firsts.get(pair, (None, None))[0]),
                "first_seen_by": plain(firsts.get(pair, (None, None))[1]),
            }
        )
    shared_pairs = set(zip(sharing["kind"], sharing["key"]))
    private: dict[str, int] = dict.fromkeys(member_ids, 0)
    for account_id, kind, key in uses[["account_id", "kind", "key"]].itertuples(index=False, name=None):
        if (kind, key) not in shared_pairs:
            private[account_id] = private.get(account_id, 0) + 1
    return shared, private


def timeline(members: pd.DataFrame, shared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """When each member opened its account and each shared identifier first appeared (and with
    whom), oldest first."""
    events = [
        {"at": plain(pd.Timestamp(r["created_at"])), "what": "account opened", "account_id": r["account_id"]}
        for r in members.to_dict("records")
        if not pd.isna(r.get("created_at"))
    ]
    for s in shared:
        if s["first_seen"] is None:
            continue
        what = f"{s['kind']} {s['shown'][0]} first seen"
        events.append({"at": s["first_seen"], "what": what, "account_id": str(s["first_seen_by"] or "")})
    return sorted(events, key=lambda e: (e["at"] or "", e["account_id"]))


def audit_rows(audit: pd.DataFrame, newest_first: bool = True) -> list[dict[str, Any]]:
    """Audit entries as JSON-ready rows (reasons decoded), newest first."""
    cols = ["at", "actor", "account_id", "event", "previous_action", "new_action", "new_status", "note"]
    rows = records(audit, cols)
    return list(reversed(rows)) if newest_first else rows


# -- one account ---------------------------------------------------------------------------
def account(ws: Workspace, account_id: str, *, hub_threshold: int, shower: Shower = MASKED) -> dict[str, Any]:
    """Everything the account page shows: profile, identifiers (masked), ring, score and reasons,
    nearest flagged accounts, the latest verdict and the audit trail."""
    view = account_view(ws, account_id, hub_threshold=hub_threshold)
    profile = {k: plain(v) for k, v in view["profile"].items()}
    idents = view["identifiers"]
    identifiers = [
        {
            "kind": str(r["kind"]),
            "shown": shower.show_tagged(r["kind"], r["value"], r["key"]),
            "first_seen": plain(pd.Timestamp(r["first_seen"])) if not pd.isna(r.get("first_seen")) else None,
            "n_accounts": int(r["n_accounts"]),
            "is_hub": bool(r["is_hub"]),
            "no_identity": bool(r["no_identity"]),
        }
        for r in idents.to_dict("records")
    ]
    reviews = ws.reviews()
    mine = reviews[reviews["account_id"] == account_id]
    verdict = records(mine.tail(1), ["verdict", "actor", "at", "note"])
    audit = ws.audit(account_id)
    state = view["state"]
    decision = view["decision"]
    return {
        "profile": profile,
        "identifiers": identifiers,
        "ring_id": view["ring_id"],
        "score": view["score"],
        "reasons": reason_list(view["reasons"], shower),
        "decision": None if decision is None else {k: plain(decision.get(k)) for k in ("action", "trigger", "score")},
        "state": None
        if state is None
        else {k: plain(state.get(k)) for k in ("action", "trigger", "status", "credit_limit", "manual", "updated_at")},
        "nearest_flagged": records(view["nearest_flagged"]),
        "verdict": verdict[0] if verdict else None,
        "audit": audit_rows(audit),
        "token": page_token(account_tokens(ws, [account_id], audit)),
    }


# -- search --------------------------------------------------------------------------------
def search(
    ws: Workspace,
    query: str,
    *,
    kinds: tuple[str, ...],
    shower: Shower = MASKED,
    limit: int = 50,
    lookup: LookupKey | None = None,
) -> dict:
    """Accounts and rings matching ``query``: an account id, a ring id, or any identifier typed as
    it was spelled in the data or as its canonical key (``+1 555 123 4567`` finds ``5551234567``),
    in a pseudonymized workspace too when the operator's key is set (``investigate.find``); there,
    without the key, ``notice`` says that typed identifiers need it."""
    found = find(ws, query, kinds, lookup=lookup, limit=limit)
    out: dict[str, Any] = {"query": found["query"], "accounts": [], "rings": [], "identifiers": []}
    if found["notice"]:
        out["notice"] = found["notice"]
    if not found["query"]:
        return out
    out["accounts"] = [{"account_id": a, "matched": "account id"} for a in found["accounts"]]
    out["rings"] = [{"ring_id": r} for r in found["rings"]]
    out["identifiers"] = [
        {
            "kind": i["kind"],
            "shown": shown_raw(i["kind"], i["raw_values"], i["key"], shower),
            "accounts": i["accounts"],
            "n_accounts": i["n_accounts"],
        }
        for i in found["identifiers"]
    ]
    out["truncated"] = found["truncated"]
    return out


# -- sweeps --------------------------------------------------------------------------------
def sweeps(ws: Workspace, *, limit: int = 50, listed: int = 30) -> list[dict[str, Any]]:
    """The sweep history, newest first, each with its summary and its diff against the one before:
    ``diff`` lists the first ``listed`` rings or accounts of each change, ``diff_counts`` all."""
    rows = []
    for row in ws.sweeps().head(limit).to_dict("records"):
        diff = decoded(row.pop("diff", None)) or {}
        out = {k: plain(v) for k, v in row.items()}
        out["summary"] = plain(decoded(row.get("summary")) or {})
        out["diff_counts"] = {k: len(v) for k, v in diff.items() if isinstance(v, list)}
        out["diff"] = {k: plain(v[:listed] if isinstance(v, list) else v) for k, v in diff.items()}
        rows.append(out)
    return rows


def require_ring(ws: Workspace, ring_id: str) -> list[str]:
    """The member ids of a ring of the last sweep (NotFoundError when there is none)."""
    members = ws.table("ring_members", ring_id=ring_id)["account_id"].tolist()
    if not members:
        raise NotFoundError(f"no ring {ring_id!r} in the last sweep")
    return sorted(members)
