"""Community detection results by the digest of their exact input, so a sweep after a delta runs
Leiden only on the components that changed.

A seeded Leiden call is a pure function of what it is given: the number of nodes, the edge list
in order, the weights, the resolution, the objective and the seed. ``leiden_digest`` hashes
exactly those, so a remembered membership is the one the call would return: reuse is exact by
construction, needs no invalidation, and a missing or foreign memo only costs time. The memo holds
no account id or identifier (digests and small integers), so it may be stored beside the data.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np

# Part of every digest: a change to how the call is made (its options) must change its key.
_SCHEME = b"fraudgraph leiden v1: CPM, n_iterations=-1, igraph seeded from random.Random(seed)\n"


def leiden_digest(n_nodes: int, edges: np.ndarray, weights: np.ndarray, resolution: float, seed: int) -> bytes:
    """sha256 of one Leiden call's input (``edges``: int64 pairs, ``weights``: float64, in call order)."""
    h = hashlib.sha256(_SCHEME)
    h.update(f"{int(n_nodes)}|{float(resolution)!r}|{int(seed)}|{len(edges)}\n".encode())
    h.update(np.ascontiguousarray(edges, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(weights, dtype=np.float64).tobytes())
    return h.digest()


class CommunityMemo:
    """Leiden memberships by input digest (``leiden_digest``).

    ``get`` answers only when ``reuse`` is on (a full sweep computes everything but still
    records); ``kept`` is what the next sweep needs: the entries this sweep used or made, so the
    memo never grows past the current components. ``reused`` / ``computed`` count the calls.
    """

    def __init__(self, entries: dict[bytes, np.ndarray] | None = None, *, reuse: bool = True) -> None:
        self.entries = dict(entries or {})
        self.reuse = reuse
        self.used: dict[bytes, np.ndarray] = {}
        self.reused = 0
        self.computed = 0

    def get(self, key: bytes) -> np.ndarray | None:
        found = self.entries.get(key) if self.reuse else None
        if found is not None:
            self.used[key] = found
            self.reused += 1
        return found

    def put(self, key: bytes, membership: np.ndarray) -> None:
        self.used[key] = np.asarray(membership, dtype=np.int64)
        self.computed += 1

    def kept(self) -> CommunityMemo:
        """A memo of this sweep's entries only (what the next sweep may reuse)."""
        return CommunityMemo(self.used)

    def to_bytes(self) -> bytes:
        """The entries as one .npz blob (no pickled objects), stored as the baseline is, not
        deflated (``from_bytes`` reads either)."""
        keys = list(self.entries)
        sizes = np.array([len(self.entries[k]) for k in keys], dtype=np.int64)
        labels = np.concatenate([self.entries[k] for k in keys]) if keys else np.zeros(0, np.int64)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32),
            sizes=sizes,
            labels=labels.astype(np.int32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes | None, *, reuse: bool = True) -> CommunityMemo:
        """A memo from ``to_bytes``; an empty one for None or a blob it cannot read (a memo is
        only ever a shortcut)."""
        if not blob:
            return cls(reuse=reuse)
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                keys, sizes, labels = data["keys"], data["sizes"], data["labels"]
        except (OSError, ValueError, KeyError):
            return cls(reuse=reuse)
        if keys.ndim != 2 or keys.shape[1] != 32 or len(sizes) != len(keys) or int(sizes.sum()) != len(labels):
            return cls(reuse=reuse)
        parts = np.split(labels.astype(np.int64), np.cumsum(sizes)[:-1]) if len(keys) else []
        return cls({bytes(k): p for k, p in zip(keys, parts)}, reuse=reuse)
