"""Scorers follow scikit-learn conventions; rule evidence ranks fraud patterns above innocent groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from fraudgraph.detection.evidence import ring_evidence
from fraudgraph.detection.pipeline import detect
from fraudgraph.detection.scoring import (
    DEFAULT_TIERS,
    AccountScorer,
    RingScorer,
    default_actions,
)

# An ordinary household: two to four people at one address, opened years apart, normal credit.
HOUSEHOLD = dict(
    size=3,
    density=1.0,
    strong_member_share=0.3,
    opened_together_share=0.33,
    created_span_days=900.0,
    link_sync_share=0.0,
    recent_link_old_account_share=0.0,
    new_shared_payout_share=0.0,
    mean_utilization=0.25,
    maxed_share=0.0,
    overdue_share=0.0,
    severe_overdue_share=0.0,
    core_size=1,
    core_maxed_share=0.0,
    core_overdue_share=0.0,
    core_severe_overdue_share=0.0,
    core_spend_burst_share=0.0,
    core_median_age_days=1500.0,
    pass_through_share=0.0,
    fan_in_per_member=0.0,
    spend_burst_share=0.0,
    prior_link_share=1.0,
    median_age_days=1500.0,
    chargeback_member_share=0.0,
    identifier_crowd=1.0,
    max_address_cover=1.0,
    n_collectors=0,
    known_fraud=0,
    known_legit=0,
    recombined_identifiers=0,
    recombined_kinds=0,
    shared_personal_kinds=1,
    recombined_members=0,
    varied_kinds=0,
    varied_members=0,
    national_id_conflicts=0,
    national_id_holders=0,
    email_across_ids=0,
    phone_across_ids=0,
    phone_across_ids_holders=0,
    max_instrument_holders=1,
    exposure=15000.0,
    two_of_three_members=0,
)
BUST_OUT = dict(
    HOUSEHOLD,
    size=6,
    strong_member_share=1.0,
    opened_together_share=1.0,
    created_span_days=4.0,
    link_sync_share=1.0,
    mean_utilization=0.98,
    maxed_share=1.0,
    overdue_share=0.8,
    spend_burst_share=0.6,
    median_age_days=200.0,
    prior_link_share=1.0,
    core_size=6,
    core_maxed_share=1.0,
    core_overdue_share=0.8,
    core_spend_burst_share=0.6,
    core_median_age_days=200.0,
)
TAKEOVER = dict(
    HOUSEHOLD,
    size=8,
    strong_member_share=1.0,
    link_sync_share=1.0,
    recent_link_old_account_share=0.9,
    new_shared_payout_share=0.9,
    max_address_cover=0.0,
    prior_link_share=0.0,
    median_age_days=2000.0,
)
MULES = dict(HOUSEHOLD, size=7, pass_through_share=0.85, n_collectors=1, fan_in_per_member=5.0, max_address_cover=0.0)


def rings(*rows, copies=40):
    """Many ordinary households (what a sweep mostly sees) followed by the given rings."""
    return pd.DataFrame([HOUSEHOLD] * copies + list(rows))


def test_ring_scorer_follows_estimator_conventions():
    scorer = RingScorer(random_state=0)
    assert clone(scorer).get_params() == scorer.get_params()
    with pytest.raises(NotFittedError):
        scorer.score_samples(rings())
    assert scorer.fit(rings()) is scorer
    assert hasattr(scorer, "isolation_forest_") and hasattr(scorer, "evidence_weights_")


def test_ring_scores_are_bounded_and_deterministic_per_seed():
    X = rings(BUST_OUT, TAKEOVER, MULES)
    a = RingScorer(random_state=7).fit(X).score_samples(X)
    b = RingScorer(random_state=7).fit(X).score_samples(X)
    assert np.array_equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()


@pytest.mark.parametrize("walk_from", [0, 10_000], ids=["scikit-learn-walk", "kept-walk"])
def test_anomaly_of_rings_asked_again_is_what_a_fresh_forest_walk_gives(monkeypatch, walk_from):
    # The last rows walked are answered again without a walk (a sweep asks for its rings' three
    # times): answers must be those of a fresh walk, for the same rows and for other ones.
    from fraudgraph.detection import scoring

    monkeypatch.setattr(scoring, "_KEPT_WALK_ROWS", walk_from)
    X = rings(BUST_OUT, TAKEOVER, MULES)
    other = X.assign(size=X["size"] + 1)  # the same shape, other rows
    scorer = RingScorer(random_state=3).fit(X)
    fresh = RingScorer(random_state=3).fit(X)
    for asked in (X, other, other, X):
        fresh._last_raw = None  # no rows remembered: walked every time
        assert np.array_equal(scorer.anomaly(asked), fresh.anomaly(asked))
    assert not np.array_equal(scorer.anomaly(X), scorer.anomaly(other))


def test_fraud_patterns_reach_suspend_and_households_stay_below_review():
    X = rings(BUST_OUT, TAKEOVER, MULES)
    scores = RingScorer(random_state=0).fit(X).score_samples(X)
    assert scores[:-3].max() < DEFAULT_TIERS["review"]
    assert (scores[-3:-1] >= DEFAULT_TIERS["suspend"]).all()  # bust-out, takeover
    assert scores[-1] >= DEFAULT_TIERS["review"]  # mules


def test_family_on_a_new_router_is_not_a_takeover():
    family = dict(TAKEOVER, size=4, max_address_cover=1.0)
    assert ring_evidence(pd.DataFrame([family]))["TAKEOVER_PATTERN"].iloc[0] == 0


def test_household_hit_by_a_shock_is_not_a_bust_out():
    # Opened together (roommates), maxed and late, but no burst of spending and not 90 days late.
    shocked = dict(
        BUST_OUT,
        spend_burst_share=0.0,
        severe_overdue_share=0.0,
        core_spend_burst_share=0.0,
        core_severe_overdue_share=0.0,
    )
    assert ring_evidence(pd.DataFrame([shocked]))["BUST_OUT_PATTERN"].iloc[0] == 0
    long_busted = dict(shocked, severe_overdue_share=0.8, core_severe_overdue_share=0.8)
    assert ring_evidence(pd.DataFrame([long_busted]))["BUST_OUT_PATTERN"].iloc[0] > 0.9


def test_confirmed_fraud_raises_a_ring_and_verified_legit_members_lower_it():
    plain = dict(HOUSEHOLD, strong_member_share=1.0, link_sync_share=1.0)
    X = rings(plain, dict(plain, known_fraud=1), dict(plain, known_legit=2))
    scores = RingScorer(random_state=0).fit(X).score_samples(X)
    assert scores[-2] >= DEFAULT_TIERS["review"] > scores[-3]
    assert scores[-1] < scores[-3]


def test_evidence_weights_are_validated_at_fit():
    with pytest.raises(ValueError, match="NOT_A_CODE"):
        RingScorer(evidence_weights={"NOT_A_CODE": 0.5}).fit(rings())
    with pytest.raises(ValueError, match="lack column"):
        RingScorer().fit(pd.DataFrame({"size": [2]}))


def account_frame(n=4):
    return pd.DataFrame(
        {
            "fraud_proximity": [0.0, 0.2, 0.0, 0.0][:n],
            "is_known_fraud": [False, False, True, False][:n],
            "ring_degree_share": [1.0, 1.0, 1.0, 0.1][:n],
            "n_ring_identifiers": [2, 2, 2, 1][:n],
            "on_shared_strong": [True, True, True, False][:n],
            "on_recombined_identity": [False] * n,
            "utilization": [0.99, 0.98, 0.5, 0.1][:n],
            "overdue_days": [30, 0, 0, 0][:n],
            "opened_with_ring": [True, True, True, False][:n],
            "n_recent_ring_identifiers": [0, 0, 0, 0][:n],
            "pass_through": [False] * n,
            "ring_payers": [0] * n,
            "ring_payees": [0] * n,
            "spend_burst": [0.5, 0.4, 0.0, 0.0][:n],
        }
    )


def test_account_scorer_conventions_and_pattern_fit():
    X = account_frame()
    scorer = AccountScorer(random_state=0)
    with pytest.raises(NotFittedError):
        scorer.score_samples(X, np.zeros(4))
    assert scorer.fit(X) is scorer and hasattr(scorer, "proximity_scale_")
    patterns = pd.DataFrame({"BUST_OUT_PATTERN": [1.0] * 4, "TAKEOVER_PATTERN": 0.0, "MULE_PATTERN": 0.0})
    scores = scorer.score_samples(X, np.full(4, 0.95), patterns)
    assert scores[0] >= 0.9  # opened with the ring and maxed: takes the ring's score
    assert scores[2] == 1.0  # confirmed fraud
    assert scores[3] < DEFAULT_TIERS["review"]  # glued-on neighbour who shows none of the pattern
    assert np.array_equal(scores, AccountScorer(random_state=0).fit(X).score_samples(X, np.full(4, 0.95), patterns))


def test_default_actions_follow_the_tiers():
    t = DEFAULT_TIERS
    scores = [0.0, t["monitor"] - 0.01, t["monitor"], t["review"], t["suspend"] - 0.01, t["suspend"], 1.0]
    actions = default_actions(pd.Series(scores, index=list("abcdefg")))
    assert actions.tolist() == ["none", "none", "monitor", "review", "review", "suspend", "suspend"]
    assert list(actions.index) == list("abcdefg")
    assert default_actions(np.array([0.6]), {"review": 0.7}).tolist() == ["none"]


def identity_world():
    """A mosaic of three (m0 and m1 share a national id but nothing else; m1 and m2 share a phone
    but give different national ids), a repeat customer (r0, r1: one person, every element the
    same), a household (h0-h2: address, landline, router IP; own national ids and e-mails) and
    forty unlinked customers."""
    at = pd.Timestamp("2026-01-01")
    rows = [
        ("m0", "national_id", "887-70-1419"),
        ("m0", "phone", "555-100-0001"),
        ("m0", "email", "ann@x.org"),
        ("m1", "national_id", "887-70-1419"),
        ("m1", "phone", "555-100-0002"),
        ("m1", "email", "bo@x.org"),
        ("m2", "national_id", "123-45-6789"),
        ("m2", "phone", "555-100-0002"),
        ("m2", "email", "cy@x.org"),
    ]
    for r in ("r0", "r1"):
        rows += [
            (r, "national_id", "222-33-4444"),
            (r, "phone", "555-200-0000"),
            (r, "email", "dee@x.org"),
            (r, "address", "1 Elm St"),
            (r, "device", "dev-r"),
        ]
    for i, h in enumerate(("h0", "h1", "h2")):
        rows += [
            (h, "address", "9 Oak Ave"),
            (h, "phone", "555-300-0000"),
            (h, "ip", "10.0.0.9"),
            (h, "national_id", f"300-00-000{i}"),
            (h, "email", f"{h}@y.org"),
        ]
    singles = [f"s{i}" for i in range(40)]
    for i, a in enumerate(singles):
        rows += [
            (a, "phone", f"555-900-{i:04d}"),
            (a, "email", f"{a}@z.org"),
            (a, "national_id", f"900-00-{i:04d}"),
        ]
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value"])
    links["key"] = links["value"].str.lower()
    links["first_seen"] = pd.NaT
    ids = sorted(set(links["account_id"]))
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": [at - pd.Timedelta(days=37 * i) for i in range(len(ids))],
            "credit_limit": np.nan,
            "balance": np.nan,
            "overdue_days": 0,
            "status": "active",
            "label": None,
            "properties": "{}",
        }
    )
    return accounts, links


def test_a_recombined_identity_mosaic_is_flagged_but_a_repeat_customer_and_a_household_are_not():
    accounts, links = identity_world()
    det = detect(accounts, links, None, seed=0)
    ring_of = det.ring_members.set_index("account_id")["ring_id"]
    rings = det.rings.set_index("ring_id")
    mosaic = rings.loc[ring_of["m0"]]
    assert ring_of["m1"] == ring_of["m2"] == ring_of["m0"] and mosaic["size"] == 3
    # Two kinds recombined across three accounts: suspend-level on this evidence alone.
    assert mosaic["score"] >= DEFAULT_TIERS["suspend"]
    top = mosaic["reasons"][0]
    assert top["code"] == "RECOMBINED_IDENTITY"
    assert "887-70-1419" in top["text"] and "each has its own" in top["text"]
    assert {"kind": "national_id", "key": "887-70-1419"}.items() <= top["evidence"]["identifiers"][0].items()
    scores = det.account_scores.set_index("account_id")["score"]
    assert (scores[["m0", "m1", "m2"]] >= DEFAULT_TIERS["review"]).all()
    for innocent in ("r0", "h0"):
        ring = rings.loc[ring_of[innocent]]
        assert ring["score"] < DEFAULT_TIERS["review"]
        assert "RECOMBINED_IDENTITY" not in [r["code"] for r in ring["reasons"]]
    assert (scores[["r0", "r1", "h0", "h1", "h2"]] < DEFAULT_TIERS["review"]).all()


def test_a_pair_on_one_national_id_with_nothing_else_in_common_reaches_suspend_on_its_own():
    pair = dict(
        HOUSEHOLD,
        size=2,
        recombined_identifiers=1,
        recombined_kinds=1,
        recombined_members=2,
        varied_kinds=1,
        varied_members=2,
        national_id_conflicts=2,
        national_id_holders=2,
        max_address_cover=0.0,
    )
    # One element differs and the other is unknown: as often one person with a new e-mail.
    changed_email = dict(pair, national_id_conflicts=1)
    # The same pair glued to six neighbours by a building's Wi-Fi: the evidence stays with the pair.
    glued = dict(pair, size=8)
    X = rings(pair, changed_email, glued)
    scores = RingScorer(random_state=0).fit(X).score_samples(X)
    assert scores[-3] >= DEFAULT_TIERS["suspend"]
    assert scores[:-3].max() < DEFAULT_TIERS["review"]
    # On their own evidence (weight 0.9) the other two stay below review; the glued pair has none.
    evidence = ring_evidence(X)["RECOMBINED_IDENTITY"].to_numpy()
    assert 0 < 0.9 * evidence[-2] < DEFAULT_TIERS["review"]
    assert evidence[-1] == 0 and evidence[:-3].max() == 0


# Before the loss: a crowd of new accounts on one card and one address, each of which spent half
# its line within a week; nobody is late yet and nobody is labelled.
SLEEPER = dict(
    HOUSEHOLD,
    size=20,
    strong_member_share=1.0,
    max_instrument_holders=20,
    opened_together_share=1.0,
    created_span_days=10.0,
    median_age_days=20.0,
    link_sync_share=1.0,
    mean_utilization=0.6,
    spend_burst_share=1.0,
    core_size=20,
    core_spend_burst_share=1.0,
    core_median_age_days=20.0,
    exposure=60000.0,
)
# An employer's card: thirty staff who joined over seven years, ordinary spending.
CORPORATE_CARD = dict(
    HOUSEHOLD,
    size=30,
    strong_member_share=1.0,
    max_instrument_holders=30,
    opened_together_share=0.1,
    created_span_days=2600.0,
    median_age_days=800.0,
    exposure=90000.0,
)
# Students who moved in at the start of term: opened together, one address and one Wi-Fi, a few
# of them spent a lot in their first week; no device, card or bank account in common.
STUDENT_HOUSE = dict(
    HOUSEHOLD,
    size=12,
    strong_member_share=0.0,
    opened_together_share=1.0,
    created_span_days=12.0,
    median_age_days=60.0,
    mean_utilization=0.55,
    spend_burst_share=0.5,
    core_size=12,
    core_spend_burst_share=0.5,
    core_median_age_days=60.0,
    exposure=30000.0,
)


def test_a_ring_that_has_not_defaulted_yet_is_acted_on_before_the_loss():
    frame = rings(SLEEPER, CORPORATE_CARD, STUDENT_HOUSE, dict(HOUSEHOLD, max_instrument_holders=3))
    scores = RingScorer(random_state=0).fit(frame).score_samples(frame)
    sleeper, corporate, students, family_card = scores[-4:]
    assert sleeper >= DEFAULT_TIERS["suspend"]
    for innocent in (corporate, students, family_card):
        assert innocent < DEFAULT_TIERS["review"]
    ev = ring_evidence(frame)
    assert ev["INSTRUMENT_CROWD"].iloc[-4] == 1.0 and ev["SPENDING_TOGETHER"].iloc[-4] > 0.9
    assert ev["INSTRUMENT_CROWD"].iloc[-3] == 0.0  # opened over years: an institution
    assert ev["SPENDING_TOGETHER"].iloc[-2] == 0.0  # no strong identifier in common


def test_identity_evidence_alone_reaches_review_and_money_raises_it():
    """A crowd on one card with no spending seen yet reaches review; the same crowd spending in
    a burst reaches suspend; the burst without transactions to show it is not invented."""
    quiet = dict(SLEEPER, spend_burst_share=0.0, core_spend_burst_share=0.0, mean_utilization=0.1)
    no_transactions = dict(SLEEPER, spend_burst_share=np.nan, core_spend_burst_share=np.nan)
    frame = rings(quiet, SLEEPER, no_transactions)
    scores = RingScorer(random_state=0).fit(frame).score_samples(frame)
    assert DEFAULT_TIERS["review"] <= scores[-3] < scores[-2]
    assert scores[-2] >= DEFAULT_TIERS["suspend"]
    assert ring_evidence(frame)["SPENDING_TOGETHER"].iloc[-1] == 0.0
    assert scores[-1] >= DEFAULT_TIERS["review"]


def test_two_of_three_identity_elements_alike_and_the_third_different_is_worth_a_review():
    """One person holding credit under recombined details (the PaySim first-party pattern): p0 and
    p1 give the same national id and phone but different e-mails, with no home or device in
    common. The same pair living at one address is a repeat customer who changed e-mail."""
    accounts, links = identity_world()
    extra = [
        ("p0", "national_id", "555-44-3333"),
        ("p0", "phone", "555-400-0000"),
        ("p0", "email", "pat@q.org"),
        ("p1", "national_id", "555-44-3333"),
        ("p1", "phone", "555-400-0000"),
        ("p1", "email", "pat.new@q.org"),
        ("q0", "national_id", "666-44-3333"),
        ("q0", "phone", "555-500-0000"),
        ("q0", "email", "quin@q.org"),
        ("q0", "address", "7 Pine Rd"),
        ("q1", "national_id", "666-44-3333"),
        ("q1", "phone", "555-500-0000"),
        ("q1", "email", "quin.new@q.org"),
        ("q1", "address", "7 Pine Rd"),
    ]
    more = pd.DataFrame(extra, columns=["account_id", "kind", "value"])
    links = pd.concat([links, more.assign(key=more["value"].str.lower(), first_seen=pd.NaT)], ignore_index=True)
    new = accounts.iloc[:4].assign(account_id=["p0", "p1", "q0", "q1"])
    det = detect(pd.concat([accounts, new], ignore_index=True), links, None, seed=0)
    ring_of = det.ring_members.set_index("account_id")["ring_id"]
    rings = det.rings.set_index("ring_id")
    pair = rings.loc[ring_of["p0"]]
    assert ring_of["p1"] == ring_of["p0"] and pair["size"] == 2
    assert pair["score"] >= DEFAULT_TIERS["review"]
    assert "RECOMBINED_IDENTITY" in [r["code"] for r in pair["reasons"]]
    assert rings.loc[ring_of["q0"]]["score"] < DEFAULT_TIERS["review"]
