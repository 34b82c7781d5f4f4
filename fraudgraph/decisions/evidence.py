"""Evidence and money as people read them: shared by the policy (which identifiers tie an account
to its ring) and the notices (what a customer is told), so neither imports the other for it."""

from __future__ import annotations

from typing import Any

_MONEY = "{:,.2f}"


def evidence_items(reason: Any) -> list[dict]:
    """The evidence dicts of a reason: the evidence itself, the items of an evidence list, and the
    items of list-valued evidence fields (the scorer's SHARES_WITH_RING lists ``identifiers``)."""
    evidence = reason.get("evidence") if isinstance(reason, dict) else None
    if isinstance(evidence, list):
        return [e for e in evidence if isinstance(e, dict)]
    if not isinstance(evidence, dict):
        return []
    items = [evidence]
    for value in evidence.values():
        if isinstance(value, list):
            items += [e for e in value if isinstance(e, dict)]
    return items


def format_money(amount: float, currency: str) -> str:
    """An amount as customers and analysts read it: currency sign, thousands separators, cents."""
    return f"{currency}{_MONEY.format(amount)}"
