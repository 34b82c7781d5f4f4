"""Analyst actions: review verdicts, manual suspend / reinstate, and the review queue.

An analyst's word is final for the sweep: every state it writes is ``manual``, which sweeps
never override, except a dismissal, which hands the account back to the policy with its
evidence remembered so the same evidence does not flag it again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from fraudgraph.errors import FraudGraphError, NotFoundError
from fraudgraph.model.values import utc_now
from fraudgraph.workspace.base import AUDIT_COLUMNS, STATE_COLUMNS, Workspace

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


def _require_note(text: str, what: str) -> str:
    if not text or not text.strip():
        raise FraudGraphError(f"{what} must not be empty: say why, it goes into the audit trail", setting=what)
    return text.strip()


def review(ws: Workspace, account_id: str, verdict: str, *, note: str, actor: str) -> dict:
    """Record an analyst's verdict on an account.

    ``confirm_fraud`` labels the account fraud (the next sweep uses the label) and suspends it.
    ``dismiss`` labels it legit, reinstates it (status active, original credit limit) and keeps
    it from being flagged again on the same evidence.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    note = _require_note(note, "note")
    account, state, decision = _current(ws, account_id)
    at = utc_now()
    evidence = (decision or {}).get("evidence") or state.get("evidence")
    score = (decision or {}).get("score")
    reasons = (decision or {}).get("reasons")
    if verdict == "confirm_fraud":
        new_state, audit = _change(
            state,
            **_SUSPENDED_BY_HAND,
            actor=actor,
            event="review_confirm_fraud",
            note=note,
            at=at,
            score=score,
            reasons=reasons,
        )
        label = (account_id, "fraud")
    else:
        new_state, audit = _change(
            state,
            **_reinstated(state, account, manual=False),
            actor=actor,
            event="review_dismiss",
            note=note,
            at=at,
            evidence=evidence,
            score=score,
            reasons=reasons,
        )
        label = (account_id, "legit")
    ws.apply_manual(
        state=new_state,
        audit=audit,
        review={
            "account_id": account_id,
            "verdict": verdict,
            "note": note,
            "actor": actor,
            "at": at.isoformat(timespec="seconds"),
            "evidence": evidence,
        },
        label=label,
    )
    return new_state.iloc[0].to_dict()


def suspend(ws: Workspace, account_id: str, *, reason: str, actor: str) -> dict:
    """Suspend an account by hand. Sweeps never lift a manual suspension."""
    reason = _require_note(reason, "reason")
    _, state, decision = _current(ws, account_id)
    if state["status"] == "suspended" and state["action"] == "suspend" and state["manual"]:
        raise FraudGraphError(f"account {account_id} is already suspended by an analyst")
    new_state, audit = _change(
        state,
        **_SUSPENDED_BY_HAND,
        actor=actor,
        event="manual_suspend",
        note=reason,
        at=utc_now(),
        score=(decision or {}).get("score"),
    )
    ws.apply_manual(state=new_state, audit=audit)
    return new_state.iloc[0].to_dict()


def reinstate(ws: Workspace, account_id: str, *, reason: str, actor: str) -> dict:
    """Reinstate an account by hand: active, original credit limit; sweeps keep it so."""
    reason = _require_note(reason, "reason")
    account, state, decision = _current(ws, account_id)
    new_state, audit = _change(
        state,
        **_reinstated(state, account, manual=True),
        actor=actor,
        event="manual_reinstate",
        note=reason,
        at=utc_now(),
        score=(decision or {}).get("score"),
    )
    ws.apply_manual(state=new_state, audit=audit)
    return new_state.iloc[0].to_dict()


def queue(ws: Workspace) -> pd.DataFrame:
    """Accounts awaiting review (action ``review`` in force, no analyst decision yet), highest risk first."""
    state = ws.account_state()
    waiting = state[(state["action"] == "review") & ~state["manual"]]
    cols = ["account_id", "score", "ring_id", "trigger", "reasons", "since"]
    if waiting.empty:
        return pd.DataFrame(columns=cols)
    dec = ws.table("decisions", account_id=waiting["account_id"].tolist())
    out = waiting[["account_id", "updated_at"]].merge(
        dec[["account_id", "score", "ring_id", "trigger", "reasons"]], on="account_id", how="left"
    )
    out = out.rename(columns={"updated_at": "since"})
    out["score"] = out["score"].astype("float64")
    return out.sort_values(["score", "account_id"], ascending=[False, True])[cols].reset_index(drop=True)
