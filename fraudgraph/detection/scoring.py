"""Ring and account scorers (scikit-learn conventions), reason codes, default action tiers.

A ring's score combines rule evidence (each in [0, 1], noisy-OR with per-code weights), an
IsolationForest anomaly score over ring features, and known outcomes (confirmed fraud raises a
ring, verified-legit members lower it). An account's score is its ring's score scaled by how
tightly it is tied to the ring, plus its own evidence (confirmed fraud, proximity to fraud).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.utils.validation import check_is_fitted

from fraudgraph.detection.features import group_lists

# Score thresholds of the default actions (a score at or above the threshold gets the action).
# Calibrated on generated worlds (benchmarks/quality.py); examples/policy.toml uses the same.
# Review at 0.5 sits above what single signs can reach (RingScorer.generic_cap); suspend at 0.7
# is where, on generated worlds, precision stays >= 0.99 while recall is within 1 point of review.
DEFAULT_TIERS: dict[str, float] = {"monitor": 0.3, "review": 0.5, "suspend": 0.7}

# Ring evidence codes and how much each, fully present, says (noisy-OR weights within its class:
# patterns and confirmed fraud; single signs, which are capped by RingScorer.generic_cap).
# The *_PATTERN codes are conjunctions of the plain ones: one sign alone is common among innocent
# groups (couples open accounts the same week, families share a card), the combination is not.
DEFAULT_EVIDENCE_WEIGHTS: dict[str, float] = {
    "BUST_OUT_PATTERN": 0.95,  # opened together, linked together, then maxed / past due
    "TAKEOVER_PATTERN": 0.95,  # long-standing accounts picking up the same new identifiers
    "MULE_PATTERN": 0.9,  # money in from many, passed on to the same collectors
    "RECOMBINED_IDENTITY": 0.9,  # identity elements shared in a mosaic: synthetic identities
    "KNOWN_FRAUD_IN_RING": 0.6,
    "SHARED_STRONG_IDENTIFIER": 0.3,
    "LINKED_TOGETHER": 0.3,
    "OPENED_TOGETHER": 0.3,
    "RECENT_LINK_BURST": 0.4,
    "NEW_SHARED_PAYOUT": 0.4,
    "MAXED_CREDIT": 0.4,
    "OVERDUE_TOGETHER": 0.3,
    "CHARGEBACKS": 0.4,
    "PASS_THROUGH_MONEY": 0.5,
}

PATTERN_CODES = frozenset(
    {
        "BUST_OUT_PATTERN",
        "TAKEOVER_PATTERN",
        "MULE_PATTERN",
        "RECOMBINED_IDENTITY",
        "KNOWN_FRAUD_IN_RING",
    }
)
# The pattern codes whose presence in a member itself decides how much of the ring's score it
# takes (AccountScorer.pattern_fit).
ACCOUNT_PATTERN_CODES = ("BUST_OUT_PATTERN", "TAKEOVER_PATTERN", "MULE_PATTERN", "KNOWN_FRAUD_IN_RING")
# Ring features RECOMBINED_IDENTITY reads (features._recombined_features).
RECOMBINED_FEATURES = (
    "recombined_identifiers",
    "recombined_kinds",
    "shared_personal_kinds",
    "recombined_members",
    "varied_kinds",
    "varied_members",
    "national_id_conflicts",
    "national_id_holders",
    "email_across_ids",
    "phone_across_ids",
    "phone_across_ids_holders",
)

# Ring features the IsolationForest sees (log-scaled where heavy-tailed).
ANOMALY_FEATURES = (
    "size",
    "density",
    "strong_member_share",
    "opened_together_share",
    "created_span_days",
    "link_sync_share",
    "recent_link_old_account_share",
    "new_shared_payout_share",
    "mean_utilization",
    "maxed_share",
    "overdue_share",
    "pass_through_share",
    "fan_in_per_member",
    "spend_burst_share",
    "prior_link_share",
    "median_age_days",
    "core_size",
    "core_maxed_share",
    "chargeback_member_share",
    "identifier_crowd",
)
_LOG_FEATURES = {"size", "created_span_days", "fan_in_per_member", "identifier_crowd", "median_age_days"}


def _clip01(x) -> np.ndarray:
    return np.clip(np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0), 0.0, 1.0)


def _ramp(x, low: float, high: float) -> np.ndarray:
    """0 at or below ``low``, 1 at or above ``high``, linear between."""
    return _clip01((np.nan_to_num(np.asarray(x, dtype=np.float64), nan=low) - low) / (high - low))


def ring_evidence(features: pd.DataFrame) -> pd.DataFrame:
    """Strength in [0, 1] of each evidence code for each ring (rows as in ``features``)."""
    f = features
    size = f["size"].to_numpy(np.float64)
    # Two accounts prove less than a crowd: a pair counts a third for single signs, and 70% for
    # whole patterns (a pair opened together, linked together and busted together is rare).
    group = _ramp(size, 1.5, 3)
    pattern_group = np.where(size >= 3, 1.0, 0.7)
    opened = _ramp(f["opened_together_share"], 0.5, 0.9)
    synced = _ramp(f["link_sync_share"], 0.4, 0.8)
    # In a pair, both accounts must be long-standing ones that just picked up the shared identifiers.
    burst = np.where(
        size >= 3,
        _ramp(f["recent_link_old_account_share"], 0.3, 0.7),
        _ramp(f["recent_link_old_account_share"], 0.75, 1.0),
    )
    payout = _ramp(f["new_shared_payout_share"], 0.3, 0.7)
    maxed = _ramp(f["maxed_share"], 0.3, 0.7)
    overdue = _ramp(f["overdue_share"], 0.3, 0.7)
    chargebacks = _ramp(f["chargeback_member_share"], 0.2, 0.5)
    pass_through = _ramp(f["pass_through_share"], 0.25, 0.6)
    e = pd.DataFrame(index=f.index)
    e["SHARED_STRONG_IDENTIFIER"] = _clip01(f["strong_member_share"]) * group
    e["LINKED_TOGETHER"] = synced * group
    e["OPENED_TOGETHER"] = opened * group
    e["RECENT_LINK_BURST"] = _ramp(f["recent_link_old_account_share"], 0.3, 0.7) * group
    e["NEW_SHARED_PAYOUT"] = payout * group
    e["MAXED_CREDIT"] = maxed * group
    e["OVERDUE_TOGETHER"] = overdue * group
    e["CHARGEBACKS"] = chargebacks * group
    e["PASS_THROUGH_MONEY"] = pass_through * group
    # Bust-out, judged on the ring's opening core (the most members opened within a few weeks),
    # so a farm glued to a neighbour's family by a shared Wi-Fi still shows.
    core = f["core_size"].to_numpy(np.float64)
    core_share = core / np.maximum(size, 1)
    # A bust-out maxes every line: most of the core maxed, three or more of them. Honest groups
    # (roommates who opened together) rarely have more than one member at the limit.
    most_maxed = _ramp(f["core_maxed_share"], 0.6, 0.95)
    several = _ramp(f["core_maxed_share"].to_numpy(np.float64) * core, 1, 3)
    core_overdue = _ramp(f["core_overdue_share"], 0.3, 0.7)
    # The bust itself: lines maxed by a burst of purchases within a week. A household hit by a
    # job loss is maxed and late too, but got there slowly. Not every member's burst is visible,
    # so half the core bursting is enough. A bust older than the transaction extract shows
    # as lines maxed and 90+ days past due together, which a recent shock does not reach.
    # Without transactions, balances and arrears have to do.
    burst_share = f["core_spend_burst_share"].to_numpy(np.float64)
    no_tx = np.isnan(burst_share)
    spent = np.where(no_tx, 1.0, _ramp(burst_share, 0.25, 0.5))
    written_off = _ramp(f["core_severe_overdue_share"], 0.3, 0.6)
    credit = np.maximum(most_maxed, core_overdue) * several * np.maximum(spent, written_off)
    # A core of two must both be maxed, and both be 90+ days late or both have spent in a burst
    # (both merely late, when there are no transactions to tell).
    both_maxed = _ramp(f["core_maxed_share"], 0.75, 1.0)
    both_spent = np.where(no_tx, 0.0, _ramp(burst_share, 0.75, 1.0))
    both_late = np.where(
        no_tx, _ramp(f["core_overdue_share"], 0.75, 1.0), _ramp(f["core_severe_overdue_share"], 0.75, 1.0)
    )
    pair_credit = np.minimum(both_maxed, np.maximum(both_late, both_spent))
    credit = np.where(core >= 3, credit, np.where(core == 2, pair_credit, 0.0))
    core_group = np.where(core >= 3, 1.0, 0.7)
    # Bust-outs cash in within a year or two of opening; accounts opened together six years ago
    # and now behind on payments are people in trouble, not a farm.
    young = 1.0 - _ramp(f["core_median_age_days"], 730, 1460)
    e["BUST_OUT_PATTERN"] = (
        np.maximum(credit, chargebacks * (core >= 3)) * young * core_group * _ramp(core_share, 0.1, 0.3)
    )
    # Co-residents picking up a new router or joint account together are a family, not a takeover.
    apart = 1.0 - _ramp(f["max_address_cover"], 0.3, 0.7)
    # A takeover plants strong identifiers (a device, a payout account); a shared IP alone is a
    # family switching internet provider.
    planted = _ramp(f["strong_member_share"], 0.3, 0.7)
    e["TAKEOVER_PATTERN"] = burst * np.maximum(payout, synced * planted) * apart * pattern_group
    # Passing on money from many payers is rare among honest customers; paying it to the same
    # collector inside the ring completes the picture.
    collector = _ramp(f["n_collectors"], 0, 1)
    # One landlord forwarding rent to a property manager is one pass-through account; a network
    # has several.
    several_mules = _ramp(f["pass_through_share"].to_numpy(np.float64) * size, 1, 2)
    e["MULE_PATTERN"] = pass_through * several_mules * (0.75 + 0.25 * collector) * pattern_group
    e["RECOMBINED_IDENTITY"] = recombined_identity_evidence(f)
    # One confirmed account convicts a small ring; in a big cluster it may be one account glued
    # to a crowd of neighbours, so it needs company.
    e["KNOWN_FRAUD_IN_RING"] = _clip01(f["known_fraud"].to_numpy(np.float64) / np.maximum(1.0, 0.15 * size))
    return e


def recombined_identity_evidence(features: pd.DataFrame) -> np.ndarray:
    """Strength in [0, 1] of the recombined-identity (synthetic identity) evidence of each ring.

    Unlike the behaviour patterns this needs no credit data, transactions or dates: it reads only
    who shares which identity elements (features._recombined_features). The strengths, times the
    code's weight 0.9, give the tier the ring reaches on this evidence alone:

    - a national id whose holders disagree on phone or e-mail (more than they agree, see
      features.identity_conflicts): 0.8 (suspend) when both differ: the classic SSN misuse,
      nothing else matches; 1.0 when three or more accounts hold it; 0.45 (below review) for a
      pair where one differs and the other is unknown: on generated worlds that is a repeat
      customer with a new e-mail and a typo in the address as often as not.
    - an e-mail shared by holders of different national ids: 0.6 (review). E-mail boxes are
      personal and not reissued; a family box comes with the family's shared address, which
      makes it no recombination.
    - a phone shared by holders of different national ids: 0 on its own. Carriers recycle
      numbers and family phone plans span households at different addresses: on generated
      worlds a 0.3 here lifted such families to 0.48, and counting two such phones, or one
      phone behind three accounts, as a pattern put 26 innocent accounts per 100,000 at review.
      A phone still counts as a kind of the mosaic below.
    - a mosaic, two or more kinds of recombined element (A and B share a national id, B and C a
      phone, ...): 1.0 with three or more members on them (suspend), 0.7 for a pair (review).
      Innocent groups recombine one kind at most: a landline or a recycled number.
    The strength is scaled down when the accounts on varied elements are under half the ring
    (full at half, none at a quarter).
    - three or more accounts, a recombined national id or e-mail, and links over two or more
      personal kinds (A and C share a national id and e-mail, A and B an e-mail but not the
      national id): 0.7 (review). The same for three or more accounts on varied elements of two
      or more kinds (A and C one national id on two phones, A and B one phone for two national
      ids): one varied element is a person who changed phone, two kinds of them are a mosaic.
    """
    f = features
    conflicts = f["national_id_conflicts"].to_numpy(np.float64)
    holders = f["national_id_holders"].to_numpy(np.float64)
    misuse = np.where(conflicts <= 0, 0.0, np.where(holders >= 3, 1.0, np.where(conflicts >= 2, 0.8, 0.45)))
    email = np.where(f["email_across_ids"].to_numpy(np.float64) > 0, 0.6, 0.0)
    several_kinds = f["recombined_kinds"].to_numpy(np.float64) >= 2
    crowd = f["recombined_members"].to_numpy(np.float64) >= 3
    mosaic = np.where(several_kinds, np.where(crowd, 1.0, 0.7), 0.0)
    not_phone = f["recombined_identifiers"].to_numpy(np.float64) - f["phone_across_ids"].to_numpy(np.float64)
    partial = (
        (not_phone >= 1)
        & (f["size"].to_numpy(np.float64) >= 3)
        & (f["shared_personal_kinds"].to_numpy(np.float64) >= 2)
    )
    # Varied elements over two kinds across three accounts: the same national id on two accounts
    # with different phones, one of which another identity uses too (A and C one identity on
    # two phones, A and B one phone for two identities).
    varied = (
        (f["size"].to_numpy(np.float64) >= 3)
        & (f["varied_kinds"].to_numpy(np.float64) >= 2)
        & (f["varied_members"].to_numpy(np.float64) >= 3)
    )
    strength = np.maximum.reduce([misuse, email, mosaic, np.where(partial | varied, 0.7, 0.0)])
    # A recombined pair glued to a crowd of neighbours (a building's Wi-Fi) convicts the pair, not
    # the crowd: the evidence fades when the accounts on varied elements are under half the ring.
    coverage = f["varied_members"].to_numpy(np.float64) / np.maximum(f["size"].to_numpy(np.float64), 1)
    return strength * _ramp(coverage, 0.25, 0.5)


def _anomaly_matrix(features: pd.DataFrame) -> np.ndarray:
    cols = []
    for name in ANOMALY_FEATURES:
        v = np.nan_to_num(features[name].to_numpy(np.float64), nan=0.0)
        cols.append(np.log1p(np.maximum(v, 0)) if name in _LOG_FEATURES else v)
    return np.column_stack(cols) if cols else np.zeros((len(features), 0))


class RingScorer(BaseEstimator):
    """Score candidate rings in [0, 1].

    Parameters
    ----------
    n_estimators : trees of the IsolationForest.
    anomaly_weight : how much a fully anomalous ring adds on its own (noisy-OR weight).
    evidence_weights : overrides of ``DEFAULT_EVIDENCE_WEIGHTS`` (code -> weight in [0, 1]).
    generic_cap : the highest score single signs and anomaly reach without a pattern or confirmed
        fraud (keep it below the review tier).
    legit_damping : how much a ring of verified-legit accounts (and no confirmed fraud) is
        lowered: the score is multiplied by ``1 - legit_damping * min(1, 2 * legit share)``.
    random_state : seed of the IsolationForest.

    ``X`` is the ring feature frame of ``features.ring_features`` (one row per candidate ring).
    """

    def __init__(
        self,
        n_estimators: int = 200,
        anomaly_weight: float = 0.5,
        evidence_weights: dict[str, float] | None = None,
        legit_damping: float = 0.6,
        generic_cap: float = 0.45,
        random_state: int | None = None,
    ):
        self.n_estimators = n_estimators
        self.anomaly_weight = anomaly_weight
        self.evidence_weights = evidence_weights
        self.legit_damping = legit_damping
        self.generic_cap = generic_cap
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y=None) -> RingScorer:
        """Learn what ordinary candidate rings look like (unsupervised); returns self."""
        weights = dict(DEFAULT_EVIDENCE_WEIGHTS)
        unknown = set(self.evidence_weights or {}) - set(weights)
        if unknown:
            raise ValueError(
                f"RingScorer.evidence_weights: unknown code(s) {sorted(unknown)}; expected some of {sorted(weights)}"
            )
        weights.update(self.evidence_weights or {})
        bad = {k: v for k, v in weights.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"RingScorer.evidence_weights: weights must be in [0, 1], got {bad}")
        if not 0 <= self.anomaly_weight <= 1:
            raise ValueError(f"RingScorer.anomaly_weight must be in [0, 1], got {self.anomaly_weight!r}")
        missing = [
            c for c in ANOMALY_FEATURES + RECOMBINED_FEATURES + ("known_fraud", "known_legit") if c not in X.columns
        ]
        if missing:
            raise ValueError(f"RingScorer.fit: ring features lack column(s) {missing}")
        self.evidence_weights_ = weights
        self.feature_names_in_ = np.asarray(ANOMALY_FEATURES, dtype=object)
        matrix = _anomaly_matrix(X)
        self.n_features_in_ = matrix.shape[1]
        if len(X) >= 8:
            self.isolation_forest_ = IsolationForest(
                n_estimators=self.n_estimators, random_state=self.random_state
            ).fit(matrix)
            raw = -self.isolation_forest_.score_samples(matrix)
            # Map the typical ring to 0 and the most unusual 1% to 1.
            self.anomaly_low_, self.anomaly_high_ = np.quantile(raw, [0.5, 0.99])
        else:
            self.isolation_forest_ = None  # too few rings to say what is ordinary
            self.anomaly_low_, self.anomaly_high_ = 0.0, 1.0
        return self

    def anomaly(self, X: pd.DataFrame) -> np.ndarray:
        """IsolationForest anomaly in [0, 1] (0 = as ordinary as the median ring)."""
        check_is_fitted(self, "evidence_weights_")
        if self.isolation_forest_ is None or len(X) == 0:
            return np.zeros(len(X))
        raw = -self.isolation_forest_.score_samples(_anomaly_matrix(X))
        span = max(self.anomaly_high_ - self.anomaly_low_, 1e-9)
        return _clip01((raw - self.anomaly_low_) / span)

    def evidence(self, X: pd.DataFrame) -> pd.DataFrame:
        """Rule evidence strengths per code, in [0, 1] (before weighting)."""
        check_is_fitted(self, "evidence_weights_")
        return ring_evidence(X)

    def score_samples(self, X: pd.DataFrame) -> np.ndarray:
        """Ring scores in [0, 1], deterministic for a fitted scorer."""
        check_is_fitted(self, "evidence_weights_")
        if len(X) == 0:
            return np.zeros(0)
        ev = self.evidence(X)
        strong_keep = np.ones(len(X))
        weak_keep = np.ones(len(X))
        for code, w in self.evidence_weights_.items():
            if code in PATTERN_CODES:
                strong_keep *= 1.0 - w * ev[code].to_numpy()
            else:
                weak_keep *= 1.0 - w * ev[code].to_numpy()
        # Single signs and the anomaly score can lift a ring at most to ``generic_cap``: on their
        # own they are common among families and colleagues. Patterns and confirmed fraud can
        # carry a ring to the top.
        weak_keep *= 1.0 - self.anomaly_weight * self.anomaly(X)
        strong = 1.0 - strong_keep
        score = strong + (1.0 - strong) * self.generic_cap * (1.0 - weak_keep)
        size = np.maximum(X["size"].to_numpy(np.float64), 1)
        legit_share = X["known_legit"].to_numpy(np.float64) / size
        no_fraud = X["known_fraud"].to_numpy() == 0
        damp = np.where(no_fraud, 1.0 - self.legit_damping * np.minimum(1.0, 2.0 * legit_share), 1.0)
        return _clip01(score * damp)


class AccountScorer(BaseEstimator):
    """Score every account in [0, 1] from its ring's score, how well it fits the ring's pattern
    and its own evidence.

    A member that shows the ring's pattern itself (opened with the others and maxed out, picked
    up the ring's new identifiers, passes money on to or collects from other members) takes the
    ring's score; a member that does not - a neighbour glued on by one shared address - is
    scored ``unfit_factor`` times lower. Confirmed fraud scores 1.

    Parameters
    ----------
    unfit_factor : share of the ring score kept by a member that fits none of the ring's patterns.
    loose_tie_factor : the same for rings scored without a pattern, for a member tied to the
        ring by a single weak link.
    proximity_weight : noisy-OR weight of closeness to confirmed fraud (personalized PageRank).
    random_state : kept for the estimator convention (the scorer itself is deterministic).
    """

    def __init__(
        self,
        unfit_factor: float = 0.4,
        loose_tie_factor: float = 0.55,
        proximity_weight: float = 0.3,
        random_state: int | None = None,
    ):
        self.unfit_factor = unfit_factor
        self.loose_tie_factor = loose_tie_factor
        self.proximity_weight = proximity_weight
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y=None) -> AccountScorer:
        """Learn the scale of fraud proximity among accounts that are not confirmed fraud."""
        for name in ("unfit_factor", "loose_tie_factor", "proximity_weight"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"AccountScorer.{name} must be in [0, 1], got {v!r}")
        missing = [c for c in ACCOUNT_FEATURES if c not in X.columns]
        if missing:
            raise ValueError(f"AccountScorer.fit: account features lack column(s) {missing}")
        prox = X["fraud_proximity"].to_numpy(np.float64)[~X["is_known_fraud"].to_numpy(bool)]
        prox = prox[prox > 0]
        # Scale so the 99th percentile of walk mass on accounts that are not seeds reads as "close".
        self.proximity_scale_ = float(np.quantile(prox, 0.99)) if len(prox) else 1.0
        self.n_features_in_ = X.shape[1]
        return self

    def tie(self, X: pd.DataFrame) -> np.ndarray:
        """How tightly each account belongs to its ring: 1 = core member, down to loose_tie_factor."""
        check_is_fitted(self, "proximity_scale_")
        core = (
            X["on_shared_strong"].to_numpy(bool)
            | X["on_recombined_identity"].to_numpy(bool)
            | (X["n_ring_identifiers"].to_numpy() >= 2)
            | (X["ring_degree_share"].to_numpy(np.float64) >= 0.5)
        )
        return np.where(
            core, 1.0, self.loose_tie_factor + (1 - self.loose_tie_factor) * _clip01(X["ring_degree_share"])
        )

    def pattern_fit(self, X: pd.DataFrame, ring_patterns: pd.DataFrame) -> np.ndarray:
        """Per account, in [0, 1]: how much it shows its ring's patterns itself (NaN = ring has none).

        ring_patterns: per account, the BUST_OUT_PATTERN, TAKEOVER_PATTERN, MULE_PATTERN and
        (optionally) KNOWN_FRAUD_IN_RING evidence of its ring (0 outside rings).
        """
        check_is_fitted(self, "proximity_scale_")
        util = np.nan_to_num(X["utilization"].to_numpy(np.float64))
        collects = X["ring_payers"].to_numpy() >= 2
        own = {
            "BUST_OUT_PATTERN": X["opened_with_ring"].to_numpy(bool)
            & (
                (util >= 0.9)
                | (X["overdue_days"].to_numpy() > 0)
                | (np.nan_to_num(X["spend_burst"].to_numpy(np.float64)) >= 0.3)
            ),
            "TAKEOVER_PATTERN": (X["n_recent_ring_identifiers"].to_numpy() > 0) | collects,
            # A mule paid by only two victims is no pass-through by itself, but it still pays
            # the ring's collector.
            "MULE_PATTERN": X["pass_through"].to_numpy(bool) | collects | (X["ring_payees"].to_numpy() > 0),
        }
        # In a ring convicted by a confirmed fraud account, closeness to that account is the fit.
        if "KNOWN_FRAUD_IN_RING" in ring_patterns:
            own["KNOWN_FRAUD_IN_RING"] = self.proximity(X)
        weight = np.zeros(len(X))
        fit = np.zeros(len(X))
        for code, shows in own.items():
            e = ring_patterns[code].to_numpy(np.float64)
            weight += e
            fit += e * shows
        return np.where(weight > 0.1, fit / np.maximum(weight, 1e-12), np.nan)

    def proximity(self, X: pd.DataFrame) -> np.ndarray:
        """Closeness to confirmed fraud in [0, 1] (personalized PageRank over the learned scale)."""
        check_is_fitted(self, "proximity_scale_")
        return _clip01(X["fraud_proximity"].to_numpy(np.float64) / max(self.proximity_scale_, 1e-12))

    def score_samples(
        self, X: pd.DataFrame, ring_score: np.ndarray, ring_patterns: pd.DataFrame | None = None
    ) -> np.ndarray:
        """Account scores in [0, 1]; ``ring_score`` is the score of each account's ring (0 if none)."""
        check_is_fitted(self, "proximity_scale_")
        ring_score = np.asarray(ring_score, dtype=np.float64)
        factor = self.tie(X)
        if ring_patterns is not None:
            fit = self.pattern_fit(X, ring_patterns)
            fitted = ~np.isnan(fit)
            factor = np.where(fitted, self.unfit_factor + (1 - self.unfit_factor) * np.nan_to_num(fit), factor)
        base = ring_score * factor
        prox = _clip01(X["fraud_proximity"].to_numpy(np.float64) / max(self.proximity_scale_, 1e-12))
        score = 1.0 - (1.0 - base) * (1.0 - self.proximity_weight * prox * (base > 0))
        score = np.where(X["is_known_fraud"].to_numpy(bool), 1.0, score)
        return _clip01(score)


