"""The one rule for what is in force: an applied state (an analyst's verdict, a sweep's applied
action) wins over the latest decision; accounts without one keep the decision's value."""

from __future__ import annotations

import pandas as pd

from fraudgraph.decisions.verdicts import in_force


def test_the_applied_state_wins_where_there_is_one_and_order_is_kept():
    decisions = pd.DataFrame(
        {"account_id": ["c", "a", "b"], "action": ["suspend", "review", "none"], "trigger": ["fraud_ring"] * 3}
    )
    state = pd.DataFrame({"account_id": ["a", "c"], "action": ["none", "suspend"], "trigger": ["manual", "manual"]})
    out = in_force(decisions, state, ("action", "trigger"))
    assert out["account_id"].tolist() == ["c", "a", "b"]
    assert out["action"].tolist() == ["suspend", "none", "none"]  # a's dismissal holds over "review"
    assert out["trigger"].tolist() == ["manual", "manual", "fraud_ring"]
    assert list(out.columns) == list(decisions.columns)


def test_no_state_leaves_the_frame_as_it_is():
    decisions = pd.DataFrame({"account_id": ["a"], "action": ["review"]})
    empty = pd.DataFrame(columns=["account_id", "action"])
    assert in_force(decisions, empty).equals(decisions)
