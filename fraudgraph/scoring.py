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

# Score thresholds of the default actions (a score at or above the threshold gets the action).
# Calibrated on generated worlds (benchmarks/quality.py); examples/policy.toml uses the same.
DEFAULT_TIERS: dict[str, float] = {"monitor": 0.3, "review": 0.5, "suspend": 0.8}

# Ring evidence codes and how much each, fully present, says (noisy-OR weights within its class:
# patterns and confirmed fraud; single signs, which are capped by RingScorer.generic_cap).
# The *_PATTERN codes are conjunctions of the plain ones: one sign alone is common among innocent
# groups (couples open accounts the same week, families share a card), the combination is not.
DEFAULT_EVIDENCE_WEIGHTS: dict[str, float] = {
    "BUST_OUT_PATTERN": 0.95,  # opened together, linked together, then maxed / past due
    "TAKEOVER_PATTERN": 0.95,  # long-standing accounts picking up the same new identifiers
    "MULE_PATTERN": 0.9,  # money in from many, passed on to the same collectors
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

PATTERN_CODES = frozenset({"BUST_OUT_PATTERN", "TAKEOVER_PATTERN", "MULE_PATTERN", "KNOWN_FRAUD_IN_RING"})

# Ring features the IsolationForest sees (log-scaled where heavy-tailed).
ANOMALY_FEATURES = (
    "size", "density", "strong_member_share", "opened_together_share", "created_span_days",
    "link_sync_share", "recent_link_old_account_share", "new_shared_payout_share",
    "mean_utilization", "maxed_share", "overdue_share", "pass_through_share", "fan_in_per_member",
    "chargeback_member_share", "identifier_crowd",
)
_LOG_FEATURES = {"size", "created_span_days", "fan_in_per_member", "identifier_crowd"}


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
    burst = _ramp(f["recent_link_old_account_share"], 0.3, 0.7)
    payout = _ramp(f["new_shared_payout_share"], 0.3, 0.7)
    maxed = _ramp(f["maxed_share"], 0.3, 0.7)
    overdue = _ramp(f["overdue_share"], 0.3, 0.7)
    chargebacks = _ramp(f["chargeback_member_share"], 0.2, 0.5)
    pass_through = _ramp(f["pass_through_share"], 0.25, 0.6)
    e = pd.DataFrame(index=f.index)
    e["SHARED_STRONG_IDENTIFIER"] = _clip01(f["strong_member_share"]) * group
    e["LINKED_TOGETHER"] = synced * group
    e["OPENED_TOGETHER"] = opened * group
    e["RECENT_LINK_BURST"] = burst * group
    e["NEW_SHARED_PAYOUT"] = payout * group
    e["MAXED_CREDIT"] = maxed * group
    e["OVERDUE_TOGETHER"] = overdue * group
    e["CHARGEBACKS"] = chargebacks * group
    e["PASS_THROUGH_MONEY"] = pass_through * group
    # At least two members must show the credit burst; in a pair both must be maxed *and* late
    # (a couple who opened the same week and both run high balances is not rare enough).
    several = _ramp(f["maxed_share"].to_numpy(np.float64) * size, 1, 2)
    both = np.minimum(_ramp(f["maxed_share"], 0.75, 1.0), _ramp(f["overdue_share"], 0.75, 1.0))
    credit = np.where(size >= 3, np.maximum(maxed, overdue) * several, both)
    e["BUST_OUT_PATTERN"] = opened * np.maximum(credit, chargebacks * (size >= 3)) * pattern_group
    # Co-residents picking up a new router or joint account together are a family, not a takeover.
    apart = 1.0 - _ramp(f["max_address_cover"], 0.3, 0.7)
    e["TAKEOVER_PATTERN"] = burst * np.maximum(payout, synced) * apart * pattern_group
    # Passing on money from many payers is rare among honest customers; paying it to the same
    # collector inside the ring completes the picture.
    collector = _ramp(f["n_collectors"], 0, 1)
    e["MULE_PATTERN"] = pass_through * (0.75 + 0.25 * collector) * pattern_group
    # One confirmed account convicts a small ring; in a big cluster it may be one account glued
    # to a crowd of neighbours, so it needs company.
    e["KNOWN_FRAUD_IN_RING"] = _clip01(f["known_fraud"].to_numpy(np.float64) / np.maximum(1.0, 0.15 * size))
    return e


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

    >>> import pandas as pd
    >>> from fraudgraph.scoring import RingScorer
    >>> X = pd.DataFrame({c: [0.0] * 20 for c in ("size",)})  # doctest: +SKIP
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
        missing = [c for c in ANOMALY_FEATURES + ("known_fraud", "known_legit") if c not in X.columns]
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
        unfit_factor: float = 0.45,
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
            | (X["n_ring_identifiers"].to_numpy() >= 2)
            | (X["ring_degree_share"].to_numpy(np.float64) >= 0.5)
        )
        return np.where(core, 1.0, self.loose_tie_factor + (1 - self.loose_tie_factor) * _clip01(X["ring_degree_share"]))

    def pattern_fit(self, X: pd.DataFrame, ring_patterns: pd.DataFrame) -> np.ndarray:
        """Per account, in [0, 1]: how much it shows its ring's patterns itself (NaN = ring has none).

        ring_patterns: per account, the BUST_OUT_PATTERN, TAKEOVER_PATTERN and MULE_PATTERN
        evidence of its ring (0 outside rings).
        """
        check_is_fitted(self, "proximity_scale_")
        util = np.nan_to_num(X["utilization"].to_numpy(np.float64))
        collects = X["ring_payers"].to_numpy() >= 2
        own = {
            "BUST_OUT_PATTERN": X["opened_with_ring"].to_numpy(bool)
            & ((util >= 0.9) | (X["overdue_days"].to_numpy() > 0)),
            "TAKEOVER_PATTERN": (X["n_recent_ring_identifiers"].to_numpy() > 0) | collects,
            "MULE_PATTERN": X["pass_through"].to_numpy(bool) | collects,
        }
        weight = np.zeros(len(X))
        fit = np.zeros(len(X))
        for code, shows in own.items():
            e = ring_patterns[code].to_numpy(np.float64)
            weight += e
            fit += e * shows
        return np.where(weight > 0.1, fit / np.maximum(weight, 1e-12), np.nan)

    def score_samples(self, X: pd.DataFrame, ring_score: np.ndarray, ring_patterns: pd.DataFrame | None = None) -> np.ndarray:
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
    "fraud_proximity", "is_known_fraud", "ring_degree_share", "n_ring_identifiers", "on_shared_strong",
    "utilization", "overdue_days", "opened_with_ring", "n_recent_ring_identifiers", "pass_through", "ring_payers",
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
_KIND_ORDER = {"device": 0, "card": 1, "bank_account": 2, "national_id": 3, "phone": 4, "email": 5, "address": 6, "ip": 7}
REASON_THRESHOLD = 0.3  # evidence strength from which a code is reported


