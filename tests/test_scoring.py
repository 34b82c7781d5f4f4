"""Scorers follow scikit-learn conventions; rule evidence ranks fraud patterns above innocent groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from fraudgraph.scoring import DEFAULT_TIERS, AccountScorer, RingScorer, default_actions, ring_evidence

# An ordinary household: two to four people at one address, opened years apart, normal credit.
HOUSEHOLD = dict(
    size=3, density=1.0, strong_member_share=0.3, opened_together_share=0.33, created_span_days=900.0,
    link_sync_share=0.0, recent_link_old_account_share=0.0, new_shared_payout_share=0.0, mean_utilization=0.25,
    maxed_share=0.0, overdue_share=0.0, severe_overdue_share=0.0, core_size=1, core_maxed_share=0.0,
    core_overdue_share=0.0, core_severe_overdue_share=0.0, core_spend_burst_share=0.0, core_median_age_days=1500.0, pass_through_share=0.0, fan_in_per_member=0.0,
    spend_burst_share=0.0, prior_link_share=1.0, median_age_days=1500.0, chargeback_member_share=0.0,
    identifier_crowd=1.0, max_address_cover=1.0, n_collectors=0, known_fraud=0, known_legit=0,
)
BUST_OUT = dict(HOUSEHOLD, size=6, strong_member_share=1.0, opened_together_share=1.0, created_span_days=4.0,
                link_sync_share=1.0, mean_utilization=0.98, maxed_share=1.0, overdue_share=0.8,
                spend_burst_share=0.6, median_age_days=200.0, prior_link_share=1.0, core_size=6,
                core_maxed_share=1.0, core_overdue_share=0.8, core_spend_burst_share=0.6, core_median_age_days=200.0)
TAKEOVER = dict(HOUSEHOLD, size=8, strong_member_share=1.0, link_sync_share=1.0, recent_link_old_account_share=0.9,
                new_shared_payout_share=0.9, max_address_cover=0.0, prior_link_share=0.0, median_age_days=2000.0)
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
    shocked = dict(BUST_OUT, spend_burst_share=0.0, severe_overdue_share=0.0, core_spend_burst_share=0.0,
                   core_severe_overdue_share=0.0)
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
    return pd.DataFrame({
        "fraud_proximity": [0.0, 0.2, 0.0, 0.0][:n], "is_known_fraud": [False, False, True, False][:n],
        "ring_degree_share": [1.0, 1.0, 1.0, 0.1][:n], "n_ring_identifiers": [2, 2, 2, 1][:n],
        "on_shared_strong": [True, True, True, False][:n], "utilization": [0.99, 0.98, 0.5, 0.1][:n],
        "overdue_days": [30, 0, 0, 0][:n], "opened_with_ring": [True, True, True, False][:n],
        "n_recent_ring_identifiers": [0, 0, 0, 0][:n], "pass_through": [False] * n, "ring_payers": [0] * n,
        "ring_payees": [0] * n, "spend_burst": [0.5, 0.4, 0.0, 0.0][:n],
    })


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
