"""Ring and account scorers (scikit-learn conventions), default action tiers.

A ring's score combines rule evidence (each in [0, 1], noisy-OR with per-code weights; the codes
are defined in ``fraudgraph.detection.evidence``), an IsolationForest anomaly score over ring
features, and known outcomes (confirmed fraud raises a ring, verified-legit members lower it). An account's score is its ring's score scaled by how
tightly it is tied to the ring, plus its own evidence (confirmed fraud, proximity to fraud).
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import numpy as np
import pandas as pd

from fraudgraph.detection.evidence import (
    DEFAULT_EVIDENCE_WEIGHTS,
    PATTERN_CODES,
    RECOMBINED_FEATURES,
    clip01,
    ring_evidence,
)
from fraudgraph.detection.forest import KeptForest

# Score thresholds of the default actions (a score at or above the threshold gets the action).
# Calibrated on generated worlds (benchmarks/quality.py); examples/policy.toml uses the same.
# Review at 0.5 sits above what single signs can reach (RingScorer.generic_cap); suspend at 0.7
# is where, on generated worlds, precision stays >= 0.99 while recall is within 1 point of review.
DEFAULT_TIERS: dict[str, float] = {"monitor": 0.3, "review": 0.5, "suspend": 0.7}

# The pattern codes whose presence in a member itself decides how much of the ring's score it
# takes (AccountScorer.pattern_fit).
ACCOUNT_PATTERN_CODES = (
    "BUST_OUT_PATTERN",
    "TAKEOVER_PATTERN",
    "MULE_PATTERN",
    "INSTRUMENT_CROWD",
    "SPENDING_TOGETHER",
    "KNOWN_FRAUD_IN_RING",
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
# Up to this many rings are scored by walking the kept forest; more by scikit-learn's walk of
# the same forest fitted again (the same scores, bit for bit: ``fraudgraph.detection.forest``).
_KEPT_WALK_ROWS = 20_000
_LOG_FEATURES = {"size", "created_span_days", "fan_in_per_member", "identifier_crowd", "median_age_days"}


def anomaly_rows(features: pd.DataFrame) -> np.ndarray:
    """The IsolationForest's view of ring features: one float32 row per ring (the forest reads
    float32 whatever it is given, so a kept copy in float32 refits the same forest)."""
    return _anomaly_matrix(features).astype(np.float32)


def _anomaly_matrix(features: pd.DataFrame) -> np.ndarray:
    cols = []
    for name in ANOMALY_FEATURES:
        v = np.nan_to_num(features[name].to_numpy(np.float64), nan=0.0)
        cols.append(np.log1p(np.maximum(v, 0)) if name in _LOG_FEATURES else v)
    return np.column_stack(cols) if cols else np.zeros((len(features), 0))


class Estimator:
    """scikit-learn's estimator conventions (``get_params``, ``set_params``, ``sklearn.base.clone``,
    a repr of the parameters set) without importing scikit-learn for them: that import takes 0.7 s
    of every sweep process, and most sweeps fit no forest (a kept baseline's is walked in numpy)."""

    @classmethod
    def _param_names(cls) -> list[str]:
        params = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their values (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; expected one of {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        shown = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults.get(k))]
        return f"{type(self).__name__}({', '.join(shown)})"


def _same(a: Any, b: Any) -> bool:
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):  # arrays compare element-wise
        return False


def check_is_fitted(estimator: Estimator, attribute: str) -> None:
    """scikit-learn's ``NotFittedError`` when ``fit`` has not set ``attribute`` yet."""
    if not hasattr(estimator, attribute):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
            "before using this estimator."
        )


def warm_up_forest() -> threading.Thread:
    """Import scikit-learn's IsolationForest on a thread (1.0-1.3 s on a 2-core machine, most of
    it scipy.stats, which scikit-learn imports), so that a caller that will fit a forest can have
    it imported while it waits on something that leaves a core idle (a sweep reading its inputs:
    Arrow decodes without the GIL). The caller joins the thread before it imports anything of its
    own (two threads importing in opposite orders could each wait on the other's module lock).
    A failure here is left for the real import to report."""

    def imported() -> None:
        try:
            import sklearn.ensemble  # noqa: F401
        except Exception:  # pragma: no cover - the fit's own import says what is wrong
            pass

    thread = threading.Thread(target=imported, name="fraudgraph-warm-forest", daemon=True)
    thread.start()
    return thread


