"""Tests of the risk policy: the policy file, evaluate() rules, credit limits and plan_changes()."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudgraph.decisions.policy import (
    AUDIT_COLUMNS,
    DEFAULT_POLICY_PATH,
    NOTICE_COLUMNS,
    STATE_COLUMNS,
    Policy,
    evaluate,
    load_policy,
    plan_changes,
    restricted_limit,
    suspended_limit,
)
from fraudgraph.errors import PolicyError
from fraudgraph.model.frames import DECISION_COLUMNS

REPO = Path(__file__).resolve().parents[1]
SWEEP_AT = datetime(2025, 3, 1, 12, 0)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def shared(kind: str, key: str, code: str | None = None) -> dict:
    return {
        "code": code or f"SHARED_{kind.upper()}",
        "text": f"4 accounts use {kind} {key}",
        "evidence": {"kind": kind, "key": key, "n_accounts": 4},
    }


def world(specs: list[dict], rings: list[dict] | None = None):
    """accounts, account_scores, rings frames from short per-account specs."""
    accounts = pd.DataFrame(
        {
            "account_id": [s["id"] for s in specs],
            "created_at": pd.Timestamp("2024-06-01"),
            "credit_limit": [float(s.get("limit", 1000.0)) for s in specs],
            "balance": [float(s.get("balance", 100.0)) for s in specs],
            "overdue_days": [int(s.get("overdue", 0)) for s in specs],
            "status": [s.get("status", "active") for s in specs],
            "label": [s.get("label") for s in specs],
            "properties": "{}",
        }
    )
    scores = pd.DataFrame(
        {
            "account_id": [s["id"] for s in specs],
            "score": [float(s.get("score", 0.0)) for s in specs],
            "ring_id": [s.get("ring") for s in specs],
            "reasons": [list(s.get("reasons", [])) for s in specs],
        }
    )
    ring_frame = pd.DataFrame(
        [
            {
                "ring_id": r["ring_id"],
                "size": r["size"],
                "score": r.get("score", 0.6),
                "exposure": 0.0,
                "features": {},
                "reasons": r.get("reasons", []),
            }
            for r in rings or []
        ],
        columns=["ring_id", "size", "score", "exposure", "features", "reasons"],
    )
    return accounts, scores, ring_frame


def decide(specs, rings=None, policy=None, **kwargs) -> pd.DataFrame:
    accounts, scores, ring_frame = world(specs, rings)
    return evaluate(accounts, scores, ring_frame, policy or Policy.default(), **kwargs).set_index("account_id")


def codes(reasons: list[dict]) -> list[str]:
    return [r["code"] for r in reasons]


def policy_from(tmp_path: Path, text: str, name: str = "policy.toml") -> Policy:
    path = tmp_path / name
    path.write_text(text)
    return load_policy(path)


def empty_state() -> pd.DataFrame:
    return pd.DataFrame(columns=STATE_COLUMNS[:-2])


def apply(current: pd.DataFrame, changes) -> pd.DataFrame:
    """Upsert a plan's state rows into the current state, as the workspace does."""
    rows = changes.state[STATE_COLUMNS[:-2]]
    kept = current[~current["account_id"].isin(rows["account_id"])]
    return pd.concat([kept, rows], ignore_index=True) if len(kept) else rows.reset_index(drop=True)


@pytest.fixture(scope="module")
def default_policy() -> Policy:
    return Policy.default()


# ------------------------------------------------------------------------------------------
# the policy file
# ------------------------------------------------------------------------------------------


def test_example_policy_is_the_packaged_default():
    assert (REPO / "examples" / "policy.toml").read_bytes() == DEFAULT_POLICY_PATH.read_bytes()


def test_default_policy_loads_with_documented_tiers(default_policy):
    assert default_policy.tier_thresholds("tiers") == [
        ("monitor", 0.3),
        ("review", 0.5),
        ("restrict", 0.6),
        ("suspend", 0.7),
    ]
    assert default_policy.tier_thresholds("overdue") == [("restrict", 30), ("suspend", 90)]
    assert len(default_policy.hash) == 12
    assert load_policy(REPO / "examples" / "policy.toml").hash == default_policy.hash


def test_partial_policy_takes_defaults_and_changes_hash(tmp_path, default_policy):
    policy = policy_from(tmp_path, "[tiers]\nsuspend = false\n\n[restrict]\nlimit_factor = 0.25\n")
    assert policy.data["tiers"]["suspend"] is None
    assert policy.data["tiers"]["review"] == 0.5  # from the default
    assert policy.data["restrict"]["limit_factor"] == 0.25
    assert policy.hash != default_policy.hash
    assert (
        policy_from(tmp_path, "[tiers]\nsuspend = false\n\n[restrict]\nlimit_factor = 0.25\n", "b.toml").hash
        == policy.hash
    )


def test_unknown_nested_key_names_key_and_line(tmp_path):
    text = "version = 1\n\n[tiers]\nmonitor = 0.3\n\n[rings]\nmin_size = 3\nmin_sise = 4\n"
    with pytest.raises(PolicyError, match=r"policy\.toml:8: rings\.min_sise: unknown key 'min_sise'"):
        policy_from(tmp_path, text)


def test_unknown_top_level_key_names_line(tmp_path):
    with pytest.raises(
        PolicyError, match=r"policy\.toml:2: colour: unknown key 'colour' \(expected one of: confirmed_fraud"
    ):
        policy_from(tmp_path, "version = 1\ncolour = 'red'\n\n[tiers]\nmonitor = 0.3\n")


def test_unknown_key_inside_inline_identifier_exemption(tmp_path):
    text = '[exemptions]\naccounts = ["A1"]\nidentifiers = [{ kind = "card", value = "4111", colour = "x" }]\n'
    with pytest.raises(PolicyError, match=r"policy\.toml:3: exemptions\.identifiers\[0\]\.colour: unknown key"):
        policy_from(tmp_path, text)


