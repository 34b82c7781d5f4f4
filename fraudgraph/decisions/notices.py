"""Customer notices for newly restricted or suspended accounts, for restrictions and suspensions
lifted by hand, and the repayment plans offered with overdue ones. Plain language only: never a
score, a reason code, an analyst's note or anything about another customer.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from fraudgraph.decisions.evidence import evidence_items, format_money
from fraudgraph.model.frames import NOTICE_COLUMNS

if TYPE_CHECKING:
    from fraudgraph.decisions.policy import Policy

# Which notice template a decision's trigger uses.
CATEGORY_OF_TRIGGER = {
    "fraud_ring": "fraud_ring",
    "overdue": "overdue",
    "account_risk": "credit_risk",
    "utilization": "credit_risk",
    "manual": "credit_risk",
}

# How each identifier kind is described to a customer, in the order phrases are listed.
# Only the kind is ever named, never the value or who else uses it.
_KIND_PHRASES = {
    "device": "a device",
    "card": "payment details",
    "bank_account": "payment details",
    "national_id": "identity details",
    "phone": "a phone number",
    "email": "an email address",
    "address": "an address",
    "ip": "an internet connection",
}
_GENERIC_SHARED = "details such as a device or payment details"


def notice_category(trigger: str) -> str:
    """The notice category (fraud_ring | overdue | credit_risk) of a decision trigger."""
    return CATEGORY_OF_TRIGGER.get(str(trigger), "credit_risk")


def _to_cents(amount: float) -> int:
    return int(Decimal(repr(float(amount))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def repayment_plan(balance: float, policy: Policy) -> dict[str, Any]:
    """Equal monthly instalments that sum to ``balance`` exactly (to the cent).

    Proposes the most instalments among ``repayment.instalment_options`` (each <= ``max_months``)
    whose instalment is still at least ``minimum_instalment``; a smaller balance is one payment.
    The leftover cents go on the first instalments. Returns ``{"total", "months", "instalment"
    (the regular amount), "amounts" (every payment), "frequency", "options"}``; ``options`` lists
    every eligible plan (months, regular instalment), so an agent can offer a shorter one. Raises ValueError for a balance that is not a positive number.
    """
    if not isinstance(balance, numbers.Real) or isinstance(balance, bool) or not math.isfinite(balance) or balance <= 0:
        raise ValueError(f"repayment plan needs a positive balance, got {balance!r}")
    cfg = policy.data["repayment"]
    total = _to_cents(balance)
    minimum = _to_cents(cfg["minimum_instalment"])
    eligible = [m for m in cfg["instalment_options"] if m <= cfg["max_months"] and total // m >= minimum]
    months = max(eligible) if eligible else 1
    base, leftover = divmod(total, months)
    amounts = [base + 1] * leftover + [base] * (months - leftover)
    return {
        "total": total / 100,
        "months": months,
        "instalment": base / 100,
        "amounts": [a / 100 for a in amounts],
        "frequency": "monthly",
        "options": [{"months": m, "instalment": (total // m) / 100} for m in (eligible or [1])],
    }


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _from_reasons(reasons: Any, key: str) -> Any:
    for reason in reasons if isinstance(reasons, list) else []:
        evidence = reason.get("evidence") if isinstance(reason, dict) else None
        if isinstance(evidence, dict) and evidence.get(key) is not None:
            return evidence[key]
    return None


def _shared_details(reasons: Any) -> str:
    kinds = {item.get("kind") for reason in reasons or [] for item in evidence_items(reason)}
    phrases: list[str] = []
    for kind, phrase in _KIND_PHRASES.items():
        if kind in kinds and phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        return _GENERIC_SHARED
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]


_BLANK_RUN = re.compile(r"\n{3,}")


def _closed_up(body: str) -> str:
    """``body`` without runs of blank lines (an empty placeholder leaves one), ending in one newline."""
    if "\n\n\n" in body:
        body = _BLANK_RUN.sub("\n\n", body)
    return body.strip() + "\n"


class _TemplateValues(dict):
    """A notice's placeholder values; ``shared_details`` (a walk over every reason's evidence) is
    worked out only when a template names it (the default policy's fraud-ring notice does; its
    overdue and credit-risk notices, half of a sweep's, do not)."""

    def __init__(self, reasons: Any) -> None:
        super().__init__()
        self._reasons = reasons

    def __missing__(self, key: str) -> str:
        if key != "shared_details":
            raise KeyError(key)
        self[key] = found = _shared_details(self._reasons)
        return found


def _plan_sentence(plan: dict[str, Any], currency: str) -> str:
    total = format_money(plan["total"], currency)
    if plan["months"] == 1:
        return f"You can settle the full {total} in one payment."
    regular = format_money(plan["instalment"], currency)
    first = plan["amounts"][0]
    extra = sum(1 for a in plan["amounts"] if a != plan["instalment"])
    tail = ""
    if extra:
        tail = f" (the first {extra} {'is' if extra == 1 else 'are'} {format_money(first, currency)})"
    return (
        f"To make this easier, we can offer you a plan of {plan['months']} monthly payments of "
        f"{regular}{tail}, which pays off the full {total}."
    )


def build_notice(account: Mapping[str, Any], decision: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """The customer notice for one newly restricted or suspended account, or one whose restriction
    or suspension was lifted.

    account: ``account_id`` and, when known, ``balance`` and ``overdue_days`` (otherwise read from
    the decision's overdue reason evidence). decision: ``action`` (restrict | suspend | lift),
    ``trigger``, ``new_credit_limit``, ``reasons``; for ``lift``, ``lifted`` (restrict | suspend:
    what was lifted) and the restored ``new_credit_limit``. Returns ``{"category" (fraud_ring |
    overdue | credit_risk | lifted), "action", "subject", "body", "customer_actions" (list[str]),
    "repayment_plan" (dict or None)}``.
    """
    action = decision.get("action")
    if action == "lift":
        return _lifting_notice(decision, policy)
    if action not in ("restrict", "suspend"):
        raise ValueError(f"notices are only sent for restrict, suspend or lift, got action {action!r}")
    category = notice_category(str(decision.get("trigger")))
    cfg = policy.data["notices"]
    currency = cfg["currency"]
    reasons = decision.get("reasons")

    balance = _number(account.get("balance"))
    if balance is None:
        balance = _number(_from_reasons(reasons, "balance"))
    overdue = _number(account.get("overdue_days"))
    if overdue is None:
        overdue = _number(_from_reasons(reasons, "overdue_days"))
    new_limit = _number(decision.get("new_credit_limit"))

    if action == "suspend":
        action_taken = (
            "we have temporarily suspended your account, so new purchases, withdrawals and "
            "transfers are blocked until this is resolved"
        )
    elif new_limit is not None:
        action_taken = f"we have reduced the credit limit on your account to {format_money(new_limit, currency)}"
    else:
        action_taken = "we have restricted new spending on your account"

    plan = None
    if category == "overdue" and balance is not None and balance > 0:
        plan = repayment_plan(balance, policy)

    values = _TemplateValues(reasons)
    values |= {
        "account_id": str(account.get("account_id", "")),
        "action_taken": action_taken,
        "new_credit_limit": format_money(new_limit, currency) if new_limit is not None else "unchanged",
        "balance": format_money(balance, currency) if balance is not None else "the amount due",
        "overdue_days": str(int(overdue)) if overdue is not None else "several",
        "repayment_plan": _plan_sentence(plan, currency) if plan else "",
        "support_contact": cfg["support_contact"],
    }
    template = cfg[category]
    return {
        "category": category,
        "action": action,
        "subject": template["subject"].format_map(values),
        # An empty placeholder (no repayment plan) must not leave a gap of blank lines.
        "body": _closed_up(template["body"].format_map(values)),
        "customer_actions": list(template["customer_actions"]),
        "repayment_plan": plan,
    }


# The notice of a restriction or suspension lifted (an analyst reinstated the account or cleared it
# after review, or a sweep lifted it): what changed for the customer, in the same plain words as
# the other notices.
_LIFTED = {
    "subject": "Your account is back to normal",
    "body": """Dear customer,

Good news: {action_taken}.

Thank you for your patience while we checked your account. If you have any questions, \
{support_contact}.
""",
    "customer_actions": [
        "No action is needed: you can use your account as usual",
        "Contact support if anything on your account does not work as expected",
    ],
}


def _lifting_notice(decision: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """The notice of a lifted restriction (``lifted`` restrict) or suspension (``lifted`` suspend)."""
    lifted = decision.get("lifted")
    if lifted not in ("restrict", "suspend"):
        raise ValueError(f"a lifting notice lifts restrict or suspend, got {lifted!r}")
    cfg = policy.data["notices"]
    limit = _number(decision.get("new_credit_limit"))
    money = format_money(limit, cfg["currency"]) if limit is not None else None
    if lifted == "suspend":
        action_taken = (
            "we have lifted the suspension on your account, so you can make purchases, withdrawals and transfers again"
        )
        if money is not None:
            action_taken += f". Your credit limit is {money}"
    elif money is not None:
        action_taken = f"we have restored the credit limit on your account to {money}"
    else:
        action_taken = "we have lifted the restriction on new spending on your account"
    values = {"action_taken": action_taken, "support_contact": cfg["support_contact"]}
    return {
        "category": "lifted",
        "action": "lift",
        "subject": _LIFTED["subject"],
        "body": str(_LIFTED["body"]).format_map(values).strip() + "\n",
        "customer_actions": list(_LIFTED["customer_actions"]),
        "repayment_plan": None,
    }


def _limited(action: Any, status: Any) -> str | None:
    """What the customer lives with: suspend (blocked), restrict (limit cut) or None."""
    if action == "suspend" or status == "suspended":
        return "suspend"
    return "restrict" if action == "restrict" else None


_RANK = {None: 0, "restrict": 1, "suspend": 2}


def change_notice(
    change: Mapping[str, Any],
    policy: Policy,
    *,
    made_by: str,
    at: datetime,
    trigger: str,
    reasons: Any = None,
    account: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The NOTICE_COLUMNS row for one change made outside a sweep (a real-time check applied, an
    analyst's suspend, reinstate or verdict), or None when the customer sees no change.

    change: the change's audit row (account_id, previous_action, new_action, previous_status,
    new_status, new_limit). The rules are the sweep's: a notice when the account goes into restrict
    or suspend, or into suspend from restrict (``build_notice`` with ``trigger`` and ``reasons``);
    and a lifting notice when it leaves both (active again, its limit restored; a sweep's lift
    gets the same one, ``policy._lift_notice_row``). Nothing else (an account already suspended
    suspended again, a review or monitor cleared) writes a notice.
    ``notice_id`` is ``<made_by>:<account_id>``, as a sweep's is ``<sweep_id>:<account_id>``;
    ``sweep_id`` is empty. ``account``: balance and overdue days, for an overdue notice.
    """
    aid = str(change["account_id"])
    before = _limited(change.get("previous_action"), change.get("previous_status"))
    after = _limited(change.get("new_action"), change.get("new_status"))
    decision: dict[str, Any] = {"trigger": trigger, "new_credit_limit": change.get("new_limit"), "reasons": reasons}
    if _RANK[after] > _RANK[before]:
        decision["action"] = after
    elif before is not None and after is None:
        decision.update(action="lift", lifted=before)
    else:
        return None
    notice = build_notice({**(account or {}), "account_id": aid}, decision, policy)
    return notice_row(notice, notice_id=f"{made_by}:{aid}", sweep_id=None, account_id=aid, at=at)


@functools.lru_cache(maxsize=64)
def _actions_text(actions: tuple[str, ...]) -> str:
    """A notice's customer actions as stored JSON text: a few distinct lists (one per category),
    written for each of 45k notices at 1M accounts."""
    return json.dumps(list(actions))


def notice_row(notice: Mapping[str, Any], *, notice_id: str, sweep_id: str | None, account_id: str, at: Any) -> dict:
    """A ``build_notice`` notice as the row the workspace stores (NOTICE_COLUMNS; the customer's
    actions and the repayment plan as JSON text)."""
    row = {
        "notice_id": notice_id,
        "sweep_id": sweep_id,
        "account_id": account_id,
        "created_at": at,
        **{k: notice[k] for k in ("category", "action", "subject", "body")},
        "customer_actions": _actions_text(tuple(notice["customer_actions"])),
        "repayment_plan": json.dumps(notice["repayment_plan"]) if notice["repayment_plan"] else "",
    }
    return {c: row[c] for c in NOTICE_COLUMNS}