class RingScorer(Estimator):
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

    def fit(
        self, X: pd.DataFrame, y=None, *, reference: np.ndarray | None = None, forest: KeptForest | None = None
    ) -> RingScorer:
        """Learn what ordinary candidate rings look like (unsupervised); returns self.

        reference: the anomaly rows (``anomaly_rows``) of the rings that define ordinary, e.g. a
        kept ``Baseline``'s; X's own rows when not given. forest: the forest fitted on them
        before (a kept ``Baseline``'s), used instead of fitting it again. ``forest_`` is the
        forest the scorer judges with (``KeptForest``; None with fewer than 8 rings)."""
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
        matrix = anomaly_rows(X) if reference is None else np.asarray(reference, dtype=np.float32)
        self.n_features_in_ = len(ANOMALY_FEATURES)
        self.training_rows_ = matrix
        self.isolation_forest_ = None
        self._last_raw: tuple[np.ndarray, np.ndarray] | None = None
        if len(matrix) < 8:
            self.forest_ = None  # too few rings to say what is ordinary
        elif forest is not None:
            self.forest_ = forest
        else:
            fitted = self._fitted_forest()
            # Map the typical ring to 0 and the most unusual 1% to 1.
            raw = -fitted.score_samples(matrix)
            self.forest_ = KeptForest.of(fitted).with_range(raw)
            self._last_raw = (matrix, raw)
        return self

    def _fitted_forest(self):
        """scikit-learn's IsolationForest fitted on the training rows (once per scorer): the
        forest ``forest_`` keeps, whose compiled walk scores many rings faster."""
        if self.isolation_forest_ is None:
            from sklearn.ensemble import IsolationForest  # only a sweep that fits or scores many rings

            self.isolation_forest_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state)
            self.isolation_forest_.fit(self.training_rows_)
        return self.isolation_forest_

    def anomaly(self, X: pd.DataFrame) -> np.ndarray:
        """IsolationForest anomaly in [0, 1] (0 = as ordinary as the median ring)."""
        check_is_fitted(self, "evidence_weights_")
        if self.forest_ is None or len(X) == 0:
            return np.zeros(len(X))
        raw = self._raw_anomaly(anomaly_rows(X))
        low, high = self.forest_.anomaly_range
        span = max(high - low, 1e-9)
        return clip01((raw - low) / span)

    def _raw_anomaly(self, rows: np.ndarray) -> np.ndarray:
        """Minus the forest's ``score_samples`` of the float32 ``rows`` (as either walk reads them).
        The last rows walked are answered again without a walk: a first sweep asks for its rings'
        three times (fitting, scoring, explaining), 0.4-0.6 s each at 1M accounts."""
        last = self._last_raw
        if last is not None and last[0].shape == rows.shape and np.array_equal(last[0], rows):
            return last[1]
        assert self.forest_ is not None
        forest = self._fitted_forest() if len(rows) > _KEPT_WALK_ROWS else self.forest_
        raw = -forest.score_samples(rows)
        self._last_raw = (rows, raw)
        return raw

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
        return clip01(score * damp)


class AccountScorer(Estimator):
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

    def fit(self, X: pd.DataFrame, y=None, *, proximity_scale: float | None = None) -> AccountScorer:
        """Learn the scale of fraud proximity among accounts that are not confirmed fraud (or take
        ``proximity_scale``, a kept ``Baseline``'s)."""
        for name in ("unfit_factor", "loose_tie_factor", "proximity_weight"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"AccountScorer.{name} must be in [0, 1], got {v!r}")
        missing = [c for c in ACCOUNT_FEATURES if c not in X.columns]
        if missing:
            raise ValueError(f"AccountScorer.fit: account features lack column(s) {missing}")
        if proximity_scale is None:
            prox = X["fraud_proximity"].to_numpy(np.float64)[~X["is_known_fraud"].to_numpy(bool)]
            prox = prox[prox > 0]
            # Scale so the 99th percentile of walk mass on accounts that are not seeds reads as "close".
            proximity_scale = float(np.quantile(prox, 0.99)) if len(prox) else 1.0
        self.proximity_scale_ = float(proximity_scale)
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
        return np.where(core, 1.0, self.loose_tie_factor + (1 - self.loose_tie_factor) * clip01(X["ring_degree_share"]))

    def pattern_fit(self, X: pd.DataFrame, ring_patterns: pd.DataFrame) -> np.ndarray:
        """Per account, in [0, 1]: how much it shows its ring's patterns itself (NaN = ring has none).

        ring_patterns: per account, the evidence of its ring (0 outside rings) for the codes of
        ``ACCOUNT_PATTERN_CODES`` it has columns for (codes without a column are left out).
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
            # On the ring's shared card, bank account or national id (or another strong identifier).
            "INSTRUMENT_CROWD": X["on_shared_strong"].to_numpy(bool),
            "SPENDING_TOGETHER": np.nan_to_num(X["spend_burst"].to_numpy(np.float64)) >= 0.2,
        }
        # In a ring convicted by a confirmed fraud account, closeness to that account is the fit.
        if "KNOWN_FRAUD_IN_RING" in ring_patterns:
            own["KNOWN_FRAUD_IN_RING"] = self.proximity(X)
        weight = np.zeros(len(X))
        fit = np.zeros(len(X))
        for code, shows in own.items():
            if code not in ring_patterns:
                continue
            e = ring_patterns[code].to_numpy(np.float64)
            weight += e
            fit += e * shows
        return np.where(weight > 0.1, fit / np.maximum(weight, 1e-12), np.nan)

    def proximity(self, X: pd.DataFrame) -> np.ndarray:
        """Closeness to confirmed fraud in [0, 1] (personalized PageRank over the learned scale)."""
        check_is_fitted(self, "proximity_scale_")
        return clip01(X["fraud_proximity"].to_numpy(np.float64) / max(self.proximity_scale_, 1e-12))

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
        prox = clip01(X["fraud_proximity"].to_numpy(np.float64) / max(self.proximity_scale_, 1e-12))
        score = 1.0 - (1.0 - base) * (1.0 - self.proximity_weight * prox * (base > 0))
        score = np.where(X["is_known_fraud"].to_numpy(bool), 1.0, score)
        return clip01(score)


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