def test_unknown_key_in_notice_template_after_multiline_body(tmp_path):
    text = '[notices.overdue]\nbody = """Dear customer,\nsubject = not a key\n"""\nsubjct = "typo"\n'
    with pytest.raises(PolicyError, match=r"policy\.toml:5: notices\.overdue\.subjct: unknown key"):
        policy_from(tmp_path, text)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[tiers]\nreview = 1.5\n",
            r"policy\.toml:2: tiers\.review: expected a number in \[0, 1\] or false, got 1\.5",
        ),
        (
            "[tiers]\nreview = 'high'\n",
            r"policy\.toml:2: tiers\.review: expected a number in \[0, 1\] or false, got 'high'",
        ),
        ("[tiers]\nreview = true\n", r"tiers\.review: expected a number in \[0, 1\] or false, got True"),
        (
            "[tiers]\nmonitor = 0.6\nreview = 0.5\n",
            r"policy\.toml:3: tiers\.review: tiers overlap: review = 0\.5 must be greater than monitor = 0\.6",
        ),
        (
            "[tiers]\nrestrict = 0.9\n",
            r"tiers\.suspend: tiers overlap: suspend = 0\.7 \(default\) must be greater than restrict = 0\.9",
        ),
        (
            "[overdue]\nrestrict = 30.5\n",
            r"policy\.toml:2: overdue\.restrict: expected a whole number of days",
        ),
        ("[overdue]\nrestrict = 90\nsuspend = 30\n", r"overdue\.suspend: tiers overlap"),
        (
            "[rings]\nmin_size = '3'\n",
            r"policy\.toml:2: rings\.min_size: expected a whole number >= 2, got '3'",
        ),
        ("[rings]\nweak_kinds = ['ip', 'fax']\n", r"rings\.weak_kinds: identifier kind 'fax' is not one of"),
        ("[rings]\nweak_only_cap = 'jail'\n", r"rings\.weak_only_cap: expected one of 'none', 'monitor'"),
        ("rings = 3\n", r"policy\.toml:1: rings: expected a table, got 3"),
        (
            "[restrict]\nlimit_factor = 1.5\n",
            r"restrict\.limit_factor: expected a number > 0\.0 and <= 1\.0, got 1\.5",
        ),
        (
            "[notices.fraud_ring]\nsubject = 'Your score is {score}'\n",
            r"policy\.toml:2: notices\.fraud_ring\.subject: unknown placeholder \{score\}",
        ),
        (
            "[repayment]\ninstalment_options = []\n",
            r"repayment\.instalment_options: expected a non-empty list",
        ),
        (
            "[exemptions]\nidentifiers = [{ kind = 'card' }]\n",
            r"exemptions\.identifiers\[0\]: missing required key\(s\) value",
        ),
        ("[tiers\nmonitor = 0.3\n", r"policy\.toml: not valid TOML"),
    ],
)
def test_invalid_policy_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(PolicyError, match=message):
        policy_from(tmp_path, text)


def test_missing_policy_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read policy file .*nope.toml"):
        load_policy(tmp_path / "nope.toml")


# ------------------------------------------------------------------------------------------
# evaluate: tiers and credit triggers
# ------------------------------------------------------------------------------------------


def test_score_tiers_map_scores_to_actions(default_policy):
    specs = [{"id": f"A{i}", "score": s} for i, s in enumerate([0.0, 0.29, 0.3, 0.5, 0.59, 0.6, 0.7, 1.0])]
    d = decide(specs)
    assert list(d["action"]) == [
        "none",
        "none",
        "monitor",
        "review",
        "review",
        "restrict",
        "suspend",
        "suspend",
    ]
    assert set(d.loc[d["action"] != "none", "trigger"]) == {"account_risk"}
    assert "SCORE_REVIEW" in codes(d.loc["A3", "reasons"])
    assert d.loc["A0", "evidence"] == "" and d.loc["A0", "trigger"] == "none"


def test_disabled_tier_never_fires(tmp_path):
    policy = policy_from(tmp_path, "[tiers]\nsuspend = false\n")
    d = decide([{"id": "A", "score": 0.99}], policy=policy)
    assert d.loc["A", "action"] == "restrict"


def test_overdue_trigger_is_strictly_greater_and_independent_of_rings():
    d = decide(
        [
            {"id": "ontime", "overdue": 30},
            {"id": "late", "overdue": 31},
            {"id": "very_late", "overdue": 97, "balance": 640.0},
        ]
    )
    assert d.loc["ontime", "action"] == "none"
    assert (d.loc["late", "action"], d.loc["late", "trigger"]) == ("restrict", "overdue")
    assert (d.loc["very_late", "action"], d.loc["very_late", "trigger"]) == ("suspend", "overdue")
    reason = next(r for r in d.loc["very_late", "reasons"] if r["code"] == "OVERDUE_90")
    assert reason["text"] == "Payment is 97 days overdue (more than 90)"
    assert reason["evidence"]["balance"] == 640.0


def test_utilization_trigger_skips_unknown_or_zero_limits():
    d = decide(
        [
            {"id": "high", "limit": 1000, "balance": 950},
            {"id": "over", "limit": 1000, "balance": 1200},
            {"id": "normal", "limit": 1000, "balance": 500},
            {"id": "zero_limit", "limit": 0, "balance": 500},
            {"id": "no_limit", "limit": float("nan"), "balance": 500},
        ]
    )
    assert (d.loc["high", "action"], d.loc["high", "trigger"]) == ("monitor", "utilization")
    assert (d.loc["over", "action"], d.loc["over", "trigger"]) == ("review", "utilization")
    assert "120% of the credit limit" in d.loc["over", "reasons"][-1]["text"]
    assert list(d.loc[["normal", "zero_limit", "no_limit"], "action"]) == ["none"] * 3


def test_most_severe_trigger_wins_and_all_fired_rules_are_reasons():
    d = decide([{"id": "A", "score": 0.55, "overdue": 45, "limit": 1000, "balance": 990}])
    assert (d.loc["A", "action"], d.loc["A", "trigger"]) == ("restrict", "overdue")
    assert {"SCORE_REVIEW", "OVERDUE_30", "UTILIZATION_MONITOR"} <= set(codes(d.loc["A", "reasons"]))


def test_every_action_says_why_and_output_has_decision_columns():
    rng = np.random.default_rng(3)
    specs = [
        {
            "id": f"A{i}",
            "score": rng.random(),
            "overdue": int(rng.integers(0, 120)),
            "balance": rng.uniform(0, 1500),
        }
        for i in range(300)
    ]
    accounts, scores, rings = world(specs)
    d = evaluate(accounts, scores, rings, Policy.default())
    assert list(d.columns) == DECISION_COLUMNS + ["evidence"]
    acted = d[d["action"] != "none"]
    assert len(acted) > 100
    assert all(len(r) > 0 for r in acted["reasons"])
    assert (acted["evidence"].str.len() == 16).all()


def test_closed_accounts_are_never_acted_on():
    d = decide([{"id": "A", "score": 0.99, "overdue": 200, "status": "closed", "label": "fraud"}])
    assert d.loc["A", "action"] == "none"
    assert codes(d.loc["A", "reasons"]) == ["ACCOUNT_CLOSED"]


def test_confirmed_fraud_by_label_or_review_is_suspended():
    reviews = pd.DataFrame(
        {
            "account_id": ["R"],
            "verdict": ["confirm_fraud"],
            "evidence": ["x"],
            "at": [pd.Timestamp("2025-01-01")],
        }
    )
    d = decide([{"id": "L", "label": "fraud"}, {"id": "R"}, {"id": "N"}], reviews=reviews)
    assert (d.loc["L", "action"], d.loc["L", "trigger"]) == ("suspend", "account_risk")
    assert d.loc["R", "action"] == "suspend"
    assert "CONFIRMED_FRAUD" in codes(d.loc["R", "reasons"])
    assert d.loc["N", "action"] == "none"