ACCOUNT_FEATURES = (
    "fraud_proximity",
    "is_known_fraud",
    "ring_degree_share",
    "n_ring_identifiers",
    "on_shared_strong",
    "on_recombined_identity",
    "utilization",
    "overdue_days",
    "opened_with_ring",
    "n_recent_ring_identifiers",
    "pass_through",
    "ring_payers",
    "ring_payees",
    "spend_burst",
)


def default_actions(scores: pd.Series | np.ndarray, tiers: dict[str, float] | None = None) -> pd.Series:
    """none / monitor / review / suspend from scores, by the tier thresholds (default ``DEFAULT_TIERS``)."""
    tiers = dict(DEFAULT_TIERS if tiers is None else tiers)
    order = sorted(tiers.items(), key=lambda kv: kv[1])
    s = pd.Series(scores) if not isinstance(scores, pd.Series) else scores
    values = s.to_numpy(np.float64)
    out = np.full(len(values), "none", dtype=object)
    for action, threshold in order:
        out[values >= threshold] = action
    return pd.Series(out, index=s.index, name="action")


# ---------------------------------------------------------------- reason codes

# Shared identifiers a person should check first: strong kinds before medium before weak.
_KIND_ORDER = {
    "device": 0,
    "card": 1,
    "bank_account": 2,
    "national_id": 3,
    "phone": 4,
    "email": 5,
    "address": 6,
    "ip": 7,
}
REASON_THRESHOLD = 0.3  # evidence strength from which a code is reported


