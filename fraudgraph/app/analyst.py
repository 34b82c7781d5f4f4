"""Analyst actions: review verdicts, manual suspend / reinstate, and the review queue.

An analyst's word is final for the sweep: every state it writes is ``manual``, which sweeps
never override, except a dismissal, which hands the account back to the policy with the account's
data remembered (``decisions.verdicts``), so it is flagged again only on new evidence about it.
Every function that changes an account takes an optional ``expected`` state token
(``state_token``): the change is refused if someone changed the account since the analyst looked.
A change the customer lives with (suspended, or a restriction or suspension lifted) writes the
customer's notice with the state and audit rows (``decisions.notices.change_notice``), in the
words of ``policy`` (default: the packaged policy); the analyst's note never goes into it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from fraudgraph.decisions.notices import change_notice
from fraudgraph.decisions.policy import PROPOSAL_PREFIX, Policy
from fraudgraph.decisions.verdicts import AccountData, dismissal_token, encode_snapshot, snapshots
from fraudgraph.errors import FraudGraphError, NotFoundError
from fraudgraph.model.values import utc_now
from fraudgraph.workspace.base import AUDIT_COLUMNS, NOTICE_COLUMNS, STATE_COLUMNS, Workspace

VERDICTS = ("confirm_fraud", "dismiss")


def _current(ws: Workspace, account_id: str) -> tuple[dict, dict, dict | None]:
    acc = ws.accounts([account_id])
    if acc.empty:
        raise NotFoundError(f"no account {account_id!r} in the workspace")
    account = acc.iloc[0].to_dict()
    st = ws.account_state([account_id])
    if len(st):
        state = st.iloc[0].to_dict()
    else:
        state = {
            "account_id": account_id,
            "action": "none",
            "trigger": "none",
            "status": account["status"],
            "credit_limit": account["credit_limit"],
            "original_credit_limit": account["credit_limit"],
            "manual": False,
            "evidence": None,
            "updated_at": None,
            "sweep_id": None,
        }
    dec = ws.table("decisions", account_id=account_id)
    decision = dec.iloc[0].to_dict() if len(dec) else None
    return account, state, decision


def _change(
    state: dict,
    *,
    action: str,
    trigger: str,
    status: str,
    limit,
    manual: bool,
    actor: str,
    event: str,
    note: str,
    at: datetime,
    evidence=None,
    score=None,
    reasons=None,
):
    new = dict(state)
    new.update(
        action=action,
        trigger=trigger,
        status=status,
        credit_limit=limit,
        manual=manual,
        updated_at=at.isoformat(timespec="seconds"),
        sweep_id=None,
    )
    if evidence is not None:
        new["evidence"] = evidence
    audit = {
        "at": at.isoformat(timespec="seconds"),
        "sweep_id": None,
        "actor": actor,
        "account_id": state["account_id"],
        "event": event,
        "previous_action": state["action"],
        "new_action": action,
        "previous_status": state["status"],
        "new_status": status,
        "previous_limit": state["credit_limit"],
        "new_limit": limit,
        "score": score,
        "reasons": json.dumps(reasons or [], ensure_ascii=False),
        "policy_hash": None,
        "note": note,
    }
    return pd.DataFrame([new], columns=STATE_COLUMNS), pd.DataFrame([audit], columns=AUDIT_COLUMNS)


# The state an analyst's suspension (by hand, or by confirming fraud) puts an account in; sweeps
# never change a manual state.
_SUSPENDED_BY_HAND: dict[str, Any] = {
    "action": "suspend",
    "trigger": "manual",
    "status": "suspended",
    "limit": 0.0,
    "manual": True,
}


def _reinstated(state: dict, account: dict, *, manual: bool) -> dict[str, Any]:
    """The state a dismissal (sweeps may act again on new evidence) or a reinstatement by hand
    (sweeps keep it) puts an account in: active, at its original credit limit."""
    return {
        "action": "none",
        "trigger": "manual",
        "status": "active",
        "limit": _original_limit(state, account),
        "manual": manual,
    }


def _original_limit(state: dict, account: dict) -> Any:
    """The limit an account goes back to: the one recorded before a sweep limited it, else the source's."""
    original = state.get("original_credit_limit")
    if original is None or (isinstance(original, float) and np.isnan(original)):
        return account["credit_limit"]
    return original