def test_accounts_missing_from_scores_score_zero_and_order_does_not_matter():
    accounts, scores, rings = world([{"id": f"A{i}", "score": 0.1 * i} for i in range(10)])
    policy = Policy.default()
    base = evaluate(accounts, scores, rings, policy)
    shuffled = evaluate(accounts, scores.sample(frac=1.0, random_state=7), rings, policy)
    pd.testing.assert_frame_equal(base, shuffled)
    pd.testing.assert_frame_equal(base, evaluate(accounts, scores, rings, policy))
    partial = evaluate(accounts, scores.iloc[5:], rings, policy)
    assert (partial["score"].iloc[:5] == 0).all() and (partial["action"].iloc[:5] == "none").all()


def test_duplicate_score_rows_are_refused():
    accounts, scores, rings = world([{"id": "A"}, {"id": "B"}])
    with pytest.raises(ValueError, match="account_scores has account_id 'A' more than once"):
        evaluate(accounts, pd.concat([scores, scores.iloc[:1]]), rings, Policy.default())


# ------------------------------------------------------------------------------------------
# evaluate: ring rules
# ------------------------------------------------------------------------------------------


def ring_specs(ring_id="R-1", score=0.55, weak_member_kind="ip"):
    return [
        {"id": "m1", "score": score, "ring": ring_id, "reasons": [shared("device", "dev-1")]},
        {
            "id": "m2",
            "score": score,
            "ring": ring_id,
            "reasons": [shared("device", "dev-1"), shared("card", "4111")],
        },
        {"id": "m3", "score": score, "ring": ring_id, "reasons": [shared("card", "4111")]},
        {"id": "weak", "score": score, "ring": ring_id, "reasons": [shared(weak_member_kind, "10.0.0.1")]},
    ]


def test_ring_with_confirmed_fraud_suspends_strongly_tied_members_and_caps_weak_ones():
    rings = [
        {
            "ring_id": "R-1",
            "size": 4,
            "score": 0.8,
            "reasons": [{"code": "KNOWN_FRAUD_IN_RING", "text": "t", "evidence": {}}],
        }
    ]
    d = decide(ring_specs(), rings)
    assert list(d.loc[["m1", "m2", "m3"], "action"]) == ["suspend"] * 3
    assert set(d.loc[["m1", "m2", "m3"], "trigger"]) == {"fraud_ring"}
    assert "RING_CONFIRMED_FRAUD" in codes(d.loc["m1", "reasons"])
    assert (d.loc["weak", "action"], d.loc["weak", "trigger"]) == ("review", "fraud_ring")
    assert "WEAK_LINKS_ONLY" in codes(d.loc["weak", "reasons"])


def test_a_ring_mates_conviction_leaves_members_the_detector_does_not_flag_at_their_own_tier():
    """Only members whose own score reaches the floor (review by default) take the ring's
    confirmed-fraud action; a neighbour scored at monitor stays at monitor. With the floor at
    monitor it is reviewed, and with "none" every member takes the action, as before."""
    rings = [{"ring_id": "R-1", "size": 4, "score": 0.8, "reasons": [{"code": "KNOWN_FRAUD_IN_RING", "text": "t"}]}]
    specs = ring_specs()
    specs[0]["score"] = 0.35  # m1: tied by one device, scored at monitor
    d = decide(specs, rings)
    assert (d.loc["m1", "action"], d.loc["m2", "action"]) == ("monitor", "suspend")
    assert "RING_CONFIRMED_FRAUD" not in codes(d.loc["m1", "reasons"])
    at_monitor = Policy.from_text('[rings]\nconfirmed_fraud_member_floor = "monitor"\n')
    assert decide(specs, rings, at_monitor).loc["m1", "action"] == "review"
    everyone = Policy.from_text('[rings]\nconfirmed_fraud_member_floor = "none"\n')
    assert decide(specs, rings, everyone).loc["m1", "action"] == "suspend"


def test_member_labelled_fraud_marks_the_ring_as_confirmed():
    specs = ring_specs()
    specs[0]["label"] = "fraud"
    d = decide(specs, [{"ring_id": "R-1", "size": 4, "score": 0.55}])
    assert d.loc["m2", "action"] == "suspend"
    assert d.loc["m1", "trigger"] == "account_risk"  # its own confirmed label outranks the ring on a tie


def test_confirmed_ring_below_min_score_is_left_to_the_tiers():
    rings = [
        {
            "ring_id": "R-1",
            "size": 4,
            "score": 0.4,
            "reasons": [{"code": "KNOWN_FRAUD_IN_RING", "text": "t", "evidence": {}}],
        }
    ]
    d = decide(ring_specs(), rings)
    assert d.loc["m1", "action"] == "review"


def test_weak_only_cap_applies_to_high_scores_and_strong_codes_lift_it():
    specs = ring_specs(score=0.95)
    specs.append(
        {
            "id": "mule",
            "score": 0.95,
            "ring": "R-1",
            "reasons": [shared("ip", "10.0.0.1"), {"code": "MONEY_FAN_IN", "text": "t", "evidence": {}}],
        }
    )
    d = decide(specs, [{"ring_id": "R-1", "size": 5}])
    assert d.loc["m1", "action"] == "suspend"
    assert d.loc["weak", "action"] == "review"
    assert d.loc["mule", "action"] == "suspend"


def test_ring_evidence_is_used_when_the_account_reasons_name_no_identifier():
    specs = [{"id": f"m{i}", "score": 0.9, "ring": "R-1", "reasons": []} for i in range(3)]
    strong = decide(specs, [{"ring_id": "R-1", "size": 3, "reasons": [shared("device", "d")]}])
    weak = decide(specs, [{"ring_id": "R-1", "size": 3, "reasons": [shared("address", "12 oak st")]}])
    assert set(strong["action"]) == {"suspend"}
    assert set(weak["action"]) == {"review"}


def test_small_rings_are_capped(tmp_path):
    specs = [
        {"id": "p1", "score": 0.9, "ring": "R-2", "reasons": [shared("device", "d")]},
        {"id": "p2", "score": 0.9, "ring": "R-2", "reasons": [shared("device", "d")]},
    ]
    d = decide(specs, [{"ring_id": "R-2", "size": 2}])
    assert set(d["action"]) == {"monitor"}
    assert "SMALL_RING" in codes(d.loc["p1", "reasons"])
    relaxed = policy_from(tmp_path, "[rings]\nmin_size = 2\n")
    assert set(decide(specs, [{"ring_id": "R-2", "size": 2}], policy=relaxed)["action"]) == {"suspend"}


