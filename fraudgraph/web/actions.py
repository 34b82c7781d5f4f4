"""The workbench's analyst actions, in one small module: every write the web layer makes goes
through ``act`` (and its ``preview``), which call the public functions of ``app.analyst``.

Optimistic check: each page carries ``data.page_token`` of the accounts it shows (built from
``analyst.state_token`` over their audit, reveals aside); an action posted with a token that no
longer matches (another analyst, or a sweep, changed one of the accounts since) is refused with
``ConflictError`` naming who changed what, and nothing is written. The analyst functions get the
accounts' tokens as ``expected`` too, so a change made elsewhere between the check and the write
(the command line) is refused as well.
"""

from __future__ import annotations

from typing import Any

from fraudgraph.app import analyst
from fraudgraph.decisions.policy import Policy
from fraudgraph.errors import FraudGraphError
from fraudgraph.web.data import NO_CHANGE_EVENTS, account_tokens, page_token, plain
from fraudgraph.workspace.base import Workspace

ACTIONS = {
    "confirm_fraud": "confirm fraud",
    "dismiss": "dismiss",
    "suspend": "suspend",
    "reinstate": "reinstate",
}
VERDICT_WORDS = {
    "confirm_fraud": "labelled fraud for the next sweep",
    "dismiss": "labelled legit and not flagged again on the same evidence",
}


class ConflictError(FraudGraphError):
    """Someone changed the accounts after the page was opened; the action was not applied."""


class ForbiddenError(FraudGraphError):
    """An action the workbench refuses to take for this request (posted from another site)."""


def check_action(action: str) -> str:
    if action not in ACTIONS:
        raise FraudGraphError(f"unknown action {action!r}: expected one of {', '.join(ACTIONS)}", setting="action")
    return action


def latest_change(ws: Workspace, account_ids: list[str]) -> dict[str, Any] | None:
    """The newest audit entry of these accounts that changed something (who, what, when), or None."""
    audit = ws.audit_of(account_ids)
    audit = audit[~audit["event"].isin(NO_CHANGE_EVENTS)] if len(audit) else audit
    if audit.empty:
        return None
    newest = audit.iloc[-1]
    return {k: plain(newest.get(k)) for k in ("at", "actor", "account_id", "event")}


def conflict(ws: Workspace, account_ids: list[str]) -> ConflictError:
    change = latest_change(ws, account_ids)
    who = (
        f"{change['actor'] or 'a sweep'} ({change['event'].replace('_', ' ')} on {change['account_id']} at {change['at']})"
        if change
        else "someone else"
    )
    return ConflictError(
        f"not applied: {who} changed this since you opened the page; reload to see the current state",
        setting="expected",
    )


def check_unchanged(ws: Workspace, account_ids: list[str], expected: str | None) -> dict[str, str]:
    """``ConflictError`` when the accounts changed since the page showing ``expected``; else each
    account's ``analyst.state_token`` now, for the analyst functions' own check."""
    if not expected:
        raise ConflictError("this form carries no page state; reload the page and try again", setting="expected")
    audit = ws.audit_of(account_ids)
    if page_token(account_tokens(ws, account_ids, audit)) != expected:
        raise conflict(ws, account_ids)
    return account_tokens(ws, account_ids, audit, changes_only=False)


def check_analyst(name: str | None) -> str:
    """The analyst's name, stripped; refused when empty (every write names its author)."""
    actor = (name or "").strip()
    if not actor:
        raise FraudGraphError("analyst name must not be empty: it goes into the audit trail", setting="analyst")
    return actor


# -- what an action would change -------------------------------------------------------------
def in_force(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": plain(row.get("action")),
        "status": plain(row.get("status")),
        "credit_limit": plain(row.get("credit_limit")),
    }


def by_hand(ws: Workspace, account_ids: list[str], action: str) -> list[dict[str, Any]]:
    """Before and after a suspension or reinstatement by hand (the states ``analyst`` writes)."""
    accounts = {r["account_id"]: r for r in ws.accounts(account_ids).to_dict("records")}
    states = {r["account_id"]: r for r in ws.account_state(account_ids).to_dict("records")} if account_ids else {}
    rows = []
    for a in account_ids:
        account = accounts.get(a, {})
        state = states.get(a) or {**account, "action": "none", "manual": False}
        if action == "suspend":
            after = {"action": "suspend", "status": "suspended", "credit_limit": 0.0}
            already = state.get("status") == "suspended" and state.get("action") == "suspend" and state.get("manual")
            note = "already suspended by an analyst: left as it is" if already else None
        else:
            original = plain(state.get("original_credit_limit"))
            limit = plain(account.get("credit_limit")) if original is None else original
            after = {"action": "none", "status": "active", "credit_limit": limit}
            proposal = analyst.proposal_of(state)
            note = f"accepts the sweep's proposal: {proposal}" if proposal else None
        rows.append({"account_id": a, "before": in_force(state), "after": after, "note": note})
    return rows


def preview(ws: Workspace, account_ids: list[str], action: str, *, policy: Policy | None = None) -> dict[str, Any]:
    """What ``action`` would change: each account's action, status and credit limit before and
    after, and for a verdict what it does to the ring mates (``analyst.preview_review``)."""
    check_action(action)
    if action in analyst.VERDICTS:
        answer = analyst.preview_review(ws, account_ids, action, policy=policy)
        rows = [{**{k: r[k] for k in ("account_id", "before", "after")}, "note": None} for r in answer["accounts"]]
        mates = answer["ring_mates"]
    else:
        rows, mates = by_hand(ws, account_ids, action), []
    for r in rows:
        r["before"], r["after"] = plain(r["before"]), plain(r["after"])
        r["changes"] = r["before"] != r["after"] and not (r["note"] or "").startswith("already")
    return {
        "action": action,
        "accounts": rows,
        "changed": sum(r["changes"] for r in rows),
        "ring_mates": mates,
        "note": f"{len(rows)} account(s) {VERDICT_WORDS[action]}" if action in VERDICT_WORDS else "",
    }


# -- applying it -----------------------------------------------------------------------------
def act(
    ws: Workspace,
    account_ids: list[str],
    action: str,
    *,
    note: str,
    actor: str,
    expected: str | None,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """Apply ``action`` to each account (one audit entry each, by ``actor``), after the optimistic
    check. A verdict is written for every account or for none (``analyst.review_many``); a
    suspension or reinstatement an account does not take (already suspended by hand) is skipped
    and said. ``policy``: whose words the customer's notice uses (the workbench's ``--policy``)."""
    check_action(action)
    actor = check_analyst(actor)
    if not (note or "").strip():
        raise FraudGraphError("note must not be empty: say why, it goes into the audit trail", setting="note")
    tokens = check_unchanged(ws, account_ids, expected)
    applied: list[str] = []
    skipped: list[dict[str, str]] = []
    if action in analyst.VERDICTS:
        try:
            analyst.review_many(ws, account_ids, action, note=note, actor=actor, expected=dict(tokens), policy=policy)
        except FraudGraphError as e:
            if e.setting == "expected":  # changed elsewhere since the check above
                raise conflict(ws, account_ids) from None
            raise
        applied = list(account_ids)
    else:
        change = analyst.suspend if action == "suspend" else analyst.reinstate
        for account_id in account_ids:
            try:
                change(ws, account_id, reason=note, actor=actor, expected=tokens[account_id], policy=policy)
                applied.append(account_id)
            except FraudGraphError as e:
                skipped.append({"account_id": account_id, "reason": str(e)})
    return {
        "action": action,
        "applied": applied,
        "skipped": skipped,
        "token": page_token(account_tokens(ws, account_ids)),
    }
