"""What ordinary looks like in a workspace: the part of detection fitted over the whole world.

Three things in detection are judged against everybody else rather than computed from one
component's own data:

- **hub centres**: an identifier is an anomalous hub when its account count is far above its
  kind's typical count (median and MAD of log counts over shared identifiers of that kind);
- **the rings that define ordinary**: the IsolationForest's training rows (the anomaly features
  of every candidate ring), and with them the anomaly scale (median and 99th percentile);
- **the proximity scale**: the 99th percentile of walk mass from confirmed fraud.

A ``Baseline`` holds them. A sweep that fits one (the first sweep, ``sweep --refit``, a change of
seed, settings or engine) computes them from its own data, exactly as detection always did; later
sweeps judge against the kept baseline. Then a ring's result depends only on its own component's
data and the baseline: a delta elsewhere cannot move it, so a sweep may recompute only what a
delta reaches and still give the result a full recomputation gives.

Stored as a NumPy ``.npz`` archive of plain arrays (read with ``allow_pickle=False``): a workspace
file never carries code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from dataclasses import dataclass, field

import numpy as np

from fraudgraph.detection.forest import KeptForest

_FOREST = ("feature", "threshold", "left", "right", "value", "offsets")


@dataclass(frozen=True)
class Baseline:
    """hub_centres: kind -> (median, MAD) of log account counts of its shared identifiers.
    ring_matrix: the IsolationForest's training rows (``scoring._anomaly_matrix`` of every
        candidate ring at fit time; float32, as the forest reads them).
    proximity_scale: what ``AccountScorer`` divides walk mass by.
    forest: the IsolationForest fitted on ``ring_matrix`` (``KeptForest``), so later sweeps judge
        with it instead of fitting it again; None in a baseline kept before it was (the forest is
        then fitted again from the rows, the same forest).
    """

    hub_centres: dict[str, tuple[float, float]] = field(default_factory=dict)
    ring_matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    proximity_scale: float = 1.0
    fitted_for: str = ""  # what it was fitted under (seed, settings, engine): see app.incremental
    forest: KeptForest | None = None

    def to_bytes(self) -> bytes:
        """The baseline as an ``.npz`` archive of plain arrays (the same baseline, the same bytes),
        stored, not deflated: at 1M accounts 10.7 MB in 0.02 s instead of 2.6 MB in 0.45 s on a
        first sweep's critical path (and read back faster); ``from_bytes`` reads either."""
        kinds = sorted(self.hub_centres)
        buffer = io.BytesIO()
        forest = {}
        if self.forest is not None:
            kept = self.forest.arrays()
            forest = {f"forest_{k}": kept[k] for k in _FOREST}
            forest["forest_scale"] = np.asarray([kept["denominator"], *kept["anomaly_range"]], dtype=np.float64)
        np.savez(
            buffer,
            **forest,
            kinds=np.asarray(kinds, dtype=np.str_),
            centres=np.asarray([self.hub_centres[k] for k in kinds], dtype=np.float64).reshape(-1, 2),
            ring_matrix=np.ascontiguousarray(self.ring_matrix, dtype=np.float32),
            proximity_scale=np.asarray([self.proximity_scale], dtype=np.float64),
            fitted_for=np.asarray([self.fitted_for], dtype=np.str_),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Baseline:
        """The baseline ``to_bytes`` wrote; ValueError when the blob is not one."""
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                kinds = [str(k) for k in data["kinds"]]
                centres = data["centres"].reshape(-1, 2)
                return cls(
                    hub_centres={k: (float(m), float(d)) for k, (m, d) in zip(kinds, centres)},
                    ring_matrix=data["ring_matrix"].astype(np.float32, copy=False),
                    proximity_scale=float(data["proximity_scale"][0]),
                    fitted_for=str(data["fitted_for"][0]),
                    forest=_forest(data),
                )
        except (OSError, KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"not a detection baseline ({exc})") from exc

    @property
    def digest(self) -> str:
        """A short content hash: which baseline a sweep judged against (of the values, not of the
        archive, whose zip entries carry the time they were written)."""
        h = hashlib.sha256()
        for kind in sorted(self.hub_centres):
            h.update(kind.encode() + b"\0" + np.asarray(self.hub_centres[kind], dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.ring_matrix, dtype=np.float32).tobytes())
        h.update(str(self.ring_matrix.shape).encode())
        h.update(np.float64(self.proximity_scale).tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> dict[str, object]:
        """What the baseline was fitted on, for the sweep history."""
        return {"digest": self.digest, "rings": int(len(self.ring_matrix)), "hub_kinds": len(self.hub_centres)}

    def fitted(self, fitted_for: str) -> Baseline:
        """The same baseline, marked with what it was fitted under."""
        return dataclasses.replace(self, fitted_for=fitted_for)


def _forest(data) -> KeptForest | None:
    """The kept forest of a baseline archive, if it holds one."""
    if "forest_scale" not in data:
        return None
    denominator, low, high = (float(v) for v in data["forest_scale"])
    arrays = {k: data[f"forest_{k}"] for k in _FOREST}
    return KeptForest(**arrays, denominator=denominator, anomaly_range=(low, high))