def test_a_pair_with_a_recombined_identity_is_not_capped_as_a_small_ring():
    """Two accounts on one national id with different phones and emails: synthetic identity."""
    specs = [
        {"id": "s1", "score": 0.8, "ring": "R-3", "reasons": [shared("national_id", "887701419")]},
        {"id": "s2", "score": 0.8, "ring": "R-3", "reasons": [shared("national_id", "887701419")]},
    ]
    mosaic = [
        {
            "ring_id": "R-3",
            "size": 2,
            "score": 0.8,
            "reasons": [{"code": "RECOMBINED_IDENTITY", "text": "t", "evidence": {}}],
        }
    ]
    d = decide(specs, mosaic)
    assert set(d["action"]) == {"suspend"}
    assert "SMALL_RING" not in codes(d.loc["s1", "reasons"])
    plain = [
        {
            "ring_id": "R-3",
            "size": 2,
            "score": 0.8,
            "reasons": [{"code": "SHARED_NATIONAL_ID", "text": "t", "evidence": {}}],
        }
    ]
    assert set(decide(specs, plain)["action"]) == {"monitor"}


# ------------------------------------------------------------------------------------------
# evaluate: exemptions and reviews
# ------------------------------------------------------------------------------------------


def test_exempt_account_gets_no_ring_action_but_credit_rules_still_apply(tmp_path):
    policy = policy_from(tmp_path, '[exemptions]\naccounts = ["m1", "m2"]\n')
    specs = ring_specs(score=0.9)
    specs[1]["overdue"] = 40
    d = decide(specs, [{"ring_id": "R-1", "size": 4}], policy=policy)
    assert d.loc["m1", "action"] == "none"
    assert "EXEMPT_ACCOUNT" in codes(d.loc["m1", "reasons"])
    assert (d.loc["m2", "action"], d.loc["m2", "trigger"]) == ("restrict", "overdue")
    assert d.loc["m3", "action"] == "suspend"
    # the same through the evaluate(exempt=...) argument instead of the policy file
    d2 = decide(specs, [{"ring_id": "R-1", "size": 4}], exempt=["m1"])
    assert d2.loc["m1", "action"] == "none" and d2.loc["m2", "action"] == "suspend"


def test_exempt_identifier_matches_raw_spelling_and_removes_it_from_evidence(tmp_path):
    policy = policy_from(
        tmp_path,
        '[exemptions]\nidentifiers = [{ kind = "card", value = "4111", note = "ACME corporate card" }]\n',
    )
    specs = ring_specs(score=0.9)
    specs[2]["reasons"] = [shared("card", "4111")]
    d = decide(specs, [{"ring_id": "R-1", "size": 4}], policy=policy)
    # m3 is tied only by the corporate card: no ring action at all
    assert d.loc["m3", "action"] == "none"
    assert "EXEMPT_IDENTIFIER_ONLY" in codes(d.loc["m3", "reasons"])
    assert "SHARED_CARD" not in codes(d.loc["m3", "reasons"])
    # m2 also shares a device: still acted on, but the card is no longer cited
    assert d.loc["m2", "action"] == "suspend"
    assert "SHARED_CARD" not in codes(d.loc["m2", "reasons"])
    assert "SHARED_DEVICE" in codes(d.loc["m2", "reasons"])


def test_exempt_identifier_given_with_different_spelling(tmp_path):
    policy = policy_from(tmp_path, '[exemptions]\nidentifiers = [{ kind = "card", value = "4111 0000 1111 2222" }]\n')
    specs = [
        {"id": f"m{i}", "score": 0.9, "ring": "R-1", "reasons": [shared("card", "4111000011112222")]} for i in range(3)
    ]
    d = decide(specs, [{"ring_id": "R-1", "size": 3}], policy=policy)
    assert set(d["action"]) == {"none"}


def test_dismissed_account_is_not_reflagged_until_evidence_changes():
    rings = [{"ring_id": "R-1", "size": 4}]
    first = decide(ring_specs(score=0.55), rings)
    assert first.loc["m1", "action"] == "review"
    reviews = pd.DataFrame(
        {
            "account_id": ["m1"],
            "verdict": ["dismiss"],
            "evidence": [first.loc["m1", "evidence"]],
            "at": [pd.Timestamp("2025-02-01")],
        }
    )
    again = decide(ring_specs(score=0.65), rings, reviews=reviews)  # score drift alone is not new evidence
    assert again.loc["m1", "action"] == "none"
    assert "REVIEWED_DISMISSED" in codes(again.loc["m1", "reasons"])
    assert again.loc["m1", "evidence"] == first.loc["m1", "evidence"]
    assert again.loc["m2", "action"] == "restrict"

    changed = ring_specs(score=0.65)
    changed[0]["reasons"] = [shared("device", "dev-1"), shared("phone", "+15551234567")]
    new = decide(changed, rings, reviews=reviews)
    assert new.loc["m1", "action"] == "restrict"

    overdue = ring_specs(score=0.55)
    overdue[0]["overdue"] = 95
    assert decide(overdue, rings, reviews=reviews).loc["m1", "action"] == "suspend"

    before_review = decide(ring_specs(score=0.55), rings, reviews=reviews, as_of=pd.Timestamp("2025-01-01"))
    assert before_review.loc["m1", "action"] == "review"


def test_a_ring_members_evidence_names_the_rings_members_in_id_order():
    """The evidence hash of a ring member covers the ring's member list (sorted ids, whatever the
    accounts' order): analysts' dismissals are stored against it, so it must not move unless the
    membership, ties or codes do. Pinned to the hash of the parts, as the stored hashes were made."""

    def digest(parts):
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    other = [{"id": f"o{i}", "score": 0.55, "ring": "R-2", "reasons": [shared("card", "c9")]} for i in range(3)]
    rings = [{"ring_id": "R-1", "size": 4}, {"ring_id": "R-2", "size": 3}]
    specs = ring_specs() + other
    d = decide(specs, rings)
    ring_part = "ring:" + digest(["m1", "m2", "m3", "weak"])
    assert d.loc["m1", "evidence"] == digest([ring_part, "device:dev-1", "code:SHARED_DEVICE"])
    assert d.loc["o0", "evidence"] == digest(["ring:" + digest(["o0", "o1", "o2"]), "card:c9", "code:SHARED_CARD"])
    # The accounts in another order: the same hashes.
    shuffled = decide(specs[::-1], rings)
    assert (shuffled["evidence"].sort_index() == d["evidence"].sort_index()).all()
    # A fourth member joins R-2: new evidence for its members, none for R-1's.
    grown = decide(specs + [{"id": "o3", "score": 0.55, "ring": "R-2", "reasons": [shared("card", "c9")]}], rings)
    assert grown.loc["o0", "evidence"] != d.loc["o0", "evidence"]
    assert grown.loc["m1", "evidence"] == d.loc["m1", "evidence"]


def test_dismissed_action_can_be_monitor(tmp_path):
    policy = policy_from(tmp_path, '[reviews]\ndismissed_action = "monitor"\n')
    first = decide([{"id": "A", "score": 0.55}], policy=policy)
    reviews = pd.DataFrame(
        {
            "account_id": ["A"],
            "verdict": ["dismiss"],
            "evidence": [first.loc["A", "evidence"]],
            "at": [pd.Timestamp("2025-02-01")],
        }
    )
    assert decide([{"id": "A", "score": 0.55}], policy=policy, reviews=reviews).loc["A", "action"] == "monitor"


