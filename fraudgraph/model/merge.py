"""How a load merges link observations into the stored ones: the rule, written once.

A link observation is (account_id, kind, value). Seen again, it keeps its **earliest known
first_seen** (an unknown date never replaces a known one) and takes the **newest key** (a better
normalizer may re-key a value). Both backends merge with ``merge_links`` (Neo4j against the
server's rows, SQLite against its columnar snapshot) and write only the rows it returns, as it
decided them; a conformance test checks SQLite's tables and snapshot agree after loads that
update rows.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def in_key_order(frame: pd.DataFrame, key: list[str]) -> bool:
    """Whether every row's ``key`` comes strictly before the next row's (as ``key_order`` sorts):
    one comparison of neighbours, not a sort (8.5M links: 0.36 s instead of 0.75 s)."""
    return _strictly_sorted(pa.table({c: pa.array(frame[c], from_pandas=True) for c in key}))


# Rows ``sorted_by_key`` compares first: most unsorted frames show it in their first rows, so they
# do not pay for comparing every neighbour.
_FIRST_ROWS = 4096


def sorted_by_key(columns: Mapping[str, pd.Series], key: list[str]) -> bool:
    """Whether ``key_order`` of these columns is every row in its place (each row's key not after
    the next row's; equal keys may repeat), so a caller can skip the sort and the reordering
    copies (an export ordered by the key is). False where a key column has a missing value
    (the sort puts those last). The first rows are compared before all of them."""
    arrays = [pa.array(columns[c].array, from_pandas=True) for c in key]
    if any(a.null_count for a in arrays):
        return False
    n = len(arrays[0]) if arrays else 0
    return all(_neighbours_in_order(arrays, rows, strict=False) for rows in (min(n, _FIRST_ROWS), n))


def merged_over(new: pd.DataFrame, stored: pd.DataFrame | None, key: list[str]) -> pd.DataFrame:
    """``new`` (rows already merged by a plan) and the ``stored`` rows it does not replace, sorted by
    ``key``: what a table holds after a load that wrote ``new``.

    A few new rows over many stored ones already in key order (a snapshot and its delta parts) are
    placed by binary search (``merged_in_order``); otherwise both are sorted together
    (``merged_by_sort``). The two give the same rows, order and dtypes (a property test checks it);
    the index is a fresh RangeIndex either way."""
    if stored is None:
        return new
    fast = merged_in_order(new, stored, key)
    return fast if fast is not None else merged_by_sort(new, stored, key)


def merged_by_sort(new: pd.DataFrame, stored: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``merged_over`` by hashing every key and sorting every row: any frames, in O(n log n)."""
    both = pd.concat([new, stored.loc[not_replaced(stored, new, key), new.columns]], ignore_index=True)
    return both.take(key_order(both, key)).reset_index(drop=True)


# The search pays about ten Arrow calls per query row and halving step; a sort of everything is
# cheaper once the new rows are more than this share of the stored ones.
_SEARCH_SHARE = 8


def merged_in_order(new: pd.DataFrame, stored: pd.DataFrame, key: list[str]) -> pd.DataFrame | None:
    """``merged_over`` without sorting or hashing the stored rows, or None where it does not apply.

    It applies when ``stored`` is strictly in key order (sorted, unique: a snapshot is; checked, one
    comparison per adjacent pair), ``new`` is unique by key and at most an eighth of it, the key
    columns are text or integers with no missing value, and each column has the same dtype in both
    (then concatenating them keeps it). The new rows, sorted among themselves, find their places
    in ``stored`` by binary search; the stored rows they replace are dropped and they are inserted
    there: each column is joined from slices (Arrow-backed text uncopied), or, past _MAX_PIECES
    runs, taken in one go."""
    columns = list(new.columns)
    if not len(new) or len(new) * _SEARCH_SHARE > len(stored) or not set(columns) <= set(stored.columns):
        return None
    if any(new[c].dtype != stored[c].dtype for c in columns):
        return None
    base, adds = _key_table(stored, key), _key_table(new, key)
    if base is None or adds is None or not base.schema.equals(adds.schema) or not _strictly_sorted(base):
        return None
    new_order = key_order(new, key)
    adds = adds.take(new_order).combine_chunks()
    if not _strictly_sorted(adds):
        return None  # repeated new keys: the sort keeps them all, in their order
    place, found = _places(base, [adds.column(i).chunk(0) for i in range(adds.num_columns)])
    new = new.take(new_order)
    pieces = _pieces(place, found, len(stored))
    if len(pieces) <= _MAX_PIECES:
        return _frame({c: _joined_pieces(stored[c].array, new[c].array, pieces) for c in columns})
    removed = place[found]  # sorted, as the new rows are
    kept = np.delete(np.arange(len(stored)), removed)
    order = np.insert(kept, place - np.searchsorted(removed, place), len(stored) + np.arange(len(new)))
    return _frame({c: _taken(stored[c].array, new[c].array, order) for c in columns})


def _frame(columns: dict) -> pd.DataFrame:
    """A frame of these column arrays, in their dtypes (a frame built of an object array of text
    would infer text), uncopied."""
    return pd.DataFrame({c: pd.Series(v, dtype=v.dtype, copy=False) for c, v in columns.items()}, copy=False)


# Up to this many runs (of stored rows, or of new rows between two stored ones) the merged columns
# are joined from slices (Arrow-backed text keeps them as its chunks); past it, one take per column.
_MAX_PIECES = 10_000


def _pieces(place: np.ndarray, found: np.ndarray, stored_rows: int) -> list[tuple[bool, int, int]]:
    """The merged rows as runs (from_new, start, stop), in order: the stored rows before each new
    row's place (less the one it replaces), the sorted new rows, the stored rows after the last."""
    resume = np.concatenate([[0], place[:-1] + found[:-1]])  # the stored row after the previous new row
    gap = np.flatnonzero(place > resume)  # new rows with stored rows just before them
    starts = np.concatenate([[0], gap]) if not len(gap) or gap[0] else gap
    out: list[tuple[bool, int, int]] = []
    for i, j in zip(starts.tolist(), [*starts[1:].tolist(), len(place)]):
        if place[i] > resume[i]:
            out.append((False, int(resume[i]), int(place[i])))
        out.append((True, i, j))
    end = int(place[-1] + found[-1])
    if end < stored_rows:
        out.append((False, end, stored_rows))
    return out


def _joined_pieces(stored, new, pieces: list[tuple[bool, int, int]]):
    """One column of the merged rows, from slices of ``stored`` and ``new`` (one dtype). Arrow-backed
    text is not copied: its slices become the chunks of the result (a copy into one array costs
    as much as the rest of the merge, most of it in fresh memory)."""
    return type(stored)._concat_same_type([(new if from_new else stored)[a:b] for from_new, a, b in pieces])


def _arrow_backed(dtype) -> bool:
    return isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow")


def _one_chunk(values):
    """Arrow-backed values in one contiguous Arrow array (others as they are)."""
    if not _arrow_backed(values.dtype):
        return values
    arrow = pa.array(values)
    if not isinstance(arrow, pa.ChunkedArray) or arrow.num_chunks <= 1:
        return values
    combined = values.dtype.__from_arrow__(pa.chunked_array([arrow.combine_chunks()]))
    return combined if combined.dtype == values.dtype else values


def _key_table(frame: pd.DataFrame, key: list[str]) -> pa.Table | None:
    """The key columns in Arrow (no copy of Arrow-backed text), or None when one is neither text nor
    integers or has a missing value (where the sort's placement of missing keys decides)."""
    try:
        table = pa.table({c: pa.array(frame[c], from_pandas=True) for c in key})
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    for column in table.columns:
        kind = column.type
        if column.null_count or not (
            pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
        ):
            return None
    return table


def _bools(values) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def _compared(a: list, b: list) -> np.ndarray:
    """Per row, -1, 0 or 1 as row i of the key columns ``a`` comes before, equals or comes after
    row i of ``b`` (text in code-point order: Arrow compares UTF-8 bytes, as its sort does)."""
    out = np.zeros(len(a[0]), dtype=np.int8)
    open_ = np.ones(len(a[0]), dtype=bool)
    for x, y in zip(a, b):
        before, after = _bools(pc.less(x, y)), _bools(pc.greater(x, y))
        out[open_ & before] = -1
        out[open_ & after] = 1
        open_ &= ~(before | after)
    return out


def _strictly_sorted(table: pa.Table) -> bool:
    """Every row's key comes strictly before the next row's."""
    return _neighbours_in_order(table.columns, table.num_rows, strict=True)


def _neighbours_in_order(columns: list, rows: int, *, strict: bool) -> bool:
    """Whether each of the first ``rows`` rows of the key ``columns`` comes before the next one
    (``strict``) or at least not after it."""
    if rows < 2:
        return True
    compared = _compared([c.slice(0, rows - 1) for c in columns], [c.slice(1, rows - 1) for c in columns])
    return bool((compared < 0 if strict else compared <= 0).all())


def _searched(columns: list, queries: list, side: str) -> np.ndarray:
    """For each query row, how many rows of the sorted key ``columns`` come before it ("left": the
    rows less than it; "right": the rows not greater): a binary search of all queries at once."""
    lo = np.zeros(len(queries[0]), dtype=np.int64)
    hi = np.full(len(queries[0]), len(columns[0]), dtype=np.int64)
    todo = np.flatnonzero(lo < hi)
    while len(todo):
        mid = (lo[todo] + hi[todo]) // 2
        c = _compared([x.take(mid) for x in columns], [q.take(todo) for q in queries])
        right = c < 0 if side == "left" else c <= 0
        lo[todo[right]] = mid[right] + 1
        hi[todo[~right]] = mid[~right]
        todo = todo[lo[todo] < hi[todo]]
    return lo


def _places(base: pa.Table, queries: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """For each query key, its place in the strictly sorted ``base`` (how many rows come before it),
    and whether the row there has the same key. Searched one record batch at a time (plain arrays:
    Arrow takes from a chunked array slowly), after finding each query's batch by its first rows."""
    batches = [b for b in base.to_batches() if b.num_rows]
    width = base.num_columns
    firsts = [pa.concat_arrays([b.column(i).slice(0, 1) for b in batches]) for i in range(width)]
    batch_of = _searched(firsts, queries, "right") - 1  # -1: before the first row
    offsets = np.cumsum([0] + [b.num_rows for b in batches])
    place = np.zeros(len(queries[0]), dtype=np.int64)
    found = np.zeros(len(queries[0]), dtype=bool)
    for j in np.unique(batch_of[batch_of >= 0]):
        rows = np.flatnonzero(batch_of == j)
        asked = [q.take(rows) for q in queries]
        columns = [batches[j].column(i) for i in range(width)]
        local = _searched(columns, asked, "left")
        at = np.minimum(local, batches[j].num_rows - 1)
        same = _compared([x.take(at) for x in columns], asked) == 0
        place[rows] = offsets[j] + local
        found[rows] = (local < batches[j].num_rows) & same
    return place, found


def _taken(stored, new, order: np.ndarray):
    """The values of ``stored`` then ``new`` (one dtype) at ``order``: Arrow-backed ones taken from one
    contiguous Arrow array (a take from a chunked one is several times slower)."""
    return _one_chunk(type(stored)._concat_same_type([stored, new])).take(order)


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