def _reason(code: str, text: str, evidence: dict) -> dict:
    return {"code": code, "text": text, "evidence": evidence}


def _fmt_days(days: float) -> str:
    days = float(days)
    return f"{days:.0f} day" + ("" if round(days) == 1 else "s")


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
    """Reasons per ring (rows of ``features``), strongest first.

    identifiers: shared identifiers with cluster, kind, key, n_members, n_accounts, weight,
        first_seen_max (days), values (raw spellings); known_fraud_ids: cluster -> list of
        confirmed fraud account ids; top_payees: cluster -> list of account ids paid by most members.
    """
    f = features
    ident = identifiers.copy()
    ident["order"] = ident["kind"].map(_KIND_ORDER).fillna(9)
    ident = ident.sort_values(["cluster", "order", "n_members", "key"], ascending=[True, True, False, True])
    ident_by_cluster = {c: g for c, g in ident.groupby("cluster", sort=False)}
    ev = evidence.to_numpy()
    codes = list(evidence.columns)
    col = {c: i for i, c in enumerate(codes)}
    out: list[list[dict]] = []
    size = f["size"].to_numpy()
    for row, cluster in enumerate(f.index):
        reasons: list[tuple[float, dict]] = []
        n = int(size[row])
        shared = ident_by_cluster.get(cluster)
        if shared is not None:
            for rec in shared.head(max_identifiers).itertuples(index=False):
                values = list(rec.values) if isinstance(rec.values, (list, tuple, np.ndarray)) else []
                verb = {"device": "use", "card": "pay with", "bank_account": "pay out to", "national_id": "give",
                        "address": "live at", "phone": "give", "email": "give", "ip": "connect from"}.get(rec.kind, "share")
                text = f"{rec.n_members} accounts {verb} {rec.kind.replace('_', ' ')} {rec.key}"
                if rec.n_accounts > rec.n_members:
                    text += f" ({rec.n_accounts} accounts in all)"
                strength = 0.5 + 0.1 * (rec.kind in ("device", "card", "bank_account", "national_id"))
                reasons.append((strength, _reason(
                    f"SHARED_{rec.kind.upper()}", text,
                    {"kind": rec.kind, "key": rec.key, "values": values, "n_members": int(rec.n_members),
                     "n_accounts": int(rec.n_accounts), "weight": round(float(rec.weight), 4)},
                )))
        e = ev[row]
        if e[col["KNOWN_FRAUD_IN_RING"]] > 0:
            ids = list(known_fraud_ids.get(cluster, []))
            k = int(f["known_fraud"].iat[row])
            reasons.append((2.0, _reason(
                "KNOWN_FRAUD_IN_RING", f"{k} confirmed fraud account{'s' if k != 1 else ''} in the ring",
                {"account_ids": ids[:20], "n_known_fraud": k},
            )))
        if e[col["OPENED_TOGETHER"]] >= REASON_THRESHOLD:
            together = int(round(f["opened_together_share"].iat[row] * n))
            reasons.append((e[col["OPENED_TOGETHER"]], _reason(
                "OPENED_TOGETHER",
                f"{together} of {n} accounts opened within {_fmt_days(f['created_span_days'].iat[row] if together == n else 14)}",
                {"n_opened_together": together, "created_span_days": round(float(f["created_span_days"].iat[row]), 1),
                 "median_age_days": round(float(f["median_age_days"].iat[row]), 1)},
            )))
        if e[col["RECENT_LINK_BURST"]] >= REASON_THRESHOLD:
            k = int(round(f["recent_link_old_account_share"].iat[row] * n))
            reasons.append((e[col["RECENT_LINK_BURST"]], _reason(
                "RECENT_LINK_BURST",
                f"{k} long-standing accounts picked up shared identifiers in the last {_fmt_days(burst_days)}",
                {"n_accounts": k, "window_days": burst_days},
            )))
        if e[col["NEW_SHARED_PAYOUT"]] >= REASON_THRESHOLD:
            k = int(round(f["new_shared_payout_share"].iat[row] * n))
            banks = [] if shared is None else shared.loc[shared["kind"] == "bank_account", "key"].head(3).tolist()
            reasons.append((e[col["NEW_SHARED_PAYOUT"]], _reason(
                "NEW_SHARED_PAYOUT",
                f"{k} accounts added the same payout bank account in the last {_fmt_days(burst_days)}",
                {"n_accounts": k, "bank_accounts": banks, "window_days": burst_days},
            )))
        if e[col["MAXED_CREDIT"]] >= REASON_THRESHOLD:
            k = int(round(f["maxed_share"].iat[row] * n))
            reasons.append((e[col["MAXED_CREDIT"]], _reason(
                "MAXED_CREDIT", f"{k} of {n} accounts use 90% or more of their credit line",
                {"n_maxed": k, "mean_utilization": round(float(np.nan_to_num(f["mean_utilization"].iat[row])), 3),
                 "exposure": round(float(f["exposure"].iat[row]), 2)},
            )))
        if e[col["OVERDUE_TOGETHER"]] >= REASON_THRESHOLD:
            k = int(round(f["overdue_share"].iat[row] * n))
            reasons.append((e[col["OVERDUE_TOGETHER"]], _reason(
                "OVERDUE_TOGETHER", f"{k} of {n} accounts are past due",
                {"n_overdue": k, "mean_overdue_days": round(float(f["mean_overdue_days"].iat[row]), 1)},
            )))
        if e[col["CHARGEBACKS"]] >= REASON_THRESHOLD:
            k = int(round(f["chargeback_member_share"].iat[row] * n))
            reasons.append((e[col["CHARGEBACKS"]], _reason(
                "CHARGEBACKS", f"{k} of {n} accounts had chargebacks",
                {"n_accounts": k, "chargeback_share": round(float(f["chargeback_share"].iat[row]), 3)},
            )))
        if e[col["PASS_THROUGH_MONEY"]] >= REASON_THRESHOLD:
            k = int(round(f["pass_through_share"].iat[row] * n))
            payees = list(top_payees.get(cluster, []))
            text = f"{k} of {n} accounts pass on money from {int(f['fan_in'].iat[row])} outside payers"
            if payees:
                text += f" to the same accounts ({', '.join(payees[:3])})"
            reasons.append((e[col["PASS_THROUGH_MONEY"]], _reason(
                "MONEY_FAN_IN", text,
                {"n_pass_through": k, "n_payers": int(f["fan_in"].iat[row]), "collectors": payees[:10],
                 "internal_flow": round(float(f["internal_flow"].iat[row]), 2)},
            )))
        if e[col["LINKED_TOGETHER"]] >= REASON_THRESHOLD and e[col["RECENT_LINK_BURST"]] < REASON_THRESHOLD:
            k = int(round(f["link_sync_share"].iat[row] * n))
            reasons.append((e[col["LINKED_TOGETHER"]] * 0.6, _reason(
                "LINKED_TOGETHER", f"{k} of {n} accounts started using their shared identifiers within days of each other",
                {"n_accounts": k},
            )))
        if anomaly[row] >= 0.5 and reasons:
            reasons.append((anomaly[row] * 0.5, _reason(
                "UNUSUAL_RING", "the ring's features are unlike ordinary groups of linked accounts",
                {"anomaly": round(float(anomaly[row]), 3)},
            )))
        legit = int(f["known_legit"].iat[row])
        if legit:
            reasons.append((0.1, _reason(
                "VERIFIED_LEGIT_MEMBERS", f"{legit} of {n} accounts are verified legitimate",
                {"n_known_legit": legit},
            )))
        reasons.sort(key=lambda t: -t[0])
        out.append([r for _, r in reasons])
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
            reasons.append(_reason("IN_SUSPECT_RING", text, {"ring_id": ring_id, "ring_score": round(float(ring_scores[i]), 4)}))
            idents = account_identifiers.iat[i] if len(account_identifiers) else None
            if isinstance(idents, list) and idents:
                shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in idents[:3])
                reasons.append(_reason(
                    "SHARES_WITH_RING", f"shares {shown} with other ring members",
                    {"identifiers": [{"kind": k, "key": v} for k, v in idents[:10]]},
                ))
            if tie[i] < 1:
                reasons.append(_reason(
                    "LOOSE_TIE", "tied to the ring by a single weaker link, so scored below it",
                    {"tie": round(float(tie[i]), 3)},
                ))
        if proximity[i] >= 0.5 and not known_fraud[i]:
            reasons.append(_reason(
                "NEAR_CONFIRMED_FRAUD", "closely linked to confirmed fraud accounts",
                {"proximity": round(float(proximity[i]), 3)},
            ))
        if ring_id is not None and np.nan_to_num(util[i]) >= 0.9 and scores[i] > 0:
            reasons.append(_reason("MAXED_CREDIT", f"uses {util[i]:.0%} of its credit line", {"utilization": round(float(util[i]), 3)}))
        if known_legit[i]:
            reasons.append(_reason("VERIFIED_LEGIT", "the account was verified legitimate", {"label": "legit"}))
        out.append(reasons)
    return out