# ------------------------------------------------------------------------------------------
# credit limits
# ------------------------------------------------------------------------------------------


def test_restricted_limit_rounds_down_floors_and_never_exceeds_old(tmp_path, default_policy):
    assert restricted_limit(1000.0, default_policy) == 500.0
    assert restricted_limit(1234.0, default_policy) == 610.0  # 617 rounded down to a multiple of 10
    assert np.isnan(restricted_limit(float("nan"), default_policy))
    floored = policy_from(tmp_path, "[restrict]\nlimit_factor = 0.1\nlimit_floor = 250\nround_to = 0\n")
    assert list(restricted_limit(np.array([5000.0, 1000.0, 100.0, 0.0, 333.33]), floored)) == [
        500.0,
        250.0,
        100.0,
        0.0,
        250.0,
    ]
    rng = np.random.default_rng(0)
    old = rng.uniform(0, 50_000, 10_000).round(2)
    for policy in (default_policy, floored):
        assert (restricted_limit(old, policy) <= old).all()


def test_suspended_limit_zero_or_frozen(tmp_path, default_policy):
    assert suspended_limit(800.0, default_policy) == 0.0
    frozen = policy_from(tmp_path, '[suspend]\ncredit_limit = "freeze"\n')
    assert suspended_limit(800.0, frozen) == 800.0
    d = decide(
        [
            {"id": "A", "score": 0.65, "limit": 1500},
            {"id": "B", "score": 0.9, "limit": 1500},
            {"id": "C", "score": 0.55},
        ]
    )
    assert list(d["new_credit_limit"].iloc[:2]) == [750.0, 0.0]
    assert np.isnan(d.loc["C", "new_credit_limit"])


# ------------------------------------------------------------------------------------------
# scale
# ------------------------------------------------------------------------------------------


def test_evaluate_is_vectorized_at_200k_accounts():
    n = 200_000
    rng = np.random.default_rng(11)
    ids = np.array([f"A{i:07d}" for i in range(n)], dtype=object)
    in_ring = rng.random(n) < 0.03
    ring = np.where(in_ring, np.array([f"R-{k:05d}" for k in rng.integers(0, 1000, n)], dtype=object), None)
    reason = [shared("device", "dev")]
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": pd.Timestamp("2024-01-01"),
            "credit_limit": 1000.0,
            "balance": 1000.0 * rng.beta(2, 5, n),
            "overdue_days": np.where(rng.random(n) < 0.02, rng.integers(1, 150, n), 0),
            "status": "active",
            "label": None,
            "properties": "{}",
        }
    )
    scores = pd.DataFrame(
        {
            "account_id": ids,
            "score": np.where(in_ring, rng.beta(5, 3, n), rng.beta(1, 12, n)),
            "ring_id": ring,
            "reasons": [reason if r else [] for r in in_ring],
        }
    )
    rid = sorted(set(ring[in_ring]))
    rings = pd.DataFrame(
        {
            "ring_id": rid,
            "size": 6,
            "score": 0.5,
            "exposure": 0.0,
            "features": [{}] * len(rid),
            "reasons": [[]] * len(rid),
        }
    )
    policy = Policy.default()
    start = time.perf_counter()
    d = evaluate(accounts, scores, rings, policy)
    elapsed = time.perf_counter() - start
    assert len(d) == n
    assert 0.01 < (d["action"] != "none").mean() < 0.15
    assert elapsed < 8.0, f"evaluate took {elapsed:.1f}s for {n} accounts"


# ------------------------------------------------------------------------------------------
# plan_changes
# ------------------------------------------------------------------------------------------


def plan(current, decisions, sweep_id="S1", accounts=None, at=SWEEP_AT):
    return plan_changes(current, decisions.reset_index(), Policy.default(), sweep_id=sweep_id, at=at, accounts=accounts)


def test_first_sweep_escalates_and_writes_notices_only_for_restrict_and_suspend():
    accounts, scores, rings = world(
        [
            {"id": "watch", "score": 0.35},
            {"id": "cut", "score": 0.65, "limit": 2000},
            {"id": "stop", "score": 0.9},
            {"id": "late", "overdue": 45, "balance": 300.0},
            {"id": "fine"},
        ]
    )
    policy = Policy.default()
    decisions = evaluate(accounts, scores, rings, policy)
    changes = plan_changes(empty_state(), decisions, policy, sweep_id="S1", at=SWEEP_AT, accounts=accounts)
    assert list(changes.state.columns) == STATE_COLUMNS
    assert list(changes.audit.columns) == AUDIT_COLUMNS
    assert list(changes.notices.columns) == NOTICE_COLUMNS
    state = changes.state.set_index("account_id")
    assert sorted(state.index) == ["cut", "late", "stop", "watch"]
    assert (state.loc["cut", "credit_limit"], state.loc["cut", "original_credit_limit"]) == (1000.0, 2000.0)
    assert (state.loc["stop", "status"], state.loc["stop", "credit_limit"]) == ("suspended", 0.0)
    assert set(changes.audit["event"]) == {"escalate"}
    assert (changes.audit["policy_hash"] == policy.hash).all()
    assert json.loads(changes.audit.set_index("account_id").loc["cut", "reasons"])[-1]["code"] == "SCORE_RESTRICT"
    notices = changes.notices.set_index("account_id")
    assert sorted(notices.index) == ["cut", "late", "stop"]
    assert notices.loc["late", "category"] == "overdue"
    assert notices.loc["late", "notice_id"] == "S1:late"
    assert json.loads(notices.loc["late", "repayment_plan"])["total"] == 300.0
    assert notices.loc["cut", "repayment_plan"] == ""


def test_identical_rerun_changes_nothing():
    accounts, scores, rings = world(
        [
            {"id": "cut", "score": 0.65, "limit": 1500},
            {"id": "stop", "score": 0.9},
            {"id": "watch", "score": 0.4},
        ]
    )
    policy = Policy.default()
    decisions = evaluate(accounts, scores, rings, policy)
    first = plan_changes(empty_state(), decisions, policy, sweep_id="S1", at=SWEEP_AT, accounts=accounts)
    current = apply(empty_state(), first)
    # the source now reports the reduced limit we applied: the restriction must not compound
    accounts2 = accounts.assign(credit_limit=[750.0, 0.0, 1000.0])
    decisions2 = evaluate(accounts2, scores, rings, policy)
    second = plan_changes(current, decisions2, policy, sweep_id="S2", at=SWEEP_AT, accounts=accounts2)
    assert second.empty, second.audit


