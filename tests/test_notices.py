"""Tests of customer notices and repayment plans."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from fraudgraph.decisions.notices import build_notice, change_notice, notice_category, repayment_plan
from fraudgraph.decisions.policy import Policy, load_policy
from fraudgraph.model.frames import NOTICE_COLUMNS


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.default()


def ring_decision(action: str = "suspend") -> dict:
    """A fraud-ring decision whose reasons name other customers, identifiers, codes and scores."""
    return {
        "action": action,
        "trigger": "fraud_ring",
        "score": 0.8731,
        "ring_id": "R-000042",
        "new_credit_limit": 0.0 if action == "suspend" else 750.0,
        "reasons": [
            {
                "code": "SHARED_DEVICE",
                "text": "6 accounts use device dev-9f8e7d (ACC-OTHER-1, ACC-OTHER-2)",
                "evidence": {
                    "kind": "device",
                    "key": "dev-9f8e7d",
                    "n_accounts": 6,
                    "accounts": ["ACC-OTHER-1", "ACC-OTHER-2"],
                },
            },
            {
                "code": "SHARED_CARD",
                "text": "3 accounts use card 4111000011112222",
                "evidence": {"kind": "card", "key": "4111000011112222", "n_accounts": 3},
            },
            {
                "code": "KNOWN_FRAUD_IN_RING",
                "text": "ACC-OTHER-1 is confirmed fraud",
                "evidence": {"account_id": "ACC-OTHER-1"},
            },
            {
                "code": "SCORE_SUSPEND",
                "text": "Risk score 0.87 is at or above the suspend threshold 0.85",
                "evidence": {"score": 0.8731},
            },
        ],
    }


def notice_text(notice: dict) -> str:
    return "\n".join([notice["subject"], notice["body"], *notice["customer_actions"]])


@pytest.mark.parametrize("action", ["restrict", "suspend"])
def test_fraud_ring_notice_reveals_no_scores_codes_or_other_customers(policy, action):
    notice = build_notice({"account_id": "ACC-ME"}, ring_decision(action), policy)
    text = notice_text(notice)
    assert notice["category"] == "fraud_ring" and notice["action"] == action
    for secret in (
        "ACC-OTHER-1",
        "ACC-OTHER-2",
        "dev-9f8e7d",
        "4111000011112222",
        "R-000042",
        "0.87",
        "0.85",
    ):
        assert secret not in text
    assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", text), "an internal reason code leaked into the notice"
    assert "score" not in text.lower()
    assert "shares a device or payment details with accounts we are investigating" in notice["body"]
    assert any("Verify your identity" in a for a in notice["customer_actions"])
    assert "0800 123 4567" in notice["body"]
    assert notice["repayment_plan"] is None


def test_restrict_notice_states_the_new_limit_and_suspend_says_suspended(policy):
    restrict = build_notice({"account_id": "A"}, ring_decision("restrict"), policy)
    assert "reduced the credit limit on your account to $750.00" in restrict["body"]
    suspend = build_notice({"account_id": "A"}, ring_decision("suspend"), policy)
    assert "temporarily suspended your account" in suspend["body"]


def test_overdue_notice_proposes_a_repayment_plan(policy):
    decision = {
        "action": "restrict",
        "trigger": "overdue",
        "new_credit_limit": 500.0,
        "reasons": [
            {
                "code": "OVERDUE_30",
                "text": "Payment is 45 days overdue (more than 30)",
                "evidence": {"overdue_days": 45, "balance": 1234.56},
            }
        ],
    }
    notice = build_notice({"account_id": "A"}, decision, policy)
    assert notice["category"] == "overdue"
    assert notice["subject"] == "Your payment is 45 days overdue"
    assert "$1,234.56 outstanding" in notice["body"]
    plan = notice["repayment_plan"]
    assert plan["months"] == 12 and sum(Decimal(str(a)) for a in plan["amounts"]) == Decimal("1234.56")
    assert "12 monthly payments of $102.88" in notice["body"]
    assert "OVERDUE" not in notice_text(notice)
    # the account row, when given, wins over the reason evidence
    notice = build_notice({"account_id": "A", "balance": 90.0, "overdue_days": 31}, decision, policy)
    assert notice["repayment_plan"]["months"] == 3 and "31 days" in notice["subject"]


def test_credit_risk_notice_for_account_risk_and_utilization(policy):
    assert notice_category("account_risk") == notice_category("utilization") == "credit_risk"
    notice = build_notice({"account_id": "A"}, {"action": "suspend", "trigger": "account_risk", "reasons": []}, policy)
    assert notice["subject"] == "Action needed: we have limited your account"
    assert "unusual activity" in notice["body"]


def test_notice_refuses_actions_that_send_no_notice(policy):
    with pytest.raises(ValueError, match="only sent for restrict, suspend or lift, got action 'review'"):
        build_notice({"account_id": "A"}, {"action": "review", "trigger": "fraud_ring"}, policy)


def test_custom_templates_are_used(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[notices]\ncurrency = "EUR "\n\n[notices.credit_risk]\nsubject = "Account {account_id}"\nbody = "Now {new_credit_limit}."\n'
    )
    notice = build_notice(
        {"account_id": "X-1"},
        {"action": "restrict", "trigger": "utilization", "new_credit_limit": 200.0},
        load_policy(path),
    )
    assert (notice["subject"], notice["body"]) == ("Account X-1", "Now EUR 200.00.\n")


def test_shared_details_are_worked_out_only_for_a_template_that_names_them(tmp_path, monkeypatch):
    """Any template may name {shared_details} (a custom credit-risk notice here); one that does not
    (the default overdue notice) is written without walking the reasons' evidence for it."""
    from fraudgraph.decisions import notices

    walks = []
    real = notices._shared_details
    monkeypatch.setattr(notices, "_shared_details", lambda reasons: walks.append(1) or real(reasons))
    path = tmp_path / "p.toml"
    path.write_text('[notices.credit_risk]\nsubject = "Account {account_id}"\nbody = "You share {shared_details}."\n')
    reasons = ring_decision()["reasons"]
    custom = build_notice(
        {"account_id": "X-1"},
        {"action": "restrict", "trigger": "utilization", "new_credit_limit": 200.0, "reasons": reasons},
        load_policy(path),
    )
    assert custom["body"] == f"You share {real(reasons)}.\n" and "device" in custom["body"]
    assert len(walks) == 1
    overdue = build_notice(
        {"account_id": "X-2", "balance": 300.0, "overdue_days": 40},
        {"action": "restrict", "trigger": "overdue", "new_credit_limit": 0.0, "reasons": reasons},
        Policy.default(),
    )
    assert "300.00" in overdue["body"]  # written all the same
    assert len(walks) == 1  # the overdue notice did not ask
    ring = build_notice({"account_id": "X-3"}, ring_decision(), Policy.default())
    assert len(walks) == 2 and real(ring_decision()["reasons"]) in ring["body"]