def _reason(code: str, text: str, evidence: dict) -> dict:
    return {"code": code, "text": text, "evidence": evidence}


def _fmt_days(days: float) -> str:
    days = float(days)
    return f"{days:.0f} day" + ("" if round(days) == 1 else "s")


_VERBS = {
    "device": "use",
    "card": "pay with",
    "bank_account": "pay out to",
    "national_id": "give",
    "address": "live at",
    "phone": "give",
    "email": "give",
    "ip": "connect from",
}


def ring_reasons(
    features: pd.DataFrame,
    evidence: pd.DataFrame,
    anomaly: np.ndarray,
    identifiers: pd.DataFrame,
    known_fraud_ids: pd.Series,
    top_payees: pd.Series,
    *,
    burst_days: float,
    max_identifiers: int = 3,
) -> list[list[dict]]:
    """Reasons per ring (rows of ``features``, whose index is the cluster number), strongest first.

    identifiers: shared identifiers with cluster, kind, key, n_members, n_accounts, weight and
        values (raw spellings); known_fraud_ids: cluster -> list of confirmed fraud account ids;
        top_payees: cluster -> list of account ids paid by several members.
    Built code by code over the rings where each code fires, so the cost follows the number of
    reasons, not rings x codes.
    """
    f = features
    k = len(f)
    row_of_cluster = pd.Series(np.arange(k), index=f.index)
    collected: list[list[tuple[float, dict]]] = [[] for _ in range(k)]
    size = f["size"].to_numpy()

    if len(identifiers):
        ident = identifiers.assign(order=identifiers["kind"].map(_KIND_ORDER).fillna(9).to_numpy())
        ident = ident.sort_values(["cluster", "order", "n_members", "key"], ascending=[True, True, False, True])
        top = ident.groupby("cluster", sort=False).head(max_identifiers)
        rows = row_of_cluster.reindex(top["cluster"]).to_numpy()
        for row, kind, key, n_mem, n_acc, weight, values in zip(
            rows,
            top["kind"].to_numpy(),
            top["key"].to_numpy(),
            top["n_members"].to_numpy(),
            top["n_accounts"].to_numpy(),
            top["weight"].to_numpy(),
            top["values"].to_numpy(),
        ):
            if row < 0 or np.isnan(row):
                continue
            text = f"{n_mem} accounts {_VERBS.get(kind, 'share')} {kind.replace('_', ' ')} {key}"
            if n_acc > n_mem:
                text += f" ({n_acc} accounts in all)"
            strength = 0.6 if kind in ("device", "card", "bank_account", "national_id") else 0.5
            collected[int(row)].append(
                (
                    strength,
                    _reason(
                        f"SHARED_{kind.upper()}",
                        text,
                        {
                            "kind": kind,
                            "key": key,
                            "values": list(values) if isinstance(values, (list, tuple, np.ndarray)) else [],
                            "n_members": int(n_mem),
                            "n_accounts": int(n_acc),
                            "weight": round(float(weight), 4),
                        },
                    ),
                )
            )

    def fire(code: str, threshold: float = REASON_THRESHOLD) -> np.ndarray:
        return np.flatnonzero(evidence[code].to_numpy() >= threshold)

    def col(name: str) -> np.ndarray:
        return f[name].to_numpy()

    clusters = f.index.to_numpy()
    kf = col("known_fraud")
    for r in np.flatnonzero(kf > 0):
        ids = list(known_fraud_ids.get(clusters[r], []))
        n = int(kf[r])
        collected[r].append(
            (
                2.0,
                _reason(
                    "KNOWN_FRAUD_IN_RING",
                    f"{n} confirmed fraud account{'s' if n != 1 else ''} in the ring",
                    {"account_ids": ids[:20], "n_known_fraud": n},
                ),
            )
        )
    e_open, span, together = (
        evidence["OPENED_TOGETHER"].to_numpy(),
        col("created_span_days"),
        col("opened_together_share"),
    )
    age = col("median_age_days")
    for r in fire("OPENED_TOGETHER"):
        n_t = int(round(together[r] * size[r]))
        window = span[r] if n_t == size[r] else None
        text = (
            f"{n_t} of {size[r]} accounts opened within {_fmt_days(window)}"
            if window is not None
            else f"{n_t} of {size[r]} accounts opened within a few weeks of each other"
        )
        collected[r].append(
            (
                e_open[r],
                _reason(
                    "OPENED_TOGETHER",
                    text,
                    {
                        "n_opened_together": n_t,
                        "created_span_days": round(float(span[r]), 1),
                        "median_age_days": round(float(age[r]), 1),
                    },
                ),
            )
        )
    e_burst, burst_share = evidence["RECENT_LINK_BURST"].to_numpy(), col("recent_link_old_account_share")
    for r in fire("RECENT_LINK_BURST"):
        n = int(round(burst_share[r] * size[r]))
        collected[r].append(
            (
                e_burst[r],
                _reason(
                    "RECENT_LINK_BURST",
                    f"{n} long-standing accounts picked up shared identifiers in the last {_fmt_days(burst_days)}",
                    {"n_accounts": n, "window_days": burst_days},
                ),
            )
        )
    e_pay, pay_share = evidence["NEW_SHARED_PAYOUT"].to_numpy(), col("new_shared_payout_share")
    banks = {}
    if len(identifiers):
        b = identifiers[identifiers["kind"] == "bank_account"]
        banks = group_lists(b["cluster"].to_numpy(), b["key"].to_numpy(), limit=3).to_dict()
    for r in fire("NEW_SHARED_PAYOUT"):
        n = int(round(pay_share[r] * size[r]))
        collected[r].append(
            (
                e_pay[r],
                _reason(
                    "NEW_SHARED_PAYOUT",
                    f"{n} accounts added the same payout bank account in the last {_fmt_days(burst_days)}",
                    {"n_accounts": n, "bank_accounts": banks.get(clusters[r], []), "window_days": burst_days},
                ),
            )
        )
    e_max, maxed, util, exposure = (
        evidence["MAXED_CREDIT"].to_numpy(),
        col("maxed_share"),
        col("mean_utilization"),
        col("exposure"),
    )
    for r in fire("MAXED_CREDIT"):
        n = int(round(maxed[r] * size[r]))
        collected[r].append(
            (
                e_max[r],
                _reason(
                    "MAXED_CREDIT",
                    f"{n} of {size[r]} accounts use 90% or more of their credit line",
                    {
                        "n_maxed": n,
                        "mean_utilization": round(float(np.nan_to_num(util[r])), 3),
                        "exposure": round(float(exposure[r]), 2),
                    },
                ),
            )
        )
    e_od, od, od_days = (
        evidence["OVERDUE_TOGETHER"].to_numpy(),
        col("overdue_share"),
        col("mean_overdue_days"),
    )
    for r in fire("OVERDUE_TOGETHER"):
        n = int(round(od[r] * size[r]))
        collected[r].append(
            (
                e_od[r],
                _reason(
                    "OVERDUE_TOGETHER",
                    f"{n} of {size[r]} accounts are past due",
                    {"n_overdue": n, "mean_overdue_days": round(float(od_days[r]), 1)},
                ),
            )
        )
    core_n, core_spent = col("core_size"), np.nan_to_num(col("core_spend_burst_share").astype(np.float64))
    for r in np.flatnonzero((core_spent * core_n >= 2) & (core_spent >= 0.3)):
        n = int(round(core_spent[r] * core_n[r]))
        collected[r].append(
            (
                0.5 + 0.4 * core_spent[r],
                _reason(
                    "SPENDING_BURST",
                    f"{n} of the {int(core_n[r])} accounts opened together ran up a fifth or more of their credit line within a week",
                    {"n_accounts": n, "core_size": int(core_n[r])},
                ),
            )
        )
    severe = col("severe_overdue_share")
    for r in np.flatnonzero((severe * size >= 2) & (severe >= 0.3)):
        n = int(round(severe[r] * size[r]))
        collected[r].append(
            (
                0.4 + 0.4 * severe[r],
                _reason(
                    "SEVERELY_PAST_DUE",
                    f"{n} of {size[r]} accounts are 90 or more days past due",
                    {"n_accounts": n},
                ),
            )
        )
    e_cb, cb_members, cb_share = (
        evidence["CHARGEBACKS"].to_numpy(),
        col("chargeback_member_share"),
        col("chargeback_share"),
    )
    for r in fire("CHARGEBACKS"):
        n = int(round(cb_members[r] * size[r]))
        collected[r].append(
            (
                e_cb[r],
                _reason(
                    "CHARGEBACKS",
                    f"{n} of {size[r]} accounts had chargebacks",
                    {"n_accounts": n, "chargeback_share": round(float(cb_share[r]), 3)},
                ),
            )
        )
    e_pt, pt, fan_in, internal = (
        evidence["PASS_THROUGH_MONEY"].to_numpy(),
        col("pass_through_share"),
        col("fan_in"),
        col("internal_flow"),
    )
    for r in fire("PASS_THROUGH_MONEY"):
        n = int(round(pt[r] * size[r]))
        payees = list(top_payees.get(clusters[r], []))
        text = f"{n} of {size[r]} accounts pass on money from {int(fan_in[r])} outside payers"
        if payees:
            text += f" to the same accounts ({', '.join(payees[:3])})"
        collected[r].append(
            (
                e_pt[r],
                _reason(
                    "MONEY_FAN_IN",
                    text,
                    {
                        "n_pass_through": n,
                        "n_payers": int(fan_in[r]),
                        "collectors": payees[:10],
                        "internal_flow": round(float(internal[r]), 2),
                    },
                ),
            )
        )
    if "RECOMBINED_IDENTITY" in evidence and "recombined" in identifiers:
        for r, reason in _recombined_reasons(
            f, evidence["RECOMBINED_IDENTITY"].to_numpy(), identifiers, row_of_cluster
        ):
            collected[r].append(reason)
    e_sync, sync = evidence["LINKED_TOGETHER"].to_numpy(), col("link_sync_share")
    for r in fire("LINKED_TOGETHER"):
        if e_burst[r] >= REASON_THRESHOLD:
            continue  # the burst says it more precisely
        n = int(round(sync[r] * size[r]))
        collected[r].append(
            (
                e_sync[r] * 0.6,
                _reason(
                    "LINKED_TOGETHER",
                    f"{n} of {size[r]} accounts started using their shared identifiers within days of each other",
                    {"n_accounts": n},
                ),
            )
        )
    for r in np.flatnonzero(anomaly >= 0.5):
        if collected[r]:
            collected[r].append(
                (
                    anomaly[r] * 0.5,
                    _reason(
                        "UNUSUAL_RING",
                        "the ring's features are unlike ordinary groups of linked accounts",
                        {"anomaly": round(float(anomaly[r]), 3)},
                    ),
                )
            )
    legit = col("known_legit")
    for r in np.flatnonzero(legit > 0):
        collected[r].append(
            (
                0.1,
                _reason(
                    "VERIFIED_LEGIT_MEMBERS",
                    f"{int(legit[r])} of {size[r]} accounts are verified legitimate",
                    {"n_known_legit": int(legit[r])},
                ),
            )
        )
    out = []
    for reasons in collected:
        if len(reasons) > 1:
            reasons.sort(key=lambda t: -t[0])
        out.append([r for _, r in reasons])
    return out