def test_manual_accounts_are_never_changed_by_a_sweep():
    decisions = decide([{"id": "A", "score": 0.95}, {"id": "B", "score": 0.95}])
    current = pd.DataFrame(
        [
            {
                "account_id": "A",
                "action": "none",
                "trigger": "manual",
                "status": "active",
                "credit_limit": 1000.0,
                "original_credit_limit": 1000.0,
                "manual": True,
                "evidence": "",
            },
        ]
    )
    changes = plan(current, decisions)
    assert list(changes.state["account_id"]) == ["B"]
    assert "A" not in set(changes.notices["account_id"])


def test_de_escalation_from_suspend_reinstates_and_restores_limit():
    current = pd.DataFrame(
        [
            {
                "account_id": "A",
                "action": "suspend",
                "trigger": "fraud_ring",
                "status": "suspended",
                "credit_limit": 0.0,
                "original_credit_limit": 2500.0,
                "manual": False,
                "evidence": "abc",
            },
            {
                "account_id": "B",
                "action": "suspend",
                "trigger": "fraud_ring",
                "status": "suspended",
                "credit_limit": 0.0,
                "original_credit_limit": 2000.0,
                "manual": False,
                "evidence": "abc",
            },
        ]
    )
    decisions = decide([{"id": "A", "score": 0.1, "limit": 0.0}, {"id": "B", "score": 0.65, "limit": 0.0}])
    changes = plan(current, decisions)
    state = changes.state.set_index("account_id")
    audit = changes.audit.set_index("account_id")
    assert (state.loc["A", "action"], state.loc["A", "status"], state.loc["A", "credit_limit"]) == (
        "none",
        "active",
        2500.0,
    )
    assert audit.loc["A", "event"] == "de_escalate"
    assert "limit restored to 2,500.00" in audit.loc["A", "note"]
    assert (state.loc["B", "action"], state.loc["B", "status"], state.loc["B", "credit_limit"]) == (
        "restrict",
        "active",
        1000.0,
    )
    assert audit.loc["B", "event"] == "de_escalate"
    # A lifted whole: the customer is told (as when an analyst lifts it); B is still limited: nothing.
    assert changes.notices["account_id"].tolist() == ["A"]
    lift = changes.notices.iloc[0]
    assert (lift["action"], lift["category"], lift["sweep_id"]) == ("lift", "lifted", lift["notice_id"].split(":")[0])
    assert "2,500.00" in lift["body"]


def test_a_sweep_never_lifts_a_suspension_the_source_system_reports():
    current = pd.DataFrame(
        [
            {
                "account_id": "S",
                "action": "suspend",
                "trigger": "fraud_ring",
                "status": "suspended",
                "credit_limit": 0.0,
                "original_credit_limit": 900.0,
                "manual": False,
                "evidence": "abc",
            }
        ]
    )
    specs = [{"id": "S", "score": 0.1, "limit": 0.0, "status": "suspended"}]
    accounts, _, _ = world(specs)
    changes = plan(current, decide(specs), accounts=accounts)
    state = changes.state.set_index("account_id")
    assert state.loc["S", "action"] == "none" and state.loc["S", "status"] == "suspended"


def test_escalation_from_restrict_to_suspend_sends_a_notice_and_evidence_change_is_an_update():
    current = pd.DataFrame(
        [
            {
                "account_id": "A",
                "action": "restrict",
                "trigger": "account_risk",
                "status": "active",
                "credit_limit": 500.0,
                "original_credit_limit": 1000.0,
                "manual": False,
                "evidence": "old",
            },
            {
                "account_id": "B",
                "action": "review",
                "trigger": "account_risk",
                "status": "active",
                "credit_limit": 1000.0,
                "original_credit_limit": 1000.0,
                "manual": False,
                "evidence": "old",
            },
        ]
    )
    decisions = decide([{"id": "A", "score": 0.9, "limit": 500.0}, {"id": "B", "score": 0.55}])
    changes = plan(current, decisions)
    audit = changes.audit.set_index("account_id")
    assert audit.loc["A", "event"] == "escalate" and audit.loc["A", "previous_limit"] == 500.0
    assert audit.loc["B", "event"] == "update"
    assert list(changes.notices["account_id"]) == ["A"]
    assert changes.notices["action"].iloc[0] == "suspend"


def test_source_suspension_is_not_lifted_and_closed_accounts_are_untouched():
    accounts, scores, rings = world([{"id": "S", "status": "suspended"}, {"id": "C", "status": "closed", "score": 0.9}])
    decisions = evaluate(accounts, scores, rings, Policy.default())
    changes = plan_changes(empty_state(), decisions, Policy.default(), sweep_id="S1", at=SWEEP_AT, accounts=accounts)
    assert changes.empty
    current = pd.DataFrame(
        [
            {
                "account_id": "C",
                "action": "review",
                "trigger": "account_risk",
                "status": "closed",
                "credit_limit": 10.0,
                "original_credit_limit": 10.0,
                "manual": False,
                "evidence": "x",
            }
        ]
    )
    assert plan_changes(current, decisions, Policy.default(), sweep_id="S2", at=SWEEP_AT).empty


def test_identifier_lists_inside_evidence_are_read_like_the_scorers_shares_with_ring():
    def shares(*ties):
        return {
            "code": "SHARES_WITH_RING",
            "text": "shares ...",
            "evidence": {"identifiers": [{"kind": k, "key": v} for k, v in ties]},
        }

    specs = [
        {
            "id": "strong",
            "score": 0.9,
            "ring": "R-1",
            "reasons": [shares(("ip", "1.2.3.4"), ("device", "d1"))],
        },
        {
            "id": "weak",
            "score": 0.9,
            "ring": "R-1",
            "reasons": [shares(("ip", "1.2.3.4"), ("email", "x@y.z"))],
        },
        {"id": "other", "score": 0.9, "ring": "R-1", "reasons": [shares(("device", "d1"))]},
    ]
    d = decide(specs, [{"ring_id": "R-1", "size": 3}])
    assert (d.loc["strong", "action"], d.loc["weak", "action"]) == ("suspend", "review")


def test_missing_columns_are_named():
    accounts, scores, rings = world([{"id": "A"}])
    with pytest.raises(ValueError, match="account_scores lacks column\\(s\\) ring_id"):
        evaluate(accounts, scores.drop(columns="ring_id"), rings, Policy.default())


def test_empty_inputs_give_empty_outputs():
    from fraudgraph.model.frames import ACCOUNT_COLUMNS, ACCOUNT_SCORE_COLUMNS, RING_COLUMNS

    policy = Policy.default()
    d = evaluate(
        pd.DataFrame(columns=ACCOUNT_COLUMNS),
        pd.DataFrame(columns=ACCOUNT_SCORE_COLUMNS),
        pd.DataFrame(columns=RING_COLUMNS),
        policy,
    )
    assert d.empty and list(d.columns) == DECISION_COLUMNS + ["evidence"]
    assert plan_changes(empty_state(), d, policy, sweep_id="S1", at=SWEEP_AT).empty


