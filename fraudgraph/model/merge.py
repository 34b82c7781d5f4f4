"""How a load merges link observations into the stored ones: the rule, written once.

A link observation is (account_id, kind, value). Seen again, it keeps its **earliest known
first_seen** (an unknown date never replaces a known one) and takes the **newest key** (a better
normalizer may re-key a value). The Neo4j load and the SQLite workspace's columnar snapshot merge
with ``merge_links``; the SQLite table upsert (``workspace/sqlite/store.py``) states the same rule
in SQL for speed, and a conformance test checks the tables and the snapshot agree after loads
that update rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LINK_KEY = ["account_id", "kind", "value"]


@dataclass
class LinkMerge:
    """The extract's observations merged with the stored ones.

    rows: one row per observation of the extract (account_id, kind, value, key, first_seen after
        the rule), plus ``key_old`` (the stored key, None for a new or unkeyed observation).
    is_new: the observation was not stored. changed: it was stored, and its key or first_seen moves.
    """

    rows: pd.DataFrame
    is_new: np.ndarray
    changed: np.ndarray

    @property
    def to_write(self) -> pd.DataFrame:
        return self.rows[self.is_new | self.changed]


def differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise "not equal", where two missing values are equal (NaN, None, NaT alike)."""
    a_missing, b_missing = a.isna().to_numpy(), b.isna().to_numpy()
    equal = (a.astype(object).to_numpy() == b.astype(object).to_numpy()) & ~a_missing & ~b_missing
    return ~(equal | (a_missing & b_missing))


def earliest(first: pd.Series, other: pd.Series) -> pd.Series:
    """Per row, the earlier of two first_seen dates; a missing one never wins over a known one."""
    return first.where(other.isna() | (first.notna() & (first < other)), other)


def merge_links(new: pd.DataFrame, stored: pd.DataFrame) -> LinkMerge:
    """Merge the extract's link observations (unique by account_id, kind, value) with the stored
    ones for the same observations (account_id, kind, value, key, first_seen; others ignored)."""
    old = stored[[*LINK_KEY, "key", "first_seen"]]
    merged = new.merge(old, on=LINK_KEY, how="left", suffixes=("", "_old"), indicator=True)
    is_new = (merged["_merge"] == "left_only").to_numpy()
    old_seen = merged["first_seen_old"]
    seen = earliest(merged["first_seen"], old_seen)
    changed = ~is_new & (differs(merged["key"], merged["key_old"]) | differs(seen, old_seen))
    merged["first_seen"] = seen
    merged["key_old"] = merged["key_old"].astype(object).where(merged["key_old"].notna(), None)
    rows = merged.drop(columns=["_merge", "first_seen_old"])
    return LinkMerge(rows=rows, is_new=is_new, changed=changed)