def action_notices(
    ws: Workspace,
    audit: pd.DataFrame,
    policy: Policy,
    *,
    made_by: str,
    at: datetime,
    trigger: str,
    reasons: Any = None,
    account: dict | None = None,
) -> pd.DataFrame:
    """NOTICE_COLUMNS: the customer notice of the one-account change ``audit`` records, made outside
    a sweep by ``made_by`` (check, suspend, reinstate, review); no row when the customer sees no
    change. Its id numbers the account's audit entry it goes with: ``suspend-3:A1``."""
    rows = []
    for change in audit.to_dict("records"):
        n = len(ws.audit(str(change["account_id"]))) + 1
        row = change_notice(
            change, policy, made_by=f"{made_by}-{n}", at=at, trigger=trigger, reasons=reasons, account=account
        )
        rows += [row] if row is not None else []
    notices = pd.DataFrame(rows, columns=NOTICE_COLUMNS)
    notices["created_at"] = notices["created_at"].astype("datetime64[ns]")
    return notices


def _require_note(text: str, what: str) -> str:
    if not text or not text.strip():
        raise FraudGraphError(f"{what} must not be empty: say why, it goes into the audit trail", setting=what)
    return text.strip()


def _changes(rows: pd.DataFrame) -> pd.DataFrame:
    """Audit rows that record a change (everything but ``reveal``)."""
    return rows[rows["event"].astype(str) != "reveal"] if len(rows) and "event" in rows else rows


def state_token(ws: Workspace, account_id: str) -> str:
    """What an analyst saw of an account, as a short token: how many audit rows it has and a digest
    of the latest (what changed, by whom, to what; ``0`` when none). The audit is append-only, so any
    change since (another analyst, a sweep) changes the token. Pass it back as ``expected`` and a
    verdict or action is refused if the account changed since the analyst looked. ``reveal`` rows
    (someone read the identifiers in full) change nothing about the account and are left out."""
    rows = _changes(ws.audit(account_id))
    if rows.empty:
        return "0"
    last = rows.iloc[-1]
    fields = ["" if pd.isna(last[c]) else str(last[c]) for c in ("event", "actor", "sweep_id", "new_action", "note")]
    return f"{len(rows)}-{hashlib.sha256(chr(31).join(fields).encode()).hexdigest()[:8]}"


def _check_expected(ws: Workspace, account_id: str, expected: str | None) -> None:
    if expected is None:
        return
    now = state_token(ws, account_id)
    if now != expected:
        rows = _changes(ws.audit(account_id))
        who = ""
        if len(rows):
            last = rows.iloc[-1]
            who = f" ({last['event']} by {last['actor']} at {pd.Timestamp(last['at']).isoformat(timespec='seconds')})"
        raise FraudGraphError(
            f"account {account_id} changed since you looked at it{who}: "
            f"expected state {expected}, it is now {now}; look again before deciding",
            setting="expected",
        )


def _snapshot_texts(ws: Workspace, account_ids: list[str]) -> dict[str, str]:
    """What a verdict on each account remembers (decisions.verdicts.snapshots), as stored text."""
    accounts = ws.accounts(account_ids)
    members = ws.table("ring_members", account_id=account_ids)
    ring_members = ws.table("ring_members", ring_id=sorted(set(members["ring_id"]))) if len(members) else members
    concerned = sorted(set(account_ids) | set(ring_members["account_id"]))
    data = AccountData(ws.links(concerned), ws.transactions(account_ids), ring_members)
    return {a: encode_snapshot(snap) for a, snap in snapshots(accounts, data).items()}