def test_ring_rule_can_be_switched_off(tmp_path):
    policy = policy_from(tmp_path, '[rings]\nconfirmed_fraud_action = "none"\n')
    rings = [
        {
            "ring_id": "R-1",
            "size": 4,
            "score": 0.9,
            "reasons": [{"code": "KNOWN_FRAUD_IN_RING", "text": "t", "evidence": {}}],
        }
    ]
    d = decide(ring_specs(score=0.55), rings, policy=policy)
    assert d.loc["m1", "action"] == "review"
    assert "RING_CONFIRMED_FRAUD" not in codes(d.loc["m1", "reasons"])


def test_exempt_frame_can_allow_list_identifiers_and_accounts():
    specs = [
        {"id": f"m{i}", "score": 0.9, "ring": "R-1", "reasons": [shared("device", "dev-shared")]} for i in range(3)
    ]
    specs.append({"id": "solo", "score": 0.9})
    exempt = pd.DataFrame({"account_id": [None, "solo"], "kind": ["device", None], "value": ["DEV-SHARED", None]})
    d = decide(specs, [{"ring_id": "R-1", "size": 3}], exempt=exempt)
    assert set(d["action"]) == {"none"}


# ------------------------------------------------------------------------------------------
# Verdicts that hold (issue 10): dismissals remember data, sweeps propose reinstatements
# ------------------------------------------------------------------------------------------


def _ring_specs(score: float, overdue: int = 0) -> list[dict]:
    tie = shared("card", "4111")
    return [{"id": f"m{i}", "score": score, "ring": "R1", "reasons": [tie], "overdue": overdue} for i in range(4)]


def test_a_lowering_caused_by_scores_is_proposed_not_applied_and_a_repaid_overdue_lifts_itself():
    from fraudgraph.decisions.policy import PROPOSAL_PREFIX

    policy = Policy.default()
    rings = [{"ring_id": "R1", "size": 4}]
    accounts, scores, ring_frame = world(_ring_specs(0.9), rings)
    first = plan_changes(
        empty_state(), evaluate(accounts, scores, ring_frame, policy), policy, sweep_id="S1", at=SWEEP_AT
    )
    current = apply(empty_state(), first)
    accounts2, scores2, ring_frame2 = world(_ring_specs(0.55), rings)  # the ring's scores fell
    decisions2 = evaluate(accounts2, scores2, ring_frame2, policy)
    second = plan_changes(current, decisions2, policy, sweep_id="S2", at=SWEEP_AT)
    assert set(second.audit["event"]) == {"propose_reinstate"}
    state = second.state.set_index("account_id")
    assert (state["action"] == "suspend").all() and (state["status"] == "suspended").all()
    assert state["evidence"].str.startswith(f"{PROPOSAL_PREFIX}review:").all()
    assert plan_changes(apply(current, second), decisions2, policy, sweep_id="S3", at=SWEEP_AT).empty

    late = world([{"id": "late", "overdue": 120, "balance": 500.0}])
    before = apply(
        empty_state(),
        plan_changes(empty_state(), evaluate(*late, policy), policy, sweep_id="S1", at=SWEEP_AT, accounts=late[0]),
    )
    repaid = world([{"id": "late", "overdue": 0, "balance": 0.0}])
    lifted = plan_changes(before, evaluate(*repaid, policy), policy, sweep_id="S2", at=SWEEP_AT, accounts=repaid[0])
    row = lifted.audit.iloc[0]
    assert (row["event"], row["new_status"]) == ("de_escalate", "active")
    assert "no longer applies" in row["note"]


def _dismissed_ring():
    """A four-account ring sharing one card whose member m0 was dismissed with a snapshot:
    (accounts, scores, rings), its links, transactions and members, and the review."""
    from fraudgraph.decisions.verdicts import AccountData, encode_snapshot, snapshots

    rings = [{"ring_id": "R1", "size": 4, "score": 0.9, "reasons": [{"code": "KNOWN_FRAUD_IN_RING"}]}]
    frames = world(_ring_specs(0.9), rings)
    links = pd.DataFrame(
        {"account_id": [f"m{i}" for i in range(4)], "kind": "card", "value": "4111", "key": "4111", "first_seen": None}
    )
    tx = pd.DataFrame(columns=["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp"])
    members = pd.DataFrame({"ring_id": "R1", "account_id": [f"m{i}" for i in range(4)]})
    accounts = frames[0]
    snap = encode_snapshot(snapshots(accounts[accounts["account_id"] == "m0"], AccountData(links, tx, members))["m0"])
    reviews = pd.DataFrame(
        [{"account_id": "m0", "verdict": "dismiss", "evidence": snap, "at": pd.Timestamp("2025-02-01")}]
    )
    return frames, (links, tx, members), reviews


def test_a_dismissal_holds_until_new_data_about_the_account_and_then_says_what_is_new():
    from fraudgraph.decisions.verdicts import AccountData

    policy = Policy.default()
    (accounts, scores, ring_frame), (links, tx, members), reviews = _dismissed_ring()
    data = AccountData(links, tx, members)
    # The dismissal's own label and a ring mate's confirmed fraud are not new evidence.
    labelled = accounts.assign(label=["legit", "fraud", None, None])
    held = evaluate(labelled, scores, ring_frame, policy, reviews=reviews, data=data).set_index("account_id")
    assert held.loc["m0", "action"] == "none"
    assert "REVIEWED_DISMISSED" in codes(held.loc["m0", "reasons"])
    # A new identifier on the account is.
    more = AccountData(pd.concat([links, links.iloc[:1].assign(kind="device", value="d9", key="d9")]), tx, members)
    fresh = evaluate(labelled, scores, ring_frame, policy, reviews=reviews, data=more).set_index("account_id")
    assert fresh.loc["m0", "action"] == "suspend"
    new = next(r for r in fresh.loc["m0", "reasons"] if r["code"] == "REVIEWED_NEW_EVIDENCE")
    assert "1 new identifier(s) (device)" in new["text"]


def test_a_dismissal_is_judged_alike_when_the_links_come_from_a_reader():
    # A whole-world sweep gives the policy the workspace's links reader (account ids -> their
    # links) instead of every link: the dismissal check must read the same evidence from it.
    from fraudgraph.decisions.verdicts import AccountData

    policy = Policy.default()
    (accounts, scores, ring_frame), (links, tx, members), reviews = _dismissed_ring()
    asked: list[list[str]] = []

    def reader_of(frame):
        def read(ids):
            asked.append(ids)
            return frame[frame["account_id"].isin(ids)]

        return read

    more = pd.concat([links, links.iloc[:1].assign(kind="device", value="d9", key="d9")])
    for given, action in ((links, "none"), (more, "suspend")):
        by_frame = evaluate(accounts, scores, ring_frame, policy, reviews=reviews, data=AccountData(given, tx, members))
        read = evaluate(
            accounts, scores, ring_frame, policy, reviews=reviews, data=AccountData(reader_of(given), tx, members)
        )
        pd.testing.assert_frame_equal(read, by_frame)
        assert read.set_index("account_id").loc["m0", "action"] == action
    # Only the dismissed account and its ring mates are read, never the whole world.
    assert asked and all(set(ids) <= {f"m{i}" for i in range(4)} for ids in asked)