_PERSONAL_KINDS = (
    "national_id",
    "phone",
    "email",
)  # bit order of the ``conflicts`` mask (features.PERSONAL_KINDS)


def _plural(kind: str) -> str:
    return kind.replace("_", " ") + "s"


def _recombined_reasons(
    features: pd.DataFrame,
    strength: np.ndarray,
    identifiers: pd.DataFrame,
    row_of_cluster: pd.Series,
    max_identifiers: int = 5,
) -> list[tuple[int, tuple[float, dict]]]:
    """RECOMBINED_IDENTITY reasons, for the rings where the evidence fires (not every ring)."""
    fired = np.flatnonzero(strength >= REASON_THRESHOLD)
    if len(fired) == 0:
        return []
    clusters = features.index.to_numpy()[fired]
    varied = (
        identifiers["varied"].to_numpy(bool) if "varied" in identifiers else identifiers["recombined"].to_numpy(bool)
    )
    rec = identifiers[varied & identifiers["cluster"].isin(clusters).to_numpy()]
    # Recombined before merely varied; national ids first (the anchor of an identity), then
    # e-mails, phones; bigger groups first.
    order = {"national_id": 0, "email": 1, "phone": 2}
    rec = rec.assign(order=rec["kind"].map(order).to_numpy(), plain=~rec["recombined"].to_numpy(bool)).sort_values(
        ["cluster", "plain", "order", "n_members", "key"], ascending=[True, True, True, False, True]
    )
    # Every holder of a recombined element also holds a varied one (recombined implies varied).
    members = (
        features["varied_members"].to_numpy()
        if "varied_members" in features
        else features["recombined_members"].to_numpy()
    )
    out = []
    for cluster, group in rec.groupby("cluster", sort=False):
        r = int(row_of_cluster[cluster])
        items, sentences = [], []
        for row in group.head(max_identifiers).itertuples(index=False):
            values = list(row.values) if isinstance(row.values, (list, tuple, np.ndarray)) else []
            shown = values[0] if values else row.key
            differs = [k for i, k in enumerate(_PERSONAL_KINDS) if int(row.conflicts) >> i & 1]
            parts = []
            for kind in differs:
                n_distinct = int(getattr(row, f"distinct_{kind}"))
                if n_distinct >= row.n_members:
                    parts.append(("own", kind))
                else:
                    parts.append(("some", f"{n_distinct} different {_plural(kind)}"))
            own = [k.replace("_", " ") for how, k in parts if how == "own"]
            some = [k for how, k in parts if how == "some"]
            clauses = []
            if own:
                clauses.append(f"each has its own {' and '.join(own)}")
            if some:
                clauses.append(f"they use {' and '.join(some)}")
            sentences.append(
                f"{row.n_members} accounts share {row.kind.replace('_', ' ')} {shown} but {' and '.join(clauses)}"
            )
            items.append(
                {
                    "kind": row.kind,
                    "key": row.key,
                    "values": values,
                    "n_members": int(row.n_members),
                    "differs_in": differs,
                    "recombined": bool(row.recombined),
                }
            )
        kinds = sorted(set(group["kind"]), key=order.get)
        text = sentences[0]
        if len(group) > 1:
            more = len(group) - 1
            text += (
                f"; {more} more identity element{'s' if more > 1 else ''} shared the same way "
                f"({', '.join(k.replace('_', ' ') for k in kinds)} in all) tie{'' if more > 1 else 's'} "
                f"{int(members[r])} accounts into one mosaic"
            )
        out.append(
            (
                r,
                (
                    1.0 + float(strength[r]),
                    _reason(
                        "RECOMBINED_IDENTITY",
                        text,
                        {
                            "identifiers": items,
                            "n_recombined": int(len(group)),
                            "kinds": kinds,
                            "n_accounts": int(members[r]),
                            "strength": round(float(strength[r]), 3),
                        },
                    ),
                ),
            )
        )
    return out


