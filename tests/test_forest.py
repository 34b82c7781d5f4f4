"""The kept IsolationForest (``fraudgraph.detection.forest``) scores as scikit-learn's does, bit
for bit, and survives the baseline's archive."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from fraudgraph.detection.baseline import Baseline
from fraudgraph.detection.forest import KeptForest


def _rows(seed: int, n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.lognormal(size=(n, d))
    rows[:, 0] = rng.integers(2, 6, n)  # a column of few values: ties at the thresholds
    rows[rng.random(n) < 0.05] *= 20  # a few outliers
    return np.log1p(rows).astype(np.float32)


@pytest.mark.parametrize(("seed", "n", "max_features"), [(0, 500, 1.0), (1, 3000, 1.0), (2, 800, 0.6), (3, 9, 1.0)])
def test_the_kept_forest_scores_exactly_as_scikit_learn(seed, n, max_features):
    train = _rows(seed, n, 7)
    fitted = IsolationForest(n_estimators=60, max_features=max_features, random_state=seed).fit(train)
    kept = KeptForest.of(fitted)
    new = np.vstack([_rows(seed + 100, 5000, 7), train[:50], np.zeros((1, 7), np.float32)])
    np.testing.assert_array_equal(kept.score_samples(new), fitted.score_samples(new))
    np.testing.assert_array_equal(kept.score_samples(train), fitted.score_samples(train))


def test_the_forest_survives_the_baseline_archive_and_an_old_archive_has_none():
    train = _rows(5, 400, 7)
    kept = KeptForest.of(IsolationForest(n_estimators=20, random_state=5).fit(train)).with_range(train)
    low, high = kept.anomaly_range
    assert 0 < low < high
    baseline = Baseline(hub_centres={"device": (0.5, 0.1)}, ring_matrix=train, proximity_scale=2.0, forest=kept)
    back = Baseline.from_bytes(baseline.to_bytes())
    assert back.forest is not None and back.forest.anomaly_range == kept.anomaly_range
    np.testing.assert_array_equal(back.forest.score_samples(train), kept.score_samples(train))
    assert back.digest == baseline.digest
    older = Baseline.from_bytes(Baseline(hub_centres={"device": (0.5, 0.1)}, ring_matrix=train).to_bytes())
    assert older.forest is None
