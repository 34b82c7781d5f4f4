"""The workbench's analyst actions, in one small module: every write the web layer makes goes
through ``act`` (and its ``preview``), which call the public functions of ``app.analyst``.

Optimistic check: each page carries ``data.state_token`` of the accounts it shows; an action
posted with a token that no longer matches (another analyst, or a sweep, changed one of the
accounts since) is refused with ``ConflictError`` and nothing is written.
"""

from __future__ import annotations

from typing import Any

from fraudgraph.app import analyst
from fraudgraph.errors import FraudGraphError
from fraudgraph.web.data import plain, state_token
from fraudgraph.workspace.base import Workspace

ACTIONS = {
    "confirm_fraud": "confirm fraud",
    "dismiss": "dismiss",
    "suspend": "suspend",
    "reinstate": "reinstate",
}
# What each action leaves an account in (app.analyst's rules), for the preview.
AFTER: dict[str, dict[str, Any]] = {
    "confirm_fraud": {"status": "suspended", "action": "suspend", "limit": "0", "label": "fraud"},
    "dismiss": {"status": "active", "action": "none", "limit": "original", "label": "legit"},
    "suspend": {"status": "suspended", "action": "suspend", "limit": "0", "label": None},
    "reinstate": {"status": "active", "action": "none", "limit": "original", "label": None},
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
    """The newest audit entry of these accounts (who changed what, when), or None."""
    newest: dict[str, Any] | None = None
    for account_id in account_ids:
        audit = ws.audit(account_id)
        if len(audit):
            row = audit.iloc[-1].to_dict()
            if newest is None or str(row["at"]) >= str(newest["at"]):
                newest = row
    return None if newest is None else {k: plain(newest.get(k)) for k in ("at", "actor", "account_id", "event")}


def check_unchanged(ws: Workspace, account_ids: list[str], expected: str | None) -> None:
    """Refuse (``ConflictError``) when the accounts changed since the page showing ``expected``."""
    if not expected:
        raise ConflictError("this form carries no page state; reload the page and try again", setting="expected")
    if state_token(ws, account_ids) == expected:
        return
    change = latest_change(ws, account_ids)
    who = (
        f"{change['actor'] or 'a sweep'} ({change['event'].replace('_', ' ')} on {change['account_id']} at {change['at']})"
        if change
        else "someone else"
    )
    raise ConflictError(
        f"not applied: {who} changed this since you opened the page; reload to see the current state",
        setting="expected",
    )


def preview(ws: Workspace, account_ids: list[str], action: str) -> dict[str, Any]:
    """What ``action`` would change on each account: status, action and credit limit before and after."""
    after = AFTER[check_action(action)]
    view = ws.account_view(account_ids)
    states = {r["account_id"]: r for r in ws.account_state(account_ids).to_dict("records")} if account_ids else {}
    rows = []
    for r in view.to_dict("records"):
        st = states.get(r["account_id"], {})
        limit_now = st.get("credit_limit", r.get("credit_limit"))
        original = st.get("original_credit_limit", r.get("credit_limit"))
        limit_after = 0.0 if after["limit"] == "0" else original
        rows.append(
            {
                "account_id": r["account_id"],
                "status": plain(r.get("status")),
                "new_status": after["status"],
                "action": plain(r.get("action")),
                "new_action": after["action"],
                "credit_limit": plain(limit_now),
                "new_credit_limit": plain(limit_after),
                "label": after["label"],
                "changes": plain(r.get("status")) != after["status"] or plain(limit_now) != plain(limit_after),
            }
        )
    changed = [r for r in rows if r["changes"]]
    words = {
        "confirm_fraud": "labelled fraud for the next sweep",
        "dismiss": "labelled legit and not flagged again on the same evidence",
    }
    return {
        "action": action,
        "accounts": rows,
        "changed": len(changed),
        "note": f"{len(rows)} account(s) {words[action]}" if action in words else "",
    }


def act(
    ws: Workspace, account_ids: list[str], action: str, *, note: str, actor: str, expected: str | None
) -> dict[str, Any]:
    """Apply ``action`` to each account (one audit entry each, by ``actor``), after the optimistic
    check. An account the action does not apply to (already suspended by hand) is skipped and said."""
    check_action(action)
    if not (actor or "").strip():
        raise FraudGraphError("analyst name must not be empty: it goes into the audit trail", setting="analyst")
    if not (note or "").strip():
        raise FraudGraphError("note must not be empty: say why, it goes into the audit trail", setting="note")
    check_unchanged(ws, account_ids, expected)
    applied, skipped = [], []
    for account_id in account_ids:
        try:
            if action in analyst.VERDICTS:
                analyst.review(ws, account_id, action, note=note, actor=actor.strip())
            elif action == "suspend":
                analyst.suspend(ws, account_id, reason=note, actor=actor.strip())
            else:
                analyst.reinstate(ws, account_id, reason=note, actor=actor.strip())
            applied.append(account_id)
        except FraudGraphError as e:
            skipped.append({"account_id": account_id, "reason": str(e)})
    return {"action": action, "applied": applied, "skipped": skipped, "token": state_token(ws, account_ids)}