def _audit_row_one_by_one(p, i, policy, *, ts, sweep_id, actor) -> dict:
    """The audit row of one change, as plan_changes wrote them one at a time before its columns
    were made at once: the reference the column-wise audit must equal, branch for branch."""
    from fraudgraph.decisions.policy import SEVERITY, _reasons_text

    before, after = SEVERITY.get(p.prev_action[i], 0), SEVERITY.get(p.new_action[i], 0)
    if after > before:
        event = "escalate"
    elif after < before:
        event = "de_escalate"
    elif p.limit_changed[i]:
        event = "limit_change"
    elif p.proposed[i] is not None:
        event = "propose_reinstate"
    else:
        event = "update"
    note = f"trigger {p.new_trigger[i]}"
    if p.proposed[i] is not None:
        note = (
            f"sweep proposes {p.proposed[i]} instead of {p.prev_action[i]}; {p.prev_action[i]} stays until an "
            "analyst decides (reinstate, or a verdict)"
        )
    if p.lifted[i]:
        note = "suspension lifted by sweep; status active"
    if p.lift_why[i] is not None:
        note += f" ({p.lift_why[i]})"
    if p.prev_limited[i] and not p.new_limited[i] and not np.isnan(p.new_limit[i]):
        note += f"; limit restored to {p.new_limit[i]:,.2f}"
    elif p.limit_changed[i]:
        note += f"; limit {p.prev_limit[i]:,.2f} -> {p.new_limit[i]:,.2f}"
    return {
        "at": ts,
        "sweep_id": sweep_id,
        "actor": actor,
        "account_id": p.ids[i],
        "event": event,
        "previous_action": p.prev_action[i],
        "new_action": p.new_action[i],
        "previous_status": p.prev_status[i],
        "new_status": p.new_status[i],
        "previous_limit": p.prev_limit[i],
        "new_limit": p.new_limit[i],
        "score": p.scores[i],
        "reasons": _reasons_text(p.reasons[i]),
        "policy_hash": policy.hash,
        "note": note,
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_audit_columns_are_the_rows_written_one_by_one(seed):
    """Every event (escalate, de_escalate, limit_change, propose_reinstate, update) and every note
    (a proposal, a lifted suspension, why it was lifted, a restored or changed limit)."""
    from fraudgraph.decisions.policy import AUDIT_COLUMNS, _audit_frame, _Columns, _frame_of_rows

    rng = np.random.default_rng(seed)
    n = 600
    actions = np.array(["none", "monitor", "review", "restrict", "suspend", "unknown"], dtype=object)

    def pick(values, p_none=0.0):
        out = np.array([values[k] for k in rng.integers(0, len(values), n)], dtype=object)
        out[rng.random(n) < p_none] = None
        return out

    limits = np.round(rng.uniform(0, 5000, n), 2)
    limits[rng.random(n) < 0.1] = np.nan
    p = _Columns(
        ids=np.array([f"A{k:04d}" for k in range(n)], dtype=object),
        prev_action=pick(actions),
        new_action=pick(actions),
        new_trigger=pick(np.array(["fraud_ring", "overdue", "utilization", "none"], dtype=object)),
        proposed=pick(actions[:5], p_none=0.7),
        limit_changed=rng.random(n) < 0.3,
        lifted=rng.random(n) < 0.1,
        lift_why=pick(np.array(["the overdue rule no longer applies: overdue now 0 days"], dtype=object), 0.8),
        prev_limited=rng.random(n) < 0.4,
        new_limited=rng.random(n) < 0.4,
        prev_limit=limits,
        new_limit=np.where(rng.random(n) < 0.5, limits / 2, np.nan),
        prev_status=pick(np.array(["active", "suspended", "closed"], dtype=object), 0.1),
        new_status=pick(np.array(["active", "suspended"], dtype=object)),
        scores=rng.random(n),
        reasons=pick(np.array([[], [{"code": "X", "text": "t", "evidence": {"n": 1}}], None], dtype=object)),
    )
    rows = np.flatnonzero(rng.random(n) < 0.8)
    policy = Policy.default()
    ts = pd.Timestamp("2026-11-30 12:00:00")
    got = _audit_frame(p, rows, policy, ts=ts, sweep_id="S-000009", actor="sweep")
    want = _frame_of_rows(
        [_audit_row_one_by_one(p, i, policy, ts=ts, sweep_id="S-000009", actor="sweep") for i in rows.tolist()],
        AUDIT_COLUMNS,
    )
    want["at"] = want["at"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(got, want)
    assert set(got["event"]) == {"escalate", "de_escalate", "limit_change", "propose_reinstate", "update"}
    empty = _audit_frame(p, rows[:0], policy, ts=ts, sweep_id="S-000009", actor="sweep")
    assert list(empty.columns) == AUDIT_COLUMNS and len(empty) == 0


def test_notices_written_half_in_a_forked_child_are_the_same_notices(monkeypatch):
    # A big sweep writes its notices on both cores (``detection.forked``); forced here on a
    # handful, the notices must be those of one process, row for row, lifted ones included.
    import fraudgraph.decisions.policy as policy_mod
    from fraudgraph.detection import forked

    people = [{"id": f"a{i:02d}", "score": 0.65 + 0.01 * (i % 30), "limit": 1000 + i} for i in range(24)]
    people += [{"id": f"o{i:02d}", "overdue": 40 + i, "balance": 100.0 + i} for i in range(6)]
    accounts, scores, rings = world(people)
    policy = Policy.default()
    decisions = evaluate(accounts, scores, rings, policy)
    first = plan_changes(empty_state(), decisions, policy, sweep_id="S1", at=SWEEP_AT, accounts=accounts)
    calm = evaluate(accounts.assign(overdue_days=0), scores.assign(score=0.0), rings, policy)
    lifted = plan_changes(apply(empty_state(), first), calm, policy, sweep_id="S2", at=SWEEP_AT, accounts=accounts)
    assert len(first.notices) == 30 and len(lifted.notices) > 0
    children = []
    started = forked._started
    monkeypatch.setattr(forked, "_started", lambda *a: children.append(1) or started(*a))
    monkeypatch.setattr(policy_mod, "_FORK_FROM_NOTICES", 0)
    again = plan_changes(empty_state(), decisions, policy, sweep_id="S1", at=SWEEP_AT, accounts=accounts)
    lifted_again = plan_changes(
        apply(empty_state(), first), calm, policy, sweep_id="S2", at=SWEEP_AT, accounts=accounts
    )
    assert children == [1, 1]
    pd.testing.assert_frame_equal(again.notices, first.notices)
    pd.testing.assert_frame_equal(lifted_again.notices, lifted.notices)
