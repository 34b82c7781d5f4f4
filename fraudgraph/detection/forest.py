"""A fitted IsolationForest kept as plain arrays, and its anomaly scores computed from them.

A sweep judges rings against the workspace's kept baseline (``fraudgraph.detection.baseline``).
Refitting the same forest from the kept training rows every sweep cost a delta sweep most of its
scoring time, and scikit-learn keeps a fitted forest only as a pickle, which a workspace file
never carries (it would be code). So the baseline keeps the forest's trees instead: per node the
split feature and threshold, the children, and the path length a sample ending there adds.

``KeptForest.score_samples`` walks all trees at once over chunks of rows and adds the path
lengths tree by tree, in the order scikit-learn adds them, with the same float operations: its
scores are scikit-learn's ``IsolationForest.score_samples``, bit for bit
(``tests/test_forest.py``). It is quick for the rings a delta sweep scores (2,000 in 0.1 s);
scikit-learn's compiled walk is four times quicker over the 100,000s of a full sweep, which
therefore fits the same forest again from the kept rows (``RingScorer``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK = 4096  # rows walked through every tree at once


def _average_path_length(n: np.ndarray) -> np.ndarray:
    """scikit-learn's ``_average_path_length``: the average depth of an unsuccessful search in a
    binary search tree of ``n`` samples."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    two = n == 2
    many = n > 2
    out[two] = 1.0
    out[many] = 2.0 * (np.log(n[many] - 1.0) + np.euler_gamma) - 2.0 * (n[many] - 1.0) / n[many]
    return out


@dataclass(frozen=True)
class KeptForest:
    """The trees of a fitted IsolationForest, concatenated: node ``i`` of tree ``t`` is row
    ``offsets[t] + i``. ``left``/``right``: children within the tree (-1 at a leaf); ``value``:
    what a sample ending at the node adds to its depth; ``denominator``: the trees' count times
    the average path length of ``max_samples``; ``anomaly_range``: the raw anomaly (minus the
    score) of the median and the 99th-percentile training row."""

    feature: np.ndarray  # int64, the feature a node splits on (columns of the full row)
    threshold: np.ndarray  # float64
    left: np.ndarray  # int64
    right: np.ndarray  # int64
    value: np.ndarray  # float64
    offsets: np.ndarray  # int64, one per tree
    denominator: float
    anomaly_range: tuple[float, float] = (0.0, 1.0)

    @classmethod
    def of(cls, forest) -> KeptForest:
        """The arrays of a fitted ``sklearn.ensemble.IsolationForest``."""
        subsample = forest._max_features != forest.n_features_in_
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
        offsets = []
        start = 0
        for estimator, features in zip(forest.estimators_, forest.estimators_features_):
            tree = estimator.tree_
            feature = tree.feature.astype(np.int64)
            if subsample:  # the tree split on columns of the row's chosen features
                feature = np.where(feature >= 0, np.asarray(features, dtype=np.int64)[np.maximum(feature, 0)], feature)
            parts["feature"].append(feature)
            parts["threshold"].append(tree.threshold.astype(np.float64))
            parts["left"].append(tree.children_left.astype(np.int64))
            parts["right"].append(tree.children_right.astype(np.int64))
            # As scikit-learn adds it: decision path length + average path length - 1.
            parts["value"].append(tree.compute_node_depths() + _average_path_length(tree.n_node_samples) - 1.0)
            offsets.append(start)
            start += tree.node_count
        denominator = len(forest.estimators_) * _average_path_length(np.asarray([forest._max_samples]))[0]
        # Each part is typed above; a fitted forest has at least one tree.
        feature, threshold, left, right, value = (np.concatenate(parts[k]) for k in parts)
        offsets_ = np.asarray(offsets, dtype=np.int64)
        return cls(feature, threshold, left, right, value, offsets_, float(denominator))

    def with_range(self, raw: np.ndarray) -> KeptForest:
        """The same forest with its anomaly range taken from the raw anomaly (minus the score) of
        its training rows."""
        low, high = np.quantile(raw, [0.5, 0.99])
        return KeptForest(**{**self.arrays(), "anomaly_range": (float(low), float(high))})

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's ``IsolationForest.score_samples`` of the rows ``X`` (read as float32)."""
        X = np.asarray(X, dtype=np.float32)
        out = np.empty(len(X))
        for start in range(0, len(X), _CHUNK):
            out[start : start + _CHUNK] = self._scores(X[start : start + _CHUNK])
        return out

    def _scores(self, X: np.ndarray) -> np.ndarray:
        n_trees, n = len(self.offsets), len(X)
        rows = np.broadcast_to(np.arange(n), (n_trees, n))
        node = np.broadcast_to(self.offsets[:, None], (n_trees, n)).copy()  # every row at every root
        while True:
            left = self.left[node]
            inner = left >= 0
            if not inner.any():
                break
            at = node[inner]
            go_left = X[rows[inner], self.feature[at]] <= self.threshold[at]
            base = np.broadcast_to(self.offsets[:, None], (n_trees, n))[inner]
            node[inner] = base + np.where(go_left, left[inner], self.right[at])
        depths = np.zeros(n)
        for added in self.value[node]:  # tree by tree, as scikit-learn adds them
            depths += added
        if self.denominator == 0:
            return -np.ones(n)
        return -(2 ** (-(depths / self.denominator)))  # scikit-learn's sign: lower is more abnormal

    def arrays(self) -> dict:
        """The fields, for ``KeptForest(**...)`` and the baseline's archive."""
        return {
            "feature": self.feature,
            "threshold": self.threshold,
            "left": self.left,
            "right": self.right,
            "value": self.value,
            "offsets": self.offsets,
            "denominator": self.denominator,
            "anomaly_range": self.anomaly_range,
        }