def account_reasons(
    features: pd.DataFrame,
    scores: np.ndarray,
    tie: np.ndarray,
    ring_ids: np.ndarray,
    ring_scores: np.ndarray,
    ring_top_reason: np.ndarray,
    account_identifiers: pd.Series,
    proximity: np.ndarray,
) -> list[list[dict]]:
    """Reasons per account (rows of ``features``): its ring, what it shares, its own evidence.

    account_identifiers: per row, a list of (kind, key) the account shares with its ring.
    ring_top_reason: per row, the text of the ring's strongest reason (or None).
    """
    out: list[list[dict]] = []
    known_fraud = features["is_known_fraud"].to_numpy(bool)
    known_legit = features["is_known_legit"].to_numpy(bool)
    util = features["utilization"].to_numpy(np.float64)
    for i in range(len(features)):
        reasons: list[dict] = []
        if known_fraud[i]:
            reasons.append(_reason("KNOWN_FRAUD", "the account is confirmed fraud", {"label": "fraud"}))
        ring_id = ring_ids[i]
        if ring_id is not None and ring_scores[i] > 0:
            text = f"member of ring {ring_id} (score {ring_scores[i]:.2f})"
            if ring_top_reason[i]:
                text += f": {ring_top_reason[i]}"
            reasons.append(
                _reason(
                    "IN_SUSPECT_RING",
                    text,
                    {"ring_id": ring_id, "ring_score": round(float(ring_scores[i]), 4)},
                )
            )
            idents = account_identifiers.iat[i] if len(account_identifiers) else None
            if isinstance(idents, list) and idents:
                shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in idents[:3])
                reasons.append(
                    _reason(
                        "SHARES_WITH_RING",
                        f"shares {shown} with other ring members",
                        {"identifiers": [{"kind": k, "key": v} for k, v in idents[:10]]},
                    )
                )
            if tie[i] < 1:
                reasons.append(
                    _reason(
                        "LOOSE_TIE",
                        "tied to the ring by a single weaker link, so scored below it",
                        {"tie": round(float(tie[i]), 3)},
                    )
                )
        if proximity[i] >= 0.5 and not known_fraud[i]:
            reasons.append(
                _reason(
                    "NEAR_CONFIRMED_FRAUD",
                    "closely linked to confirmed fraud accounts",
                    {"proximity": round(float(proximity[i]), 3)},
                )
            )
        if ring_id is not None and np.nan_to_num(util[i]) >= 0.9 and scores[i] > 0:
            reasons.append(
                _reason(
                    "MAXED_CREDIT",
                    f"uses {util[i]:.0%} of its credit line",
                    {"utilization": round(float(util[i]), 3)},
                )
            )
        if known_legit[i]:
            reasons.append(_reason("VERIFIED_LEGIT", "the account was verified legitimate", {"label": "legit"}))
        out.append(reasons)
    return out