@pytest.mark.parametrize(
    "balance, months, first, regular",
    [
        (1234.56, 12, 102.88, 102.88),
        (100.0, 3, 33.34, 33.33),
        (149.99, 3, 50.0, 49.99),
        (150.0, 6, 25.0, 25.0),
        (20.0, 1, 20.0, 20.0),
        (0.01, 1, 0.01, 0.01),
    ],
)
def test_repayment_plan_picks_the_most_instalments_above_the_minimum(policy, balance, months, first, regular):
    plan = repayment_plan(balance, policy)
    assert (plan["months"], plan["amounts"][0], plan["instalment"]) == (months, first, regular)
    assert len(plan["amounts"]) == months
    assert plan["frequency"] == "monthly"


def test_repayment_plan_respects_max_months(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[repayment]\ninstalment_options = [3, 6, 12]\nmax_months = 6\nminimum_instalment = 10.0\n")
    plan = repayment_plan(10_000.0, load_policy(path))
    assert plan["months"] == 6
    assert [o["months"] for o in plan["options"]] == [3, 6]


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), float("inf"), None])
def test_repayment_plan_needs_a_positive_balance(policy, bad):
    with pytest.raises(ValueError, match="positive balance"):
        repayment_plan(bad, policy)


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250000"), places=2))
def test_repayment_plan_sums_to_the_balance_exactly(balance):
    plan = repayment_plan(float(balance), Policy.default())
    amounts = [Decimal(str(a)) for a in plan["amounts"]]
    assert sum(amounts) == balance
    assert max(amounts) - min(amounts) <= Decimal("0.01")
    assert plan["months"] == 1 or min(amounts) >= Decimal("25.00")


