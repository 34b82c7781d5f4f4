"""Integer codes numbered by first use: Arrow's hash encoding numbers values so (the order they
first appear), and so does the identifier keys' numbering (``fraudgraph.detection.keys``). Where
each code is met the first time is then one running maximum, with no hash table."""

from __future__ import annotations

import numpy as np


def first_use(codes: np.ndarray) -> np.ndarray:
    """Per row, whether its code (-1: no code) is met there the first time: where a code exceeds
    every code before it."""
    first = np.empty(len(codes), dtype=bool)
    if len(codes):
        first[0] = codes[0] >= 0
        np.greater(codes[1:], np.maximum.accumulate(codes[:-1]), out=first[1:])
    return first


def first_use_rows(codes: np.ndarray) -> np.ndarray:
    """The rows where codes numbered by first use meet each code the first time (``first_use``)."""
    return np.flatnonzero(first_use(codes))