def review(
    ws: Workspace,
    account_id: str,
    verdict: str,
    *,
    note: str,
    actor: str,
    expected: str | None = None,
    policy: Policy | None = None,
) -> dict:
    """Record an analyst's verdict on an account.

    ``confirm_fraud`` labels the account fraud (the next sweep uses the label) and suspends it.
    ``dismiss`` labels it legit, reinstates it (status active, original credit limit) and keeps it
    from being flagged again until new evidence about it arrives (a new identifier, a new
    transaction, a new ring mate sharing its identifiers, worse credit). ``expected``: the
    ``state_token`` the analyst saw; refused if the account changed since. A verdict that suspends
    the account, or lifts its restriction or suspension, writes the customer's notice (``policy``'s
    words); one that changes nothing the customer sees (a review or monitor cleared) writes none.
    """
    return review_many(
        ws, [account_id], verdict, note=note, actor=actor, expected={account_id: expected}, policy=policy
    )[0]


def review_many(
    ws: Workspace,
    account_ids: list[str],
    verdict: str,
    *,
    note: str,
    actor: str,
    expected: dict[str, str | None] | None = None,
    policy: Policy | None = None,
) -> list[dict]:
    """The same verdict on several accounts (a ring, a list), one review and audit row each (and a
    notice where the customer sees a change; see ``review``). Every account is checked (it exists,
    it is unchanged since ``expected``) before any is written."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    note = _require_note(note, "note")
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        raise FraudGraphError("no account to review: expected at least one account id", setting="accounts")
    current = {a: _current(ws, a) for a in ids}
    for a in ids:
        _check_expected(ws, a, (expected or {}).get(a))
    texts = _snapshot_texts(ws, ids)
    pol = policy or Policy.default()
    return [_record_review(ws, a, verdict, current[a], texts[a], note=note, actor=actor, policy=pol) for a in ids]


def _record_review(
    ws: Workspace, account_id: str, verdict: str, current, snapshot: str, *, note, actor, policy: Policy
) -> dict:
    account, state, decision = current
    at = utc_now()
    score = (decision or {}).get("score")
    reasons = (decision or {}).get("reasons")
    if verdict == "confirm_fraud":
        change: dict[str, Any] = dict(_SUSPENDED_BY_HAND)
        label = (account_id, "fraud")
    else:
        change = dict(_reinstated(state, account, manual=False), evidence=dismissal_token(snapshot))
        label = (account_id, "legit")
    new_state, audit = _change(
        state, **change, actor=actor, event=f"review_{verdict}", note=note, at=at, score=score, reasons=reasons
    )
    notices = action_notices(ws, audit, policy, made_by="review", at=at, trigger=change["trigger"], account=account)
    ws.apply_manual(
        state=new_state,
        audit=audit,
        notices=notices,
        review={
            "account_id": account_id,
            "verdict": verdict,
            "note": note,
            "actor": actor,
            "at": at.isoformat(timespec="seconds"),
            "evidence": snapshot,
        },
        label=label,
    )
    return new_state.iloc[0].to_dict()


def ring_accounts(ws: Workspace, ring_id: str) -> list[str]:
    """The members of a ring of the last sweep."""
    members = ws.table("ring_members", ring_id=ring_id)
    if members.empty:
        raise NotFoundError(f"no ring {ring_id!r} in the last sweep")
    return sorted(members["account_id"].astype(str))


def suspend(
    ws: Workspace,
    account_id: str,
    *,
    reason: str,
    actor: str,
    expected: str | None = None,
    policy: Policy | None = None,
) -> dict:
    """Suspend an account by hand. Sweeps never lift a manual suspension. An account not suspended
    before gets the suspension notice (``policy``'s words, never the analyst's ``reason``)."""
    reason = _require_note(reason, "reason")
    account, state, decision = _current(ws, account_id)
    _check_expected(ws, account_id, expected)
    if state["status"] == "suspended" and state["action"] == "suspend" and state["manual"]:
        raise FraudGraphError(f"account {account_id} is already suspended by an analyst")
    at = utc_now()
    new_state, audit = _change(
        state,
        **_SUSPENDED_BY_HAND,
        actor=actor,
        event="manual_suspend",
        note=reason,
        at=at,
        score=(decision or {}).get("score"),
    )
    pol = policy or Policy.default()
    notices = action_notices(ws, audit, pol, made_by="suspend", at=at, trigger="manual", account=account)
    ws.apply_manual(state=new_state, audit=audit, notices=notices)
    return new_state.iloc[0].to_dict()


def reinstate(
    ws: Workspace,
    account_id: str,
    *,
    reason: str,
    actor: str,
    expected: str | None = None,
    policy: Policy | None = None,
) -> dict:
    """Reinstate an account by hand: active, original credit limit; sweeps keep it so. This is how
    an analyst accepts a sweep's proposed reinstatement (see ``queue``). An account that was
    restricted or suspended gets the lifting notice (``policy``'s words)."""
    reason = _require_note(reason, "reason")
    account, state, decision = _current(ws, account_id)
    _check_expected(ws, account_id, expected)
    if proposal_of(state):
        reason = f"{reason} (accepts the sweep's proposal: {proposal_of(state)})"
    at = utc_now()
    new_state, audit = _change(
        state,
        **_reinstated(state, account, manual=True),
        actor=actor,
        event="manual_reinstate",
        note=reason,
        at=at,
        score=(decision or {}).get("score"),
    )
    pol = policy or Policy.default()
    notices = action_notices(ws, audit, pol, made_by="reinstate", at=at, trigger="manual", account=account)
    ws.apply_manual(state=new_state, audit=audit, notices=notices)
    return new_state.iloc[0].to_dict()


def proposal_of(state: dict | None) -> str | None:
    """The reinstatement a sweep proposes for an account it restricted or suspended (``suspend ->
    review``), or None. The restriction stays in force until an analyst decides."""
    evidence = (state or {}).get("evidence")
    if state is None or state.get("manual") or not isinstance(evidence, str):
        return None
    if not evidence.startswith(PROPOSAL_PREFIX):
        return None
    return f"{state['action']} -> {evidence[len(PROPOSAL_PREFIX) :].split(':', 1)[0]}"


def queue(ws: Workspace) -> pd.DataFrame:
    """Accounts awaiting an analyst, highest risk first: those at ``review`` with no verdict yet, and
    those a sweep restricted or suspended and now proposes to reinstate (``proposal``: what from,
    what to; the reasons say why)."""
    state = ws.account_state()
    proposals = state["evidence"].fillna("").astype(str).str.startswith(PROPOSAL_PREFIX)
    waiting = state[((state["action"] == "review") | proposals) & ~state["manual"].astype(bool)]
    cols = ["account_id", "score", "ring_id", "trigger", "proposal", "reasons", "since"]
    if waiting.empty:
        return pd.DataFrame(columns=cols)
    dec = ws.table("decisions", account_id=waiting["account_id"].tolist())
    out = waiting[["account_id", "updated_at"]].merge(
        dec[["account_id", "score", "ring_id", "trigger", "reasons"]], on="account_id", how="left"
    )
    by_id = waiting.set_index("account_id")
    out["proposal"] = [proposal_of(by_id.loc[a].to_dict() | {"account_id": a}) or "" for a in out["account_id"]]
    out = out.rename(columns={"updated_at": "since"})
    out["score"] = out["score"].astype("float64")
    return out.sort_values(["score", "account_id"], ascending=[False, True])[cols].reset_index(drop=True)


def _in_force(state: dict) -> dict[str, Any]:
    return {"action": state["action"], "status": state["status"], "credit_limit": state["credit_limit"]}


def preview_review(ws: Workspace, account_ids: list[str], verdict: str, *, policy=None) -> dict[str, Any]:
    """What a verdict on ``account_ids`` would change, before it is applied (nothing is written).

    ``accounts``: each account's state in force now and after the verdict, with its state token.
    ``ring_mates``: the other members of their rings, whose evidence the verdict touches: a
    confirmed member puts the ring under the ring rule (mates not dismissed may be raised at the
    next sweep); a dismissed member makes the ring look less like fraud (a sweep will not lift a
    mate's restriction for that; it proposes a reinstatement in the queue instead).
    """
    from fraudgraph.decisions.policy import SEVERITY, Policy

    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    ids = list(dict.fromkeys(account_ids))
    rows = []
    for a in ids:
        account, state, _ = _current(ws, a)
        change = _SUSPENDED_BY_HAND if verdict == "confirm_fraud" else _reinstated(state, account, manual=False)
        after = {"action": change["action"], "status": change["status"], "credit_limit": change["limit"]}
        rows.append({"account_id": a, "before": _in_force(state), "after": after, "token": state_token(ws, a)})
    members = ws.table("ring_members", account_id=ids)
    mates = ws.table("ring_members", ring_id=sorted(set(members["ring_id"]))) if len(members) else members
    mates = mates[~mates["account_id"].isin(ids)]
    pol = policy or Policy.default()
    ring_action = pol.data["rings"]["confirmed_fraud_action"]
    latest = _latest_verdicts(ws, mates["account_id"].tolist())
    states = ws.account_state(mates["account_id"].tolist()).set_index("account_id") if len(mates) else None
    out_mates = []
    for rid, mate in mates[["ring_id", "account_id"]].itertuples(index=False, name=None):
        mate_state: dict[str, Any] = states.loc[mate].to_dict() if states is not None and mate in states.index else {}
        action = mate_state.get("action") or "none"
        mate_verdict = latest.get(mate, {}).get("verdict")
        if mate_verdict == "dismiss":
            effect = "dismissed by an analyst: the dismissal holds (no new evidence about it)"
        elif mate_state.get("manual"):
            effect = f"decided by an analyst ({action}): sweeps do not change it"
        elif verdict == "confirm_fraud" and SEVERITY[action] < SEVERITY[ring_action]:
            effect = f"the ring now holds confirmed fraud: the next sweep may raise it to {ring_action}"
        elif verdict == "dismiss" and action in ("restrict", "suspend"):
            effect = f"ring evidence weakens; its {action} stays (any lowering is proposed in the queue)"
        else:
            effect = "ring evidence touched; its action follows the next sweep"
        out_mates.append({"account_id": mate, "ring_id": rid, "in_force": action, "effect": effect})
    return {"verdict": verdict, "accounts": rows, "ring_mates": out_mates}


def _latest_verdicts(ws: Workspace, account_ids: list[str]) -> dict[str, dict]:
    reviews = ws.reviews()
    if reviews.empty or not account_ids:
        return {}
    mine = reviews[reviews["account_id"].isin(account_ids)]
    return {str(r["account_id"]): r for r in mine.to_dict("records")}  # oldest first: the last wins


def latest_verdict(ws: Workspace, account_id: str) -> dict[str, Any] | None:
    """The latest analyst verdict on an account: who, when, the note, and what is in force because
    of it (the state now, whether a dismissal still holds or new evidence has re-flagged it)."""
    review = _latest_verdicts(ws, [account_id]).get(account_id)
    if review is None:
        return None
    _, state, decision = _current(ws, account_id)
    codes = {r.get("code") for r in (decision or {}).get("reasons") or [] if isinstance(r, dict)}
    if review["verdict"] == "confirm_fraud":
        holds = "labelled fraud and suspended by hand; sweeps do not change it"
    elif decision is not None and "REVIEWED_NEW_EVIDENCE" in codes:
        new = next(r for r in decision["reasons"] if isinstance(r, dict) and r.get("code") == "REVIEWED_NEW_EVIDENCE")
        holds = f"re-flagged on new evidence: {new['text']}"
    else:
        holds = "labelled legit; not flagged again until new evidence about the account arrives"
    if state.get("manual") and review["verdict"] == "dismiss":
        holds = f"an analyst acted since: {state['action']} by hand"
    return {
        "verdict": review["verdict"],
        "actor": review["actor"],
        "at": pd.Timestamp(review["at"]).isoformat(timespec="seconds"),
        "note": review["note"],
        "in_force": {**_in_force(state), "because": holds},
        "token": state_token(ws, account_id),
    }
