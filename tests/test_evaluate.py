"""evaluate_quality() computes known numbers on a toy truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fraudgraph.app.quality import evaluate_quality, evaluation_table, read_truth
from fraudgraph.errors import FraudGraphError


@pytest.fixture
def toy():
    # Planted ring T1 (bust_out: f1-f4), T2 (mule_network: m1-m2); innocents in a household and elsewhere.
    truth = pd.DataFrame(
        {
            "account_id": ["f1", "f2", "f3", "f4", "m1", "m2", "h1", "h2", "x1", "x2"],
            "is_fraud": ["1", "1", "1", "1", "1", "1", "0", "0", "0", "0"],
            "ring_id": ["T1"] * 4 + ["T2"] * 2 + [""] * 4,
            "ring_kind": ["bust_out"] * 4 + ["mule_network"] * 2 + [""] * 4,
            "group_id": [""] * 6 + ["hh-1", "hh-1", "", ""],
            "group_kind": [""] * 6 + ["household", "household", "", "late_payer"],
        }
    )
    scores = pd.DataFrame({"account_id": truth["account_id"], "score": 0.0})
    actions = pd.Series(
        ["suspend", "suspend", "review", "none", "monitor", "none", "review", "none", "none", "none"],
        index=truth["account_id"],
    )
    members = pd.DataFrame(
        {"ring_id": ["R-1"] * 4 + ["R-2"] * 3, "account_id": ["f1", "f2", "f3", "f4", "h1", "h2", "m1"]}
    )
    return truth, scores, actions, members


def test_account_precision_and_recall(toy):
    r = evaluate_quality(*toy)
    review = r["accounts"]["review_or_worse"]
    assert (review["tp"], review["fp"], review["fn"]) == (3, 1, 3)
    assert review["precision"] == pytest.approx(0.75) and review["recall"] == pytest.approx(0.5)
    assert review["f1"] == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    suspend = r["accounts"]["suspend"]
    assert (suspend["precision"], suspend["recall"]) == (1.0, pytest.approx(2 / 6))


def test_ring_level_and_per_kind(toy):
    r = evaluate_quality(*toy)
    # R-1 is flagged (3 of 4 review or worse) and all fraud: T1 found, R-1 correct. R-2 is not flagged.
    assert r["rings"]["n_planted"] == 2 and r["rings"]["n_found"] == 1 and r["rings"]["recall"] == 0.5
    assert r["rings"]["n_flagged"] == 1 and r["rings"]["precision"] == 1.0
    assert r["ring_kinds"]["bust_out"]["account_recall"] == pytest.approx(0.75)
    assert r["ring_kinds"]["bust_out"]["ring_recall"] == 1.0
    assert r["ring_kinds"]["mule_network"]["account_recall"] == 0.0


def test_false_flags_per_innocent_group(toy):
    r = evaluate_quality(*toy)
    assert r["false_flags"]["household"] == {
        "n_accounts": 2,
        "flagged": 1,
        "rate": 0.5,
        "suspended": 0,
        "suspend_rate": 0.0,
    }
    assert r["false_flags"]["late_payer"]["rate"] == 0.0
    assert r["false_flags"]["ungrouped"]["n_accounts"] == 1


def test_labelled_accounts_are_reported_apart(toy):
    r = evaluate_quality(*toy, labelled_accounts=["f1", "f2"])
    assert r["unlabelled"]["n_accounts"] == 8 and r["unlabelled"]["n_fraud"] == 4
    assert r["unlabelled"]["review_or_worse"]["tp"] == 1


def test_actions_may_come_as_a_decisions_frame(toy):
    truth, scores, actions, members = toy
    decisions = pd.DataFrame({"account_id": actions.index, "action": actions.to_numpy()})
    assert evaluate_quality(truth, scores, decisions, members) == evaluate_quality(*toy)


def test_nothing_flagged_gives_nan_precision_not_a_crash(toy):
    truth, scores, actions, members = toy
    r = evaluate_quality(truth, scores, pd.Series("none", index=actions.index), members)
    assert math.isnan(r["accounts"]["review_or_worse"]["precision"])
    assert r["accounts"]["review_or_worse"]["recall"] == 0.0


def test_bad_truth_is_rejected_with_the_reason(toy, tmp_path):
    truth, scores, actions, members = toy
    with pytest.raises(ValueError, match="is_fraud"):
        evaluate_quality(truth.drop(columns=["is_fraud"]), scores, actions, members)
    with pytest.raises(ValueError, match="none is among"):
        evaluate_quality(truth.assign(account_id="zz" + truth["account_id"]), scores, actions, members)
    path = tmp_path / "truth.csv"
    path.write_text("account_id,label\na,1\n")
    with pytest.raises(FraudGraphError, match="is_fraud"):
        read_truth(path)


def test_table_flattens_every_metric(toy):
    table = evaluation_table(evaluate_quality(*toy))
    sections = {"accounts", "unlabelled", "lone", "rings", "ring_kind", "false_flags", "closed_excluded"}
    assert sections == set(table["section"])
    row = table[(table["section"] == "accounts") & (table["name"] == "review_or_worse") & (table["metric"] == "recall")]
    assert row["value"].iloc[0] == 0.5


def test_credit_actions_in_decisions_are_not_fraud_flags(toy):
    truth, scores, actions, members = toy
    decisions = pd.DataFrame({"account_id": actions.index, "action": actions.to_numpy(), "trigger": "fraud_ring"})
    decisions.loc[decisions["account_id"] == "x2", ["action", "trigger"]] = ["restrict", "overdue"]
    assert evaluate_quality(truth, scores, decisions, members)["false_flags"]["late_payer"]["flagged"] == 0
    assert (
        evaluate_quality(truth, scores, decisions, members, triggers=None)["false_flags"]["late_payer"]["flagged"] == 1
    )


@pytest.fixture
def with_lone(toy):
    # Two lone fraudsters (no ring): l1 flagged review, l2 not flagged.
    truth, scores, actions, members = toy
    lone = pd.DataFrame(
        {
            "account_id": ["l1", "l2"],
            "is_fraud": ["1", "1"],
            "ring_id": ["", ""],
            "ring_kind": ["lone", "lone"],
            "group_id": ["", ""],
            "group_kind": ["", ""],
        }
    )
    truth = pd.concat([truth, lone], ignore_index=True)
    scores = pd.DataFrame({"account_id": truth["account_id"], "score": 0.0})
    actions = pd.concat([actions, pd.Series(["review", "none"], index=["l1", "l2"])])
    return truth, scores, actions, members


def test_recall_is_over_ring_fraud_and_lone_fraud_is_reported_apart(with_lone):
    r = evaluate_quality(*with_lone)
    review = r["accounts"]["review_or_worse"]
    # Ring fraud f1-f4, m1-m2: 3 of 6 flagged. The flagged lone fraudster is a true positive.
    assert r["accounts"]["recall_over"] == "ring_fraud"
    assert (r["accounts"]["n_fraud"], r["accounts"]["n_ring_fraud"], r["accounts"]["n_lone"]) == (8, 6, 2)
    assert review["recall"] == pytest.approx(0.5) and (review["ring_tp"], review["fn"]) == (3, 3)
    assert review["precision"] == pytest.approx(4 / 5) and (review["tp"], review["fp"]) == (4, 1)
    assert review["all_fraud_recall"] == pytest.approx(4 / 8)
    assert r["lone"] == {"n_accounts": 2, "flagged": 1, "suspended": 0}
    assert "lone" not in r["ring_kinds"]


def test_truth_without_rings_makes_recall_over_all_fraud(with_lone):
    truth, scores, actions, members = with_lone
    r = evaluate_quality(truth.drop(columns=["ring_id", "ring_kind"]), scores, actions, members)
    review = r["accounts"]["review_or_worse"]
    assert r["accounts"]["recall_over"] == "all_fraud" and r["lone"]["n_accounts"] == 0
    assert review["recall"] == pytest.approx(4 / 8) == review["all_fraud_recall"]


def test_early_stage_rings_get_their_own_recall():
    """Rings caught before any member is overdue are reported apart (truth column early_stage)."""
    truth = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e"],
            "is_fraud": [True, True, True, True, False],
            "ring_id": ["T1", "T1", "T2", "T2", ""],
            "early_stage": [True, True, False, False, False],
        }
    )
    scores = pd.DataFrame({"account_id": list("abcde")})
    actions = pd.Series(["review", "none", "suspend", "suspend", "none"], index=list("abcde"))
    members = pd.DataFrame({"ring_id": ["R-1", "R-1"], "account_id": ["c", "d"]})
    result = evaluate_quality(truth, scores, actions, members)
    assert result["early_stage"] == {"n_accounts": 2, "flagged": 1, "recall": 0.5}
    table = evaluation_table(result)
    assert ("early_stage", "ring_fraud", "recall", 0.5) in set(map(tuple, table.itertuples(index=False)))
    assert evaluate_quality(truth.drop(columns="early_stage"), scores, actions, members)["early_stage"] == {}


def test_closed_accounts_are_left_out_and_early_stage_is_read_from_arrears(toy):
    """The policy never acts on a closed account, so it counts neither as a miss nor as a find;
    without an early_stage column, a planted ring nobody in which is late is early-stage."""
    truth, scores, actions, members = toy
    truth = truth.drop(columns=[c for c in ("early_stage",) if c in truth])
    ids = list(scores["account_id"])
    accounts = pd.DataFrame({"account_id": ids, "status": "active", "overdue_days": 0})
    base = evaluate_quality(truth, scores, actions, members, accounts=accounts)
    assert base["closed_excluded"] == 0
    assert base["early_stage"]["n_accounts"] == base["accounts"]["n_ring_fraud"]
    missed = [a for a in ids if a in set(truth.loc[truth["is_fraud"].astype(bool), "account_id"])]
    missed = [a for a in missed if actions.get(a, "none") not in ("review", "restrict", "suspend")]
    assert missed, "the toy world has a missed fraud account"
    closed = accounts.assign(status=np.where(accounts["account_id"].isin(missed[:1]), "closed", "active"))
    result = evaluate_quality(truth, scores, actions, members, accounts=closed)
    assert result["closed_excluded"] == 1
    assert result["accounts"]["n_fraud"] == base["accounts"]["n_fraud"] - 1
    assert result["accounts"]["review_or_worse"]["recall"] > base["accounts"]["review_or_worse"]["recall"]
    late = accounts.assign(overdue_days=np.where(accounts["account_id"].isin(missed[:1]), 30, 0))
    assert (
        evaluate_quality(truth, scores, actions, members, accounts=late)["early_stage"]["n_accounts"]
        < (base["early_stage"]["n_accounts"])
    )
