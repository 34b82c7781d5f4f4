"""How a load merges link observations into the stored ones: the rule, written once.

A link observation is (account_id, kind, value). Seen again, it keeps its **earliest known
first_seen** (an unknown date never replaces a known one) and takes the **newest key** (a better
normalizer may re-key a value). Both backends merge with ``merge_links`` (Neo4j against the
server's rows, SQLite against its columnar snapshot) and write only the rows it returns, as it
decided them; a conformance test checks SQLite's tables and snapshot agree after loads that
update rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
        written = self.is_new | self.changed
        return self.rows if written.all() else self.rows[written]  # a first load: no copy of millions

    @property
    def counts(self) -> tuple[int, int]:
        """(new, updated), as a load reports them."""
        return int(self.is_new.sum()), int(self.changed.sum())


def differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise "not equal", where two missing values are equal (NaN, None, NaT alike).
    Dates and numbers compare in their own types; only text falls back to Python objects."""
    a_missing, b_missing = a.isna().to_numpy(), b.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(a) and pd.api.types.is_datetime64_any_dtype(b):
        same = a.to_numpy(dtype="datetime64[ns]") == b.to_numpy(dtype="datetime64[ns]")
    elif pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        same = a.to_numpy(dtype=np.float64, na_value=np.nan) == b.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        same = a.astype(object).to_numpy() == b.astype(object).to_numpy()
    equal = same & ~a_missing & ~b_missing
    return ~(equal | (a_missing & b_missing))


def earliest(first: pd.Series, other: pd.Series) -> pd.Series:
    """Per row, the earlier of two first_seen dates; a missing one never wins over a known one."""
    return first.where(other.isna() | (first.notna() & (first < other)), other)


def _joined(frame: pd.DataFrame, key: list[str]) -> pa.Array:
    """The key columns joined into one text per row (pyarrow joins the columns in C)."""
    columns = [pc.fill_null(pa.array(frame[c], from_pandas=True).cast(pa.string()), "") for c in key]
    joined = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, "\x1f")
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _positions(new: pd.DataFrame, stored: pd.DataFrame, key: list[str]) -> np.ndarray:
    """For each row of ``new``, the position of the stored row with the same key, or -1.

    One hashed lookup on a joined text key, several times faster than a pandas merge on three
    text columns at a million rows."""
    if not len(stored):
        return np.full(len(new), -1, dtype=np.int64)
    return pd.Index(_joined(stored, key).to_numpy(zero_copy_only=False)).get_indexer(
        pd.Index(_joined(new, key).to_numpy(zero_copy_only=False))
    )


def not_replaced(stored: pd.DataFrame, new: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Which stored rows keep their place once ``new`` is merged over them (no new row has their key)."""
    if not len(new):
        return np.ones(len(stored), dtype=bool)
    found = pc.is_in(_joined(stored, key), value_set=_joined(new, key))
    return ~np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def key_order(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Positions that sort ``frame`` by ``key`` as ``sort_values(key, kind="stable")`` does (text in
    code-point order, ties in their order), with pyarrow's sort: seconds instead of tens of seconds
    for pandas' lexsort of three text columns at 8M rows."""
    table = pa.table({c: pa.array(frame[c], from_pandas=True) for c in key})
    return pc.sort_indices(table, sort_keys=[(c, "ascending") for c in key]).to_numpy()


def merged_over(new: pd.DataFrame, stored: pd.DataFrame | None, key: list[str]) -> pd.DataFrame:
    """``new`` (rows already merged by a plan) and the ``stored`` rows it does not replace, sorted by
    ``key``: what a table holds after a load that wrote ``new``."""
    if stored is None:
        return new
    both = pd.concat([new, stored.loc[not_replaced(stored, new, key), new.columns]], ignore_index=True)
    return both.take(key_order(both, key))


def _aligned(stored: pd.Series, pos: np.ndarray) -> pd.Series:
    """``stored`` values at ``pos`` (missing where pos is -1), aligned with the new rows, in
    ``stored``'s own type where it has a missing value (dates, numbers)."""
    return stored.reset_index(drop=True).reindex(pos).reset_index(drop=True)


def merge_links(new: pd.DataFrame, stored: pd.DataFrame) -> LinkMerge:
    """Merge the extract's link observations (unique by account_id, kind, value) with the stored
    ones for the same observations (account_id, kind, value, key, first_seen; others ignored)."""
    pos = _positions(new, stored, LINK_KEY)
    is_new = pos < 0
    old_key = _aligned(stored["key"].astype(object), pos)
    old_seen = pd.to_datetime(_aligned(stored["first_seen"], pos)).astype("datetime64[ns]")
    rows = new[[*LINK_KEY, "key", "first_seen"]].reset_index(drop=True).copy()
    seen = earliest(pd.to_datetime(rows["first_seen"]).astype("datetime64[ns]"), old_seen)
    changed = ~is_new & (differs(rows["key"], old_key) | differs(seen, old_seen))
    rows["first_seen"] = seen
    rows["key_old"] = old_key.where(old_key.notna(), None)
    return LinkMerge(rows=rows, is_new=is_new, changed=changed)


@dataclass
class RowMerge:
    """An extract's rows against the stored rows with the same key: which are new, which changed."""

    is_new: np.ndarray
    changed: np.ndarray

    @property
    def counts(self) -> tuple[int, int]:
        """(new, updated): what a load reports, the same on every backend by construction."""
        return int(self.is_new.sum()), int(self.changed.sum())


def merge_rows(new: pd.DataFrame, stored: pd.DataFrame | None, key: str, columns: list[str]) -> RowMerge:
    """Accounts and transactions: a row whose key is stored is updated when any of ``columns``
    differs (missing equals missing); the newer extract's values win."""
    if stored is None or not len(stored):
        return RowMerge(is_new=np.ones(len(new), dtype=bool), changed=np.zeros(len(new), dtype=bool))
    pos = _positions(new, stored, [key])
    is_new = pos < 0
    changed = np.zeros(len(new), dtype=bool)
    for c in columns:
        changed |= differs(new[c].reset_index(drop=True), _aligned(stored[c], pos))
    return RowMerge(is_new=is_new, changed=changed & ~is_new)
