"""Notices written outside a sweep (``apply_manual(notices=...)``) on every backend: appended with
the state and audit rows in one transaction, read back in order, and ``since_sweep`` includes those
written after the sweep finished; the check and analyst paths write the same notices as the
reference (SQLite) does."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from workspace_data import hand_made_dataset, record, swept_with

from fraudgraph.app import analyst
from fraudgraph.app.check import Checker
from fraudgraph.model.frames import AUDIT_COLUMNS, NOTICE_COLUMNS, STATE_COLUMNS


def _manual(account_id: str, notice_id: str, created_at: str):
    """A suspension by hand of ``account_id``: its state, audit and notice rows."""
    state = pd.DataFrame(
        [
            {
                "account_id": account_id,
                "action": "suspend",
                "trigger": "manual",
                "status": "suspended",
                "credit_limit": 0.0,
                "original_credit_limit": 500.0,
                "manual": True,
                "evidence": None,
                "updated_at": created_at[:19],
                "sweep_id": None,
            }
        ],
        columns=STATE_COLUMNS,
    )
    audit = pd.DataFrame(
        [
            {
                "at": created_at[:19],
                "sweep_id": None,
                "actor": "erin",
                "account_id": account_id,
                "event": "manual_suspend",
                "previous_action": "none",
                "new_action": "suspend",
                "previous_status": "active",
                "new_status": "suspended",
                "previous_limit": 500.0,
                "new_limit": 0.0,
                "score": None,
                "reasons": "[]",
                "policy_hash": None,
                "note": "stolen identity",
            }
        ],
        columns=AUDIT_COLUMNS,
    )
    notice = {
        "notice_id": notice_id,
        "sweep_id": None,
        "account_id": account_id,
        "created_at": pd.Timestamp(created_at),
        "category": "credit_risk",
        "action": "suspend",
        "subject": "Action needed: we have limited your account",
        "body": "Dear customer,\n\nwe have temporarily suspended your account.\n",
        "customer_actions": json.dumps(["Verify your identity in the app or at a branch"]),
        "repayment_plan": "",
    }
    notices = pd.DataFrame([notice], columns=NOTICE_COLUMNS)
    notices["created_at"] = notices["created_at"].astype("datetime64[ns]")
    return state, audit, notices


def test_apply_manual_appends_notices_read_back_in_order_and_since_a_sweep(workspace):
    ws = workspace
    ws.load(hand_made_dataset())
    ws.save_sweep(record())  # finished 2026-01-01T00:00:01, one notice
    state, audit, notices = _manual("A4", "suspend-1:A4", "2026-01-01T00:00:01.500000")
    ws.apply_manual(state=state, audit=audit, notices=notices)
    ws.save_sweep(record("S-000002"))  # finished 2026-01-01T00:00:02
    ws.apply_manual(state=state.iloc[0:0], audit=audit.iloc[0:0], notices=None)  # no notice: nothing
    got = ws.notices()
    assert got["notice_id"].tolist() == ["S-000001-007", "suspend-1:A4", "S-000002-007"]
    mine = got.iloc[1].to_dict()
    assert mine["sweep_id"] is None or pd.isna(mine["sweep_id"])
    assert pd.Timestamp(mine["created_at"]) == pd.Timestamp("2026-01-01T00:00:01.5")
    for c in ("account_id", "category", "action", "subject", "body", "customer_actions"):
        assert mine[c] == notices.iloc[0][c], c
    assert ws.account_state(["A4"])["action"].tolist() == ["suspend"]
    assert ws.audit("A4")["event"].tolist() == ["manual_suspend"]
    # Since a sweep: later sweeps' notices and those written outside a sweep after it finished.
    assert ws.notices(since_sweep="S-000001")["notice_id"].tolist() == ["suspend-1:A4", "S-000002-007"]
    assert ws.notices(since_sweep="S-000002")["notice_id"].tolist() == []


def test_a_notice_that_cannot_be_written_leaves_state_and_audit_unwritten(workspace):
    ws = workspace
    ws.load(hand_made_dataset())
    ws.save_sweep(record())
    state, audit, notices = _manual("A4", "S-000001-007", "2026-01-01T00:00:03")  # a notice id already used
    with pytest.raises(Exception):  # each backend raises its own constraint error
        ws.apply_manual(state=state, audit=audit, notices=notices)
    assert ws.account_state(["A4"]).empty and ws.audit("A4").empty
    assert ws.notices()["notice_id"].tolist() == ["S-000001-007"]


def _choose(ref) -> tuple[dict, list[str]]:
    """On the swept reference: an event that joins a suspended ring by a strong identifier, an
    account nothing was done to, one a sweep restricted or suspended, one it only monitors."""
    state = ref.account_state()
    limited = state[state["action"].isin(["restrict", "suspend"])].sort_values("account_id")
    watched = state[state["action"].isin(["monitor", "review"])].sort_values("account_id")
    decisions = ref.table("decisions").sort_values("account_id")
    member = decisions[(decisions["action"] == "suspend") & decisions["ring_id"].notna()]["account_id"].iloc[0]
    links = ref.links([member])
    strong = links[links["kind"].isin(["card", "device", "bank_account", "national_id"]) & links["key"].notna()]
    hubs = set(zip(ref.table("hubs")["kind"], ref.table("hubs")["key"]))
    strong = strong[[(k, v) not in hubs for k, v in zip(strong["kind"], strong["key"])]]
    link = strong.sort_values(["kind", "value"]).iloc[0]
    quiet = sorted(set(decisions[decisions["action"] == "none"]["account_id"]) - set(state["account_id"]))[0]
    event = {
        "account": {"account_id": "NEW-1", "created_at": "2026-11-01T10:00:00", "credit_limit": 1500},
        "links": [{"kind": link["kind"], "value": link["value"]}],
    }
    return event, ["NEW-1", quiet, limited["account_id"].iloc[0], watched["account_id"].iloc[0]]


def _act(ws, event: dict, accounts: list[str]) -> None:
    """The check applied, a suspension and reinstatement by hand, a verdict that lifts a sweep's
    restriction or suspension and one that changes nothing the customer sees."""
    _, quiet, lifted, unchanged = accounts
    Checker(ws).check(json.dumps(event), apply=True)
    analyst.suspend(ws, quiet, reason="customer reported stolen identity", actor="erin")
    analyst.reinstate(ws, quiet, reason="identity restored", actor="erin")
    analyst.review(ws, lifted, "dismiss", note="ID verified in branch", actor="erin")
    analyst.review(ws, unchanged, "dismiss", note="known customer", actor="erin")


def test_check_and_analyst_notices_are_those_of_the_reference(store_maker, reference, small_world):
    ws = swept_with(store_maker.open(store_maker.new_store()), small_world)
    ref = swept_with(reference(), small_world)
    swept = len(ref.notices())
    assert len(ws.notices()) == swept
    event, accounts = _choose(ref)
    for w in (ws, ref):
        _act(w, event, accounts)
    mine, theirs = (w.notices().iloc[swept:].drop(columns="created_at").reset_index(drop=True) for w in (ws, ref))
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)
    new, quiet, lifted, _ = accounts
    assert [(r["account_id"], r["action"]) for r in theirs.to_dict("records")] == [
        (new, "suspend"),
        (quiet, "suspend"),
        (quiet, "lift"),
        (lifted, "lift"),
    ]
    assert theirs["notice_id"].tolist()[:3] == [f"check-1:{new}", f"suspend-1:{quiet}", f"reinstate-2:{quiet}"]