def test_repayment_plan_accepts_numpy_numbers(policy):
    import numpy as np

    assert repayment_plan(np.float64(300.0), policy)["months"] == 12
    assert repayment_plan(np.int64(300), policy)["total"] == 300.0


def _change(before: tuple[str, str], after: tuple[str, str], limit=0.0) -> dict:
    """The audit row of a change outside a sweep: (action, status) before and after."""
    return {
        "account_id": "ACC-ME",
        "previous_action": before[0],
        "previous_status": before[1],
        "new_action": after[0],
        "new_status": after[1],
        "new_limit": limit,
    }


AT = datetime(2026, 12, 1, 9, 30, 0, 250000)


@pytest.mark.parametrize(
    ("before", "after", "action"),
    [
        (("none", "active"), ("suspend", "suspended"), "suspend"),
        (("monitor", "active"), ("restrict", "active"), "restrict"),
        (("restrict", "active"), ("suspend", "suspended"), "suspend"),
        (("suspend", "suspended"), ("none", "active"), "lift"),
        (("restrict", "active"), ("none", "active"), "lift"),
        (("none", "suspended"), ("none", "active"), "lift"),  # the source's suspension, lifted by hand
    ],
)
def test_a_change_the_customer_lives_with_gets_a_notice(policy, before, after, action):
    row = change_notice(_change(before, after, 1500.0), policy, made_by="review-3", at=AT, trigger="manual")
    assert row is not None and list(row) == NOTICE_COLUMNS
    assert row["action"] == action and row["notice_id"] == "review-3:ACC-ME" and row["sweep_id"] is None
    assert row["created_at"] == AT and json.loads(row["customer_actions"])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("none", "active"), ("review", "active")),
        (("review", "active"), ("none", "active")),
        (("monitor", "active"), ("none", "active")),
        (("suspend", "suspended"), ("suspend", "suspended")),  # confirmed fraud on a suspended account
        (("suspend", "suspended"), ("restrict", "active")),  # lowered but still limited: as a sweep, none
        (("none", "active"), ("none", "active")),
    ],
)
def test_a_change_the_customer_does_not_see_gets_no_notice(policy, before, after):
    assert change_notice(_change(before, after), policy, made_by="check-1", at=AT, trigger="fraud_ring") is None


def test_the_lifting_notice_says_what_was_lifted_and_the_limit_restored(policy):
    suspension = change_notice(
        _change(("suspend", "suspended"), ("none", "active"), 9300.0), policy, made_by="x", at=AT, trigger="manual"
    )
    assert suspension is not None and suspension["category"] == "lifted"
    assert suspension["subject"] == "Your account is back to normal"
    assert "we have lifted the suspension on your account, so you can make purchases" in suspension["body"]
    assert "Your credit limit is $9,300.00." in suspension["body"]
    restriction = build_notice({"account_id": "ACC-ME"}, {"action": "lift", "lifted": "restrict"}, policy)
    assert "we have lifted the restriction on new spending on your account" in restriction["body"]
    assert restriction["repayment_plan"] is None and "\n\n\n" not in restriction["body"]
    restored = build_notice({}, {"action": "lift", "lifted": "restrict", "new_credit_limit": 2500}, policy)
    assert "we have restored the credit limit on your account to $2,500.00" in restored["body"]
    with pytest.raises(ValueError, match="lifts restrict or suspend"):
        build_notice({}, {"action": "lift", "lifted": "monitor"}, policy)


def test_a_notice_outside_a_sweep_reveals_only_the_kind_of_detail_shared(policy):
    reasons = ring_decision()["reasons"]
    row = change_notice(
        _change(("none", "active"), ("suspend", "suspended")),
        policy,
        made_by="check-1",
        at=AT,
        trigger="fraud_ring",
        reasons=reasons,
    )
    assert row is not None and row["category"] == "fraud_ring"
    for secret in ("ACC-OTHER-1", "dev-9f8e7d", "4111000011112222", "R-000042", "0.87"):
        assert secret not in row["body"] + row["subject"]
    assert "shares a device or payment details with accounts we are investigating" in row["body"]
