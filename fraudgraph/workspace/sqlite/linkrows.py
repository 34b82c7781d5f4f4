"""How the SQLite workspace finds links without a text row per link.

8.5M link rows (1M accounts) and their (kind, key) index were most of SQLite's work in a load:
9.5 s of rows and 7.3 s of index, for data the columnar snapshot holds anyway. Now:

- an account's links are read from the snapshot's Parquet parts: the links' parts are small
  (``parts.ROWS_PER_PART``) and each knows its first and last account, so a point query reads only
  the parts that can hold its accounts;
- who holds an identifier is one holder row per link that carries an identity, (h, account_id,
  value), h a 64-bit hash of the identifier's kind and key (``identifier_hashes``), kept sorted by
  hash as columnar parts with the rows added and gone since (``holders``). Asking for an
  identifier reads its holders and their raw spellings off them alone.
- Two identifiers that share a hash would mix there, so every load looks for them: among its own
  identifiers (``colliding``), and between each new one and the identifier already stored under
  its hash. A hash found shared is remembered (meta ``identifier_collisions``); the holders found
  under it are then checked against their links in the snapshot, one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudgraph.detection.keys import string_hashes

IDENTIFIER_ACCOUNTS = "identifier_accounts"

_KIND_MIX = np.uint64(0xD6E8FEB86659FD93)


def text_array(values, *, combine: bool = True) -> pa.Array | pa.ChunkedArray:
    """A column (pandas or Arrow) as one Arrow string array; missing values null. Without
    ``combine`` an Arrow-backed column's chunks are kept as they are (no copy of its strings:
    some gigabytes for a column of 85M links)."""
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if hasattr(values.array, "__arrow_array__"):
            arr = pa.array(values.array)
        else:
            arr = pa.array(values.astype(object).where(values.notna(), None).tolist(), type=pa.string())
    else:
        arr = values
    if isinstance(arr, pa.ChunkedArray) and combine:
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or (not combine and pa.types.is_large_string(arr.type))):
        arr = arr.cast(pa.string())
    return arr


def kind_codes(kinds) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each row's kind as a code (int, -1 for none), each code's 64-bit kind number (uint64, its
    name's string hash times a constant) and its name: a categorical column's own codes, else its
    names dictionary-encoded."""
    if isinstance(kinds, pd.Series) and isinstance(kinds.dtype, pd.CategoricalDtype):
        names = pa.array(kinds.cat.categories.astype(object).tolist(), pa.string())
        codes = kinds.cat.codes.to_numpy()
    else:
        encoded = pc.dictionary_encode(text_array(kinds))
        names = encoded.dictionary
        codes = encoded.indices.to_numpy(zero_copy_only=False)
    with np.errstate(over="ignore"):
        return codes, string_hashes(names) * _KIND_MIX, names.to_pylist()


def identifier_hashes(kinds, keys) -> np.ndarray:
    """The index's 64-bit number (int64, as SQLite stores it) of each (kind, key): the key's string
    hash mixed with its kind's. A row without a key gets a number that means nothing
    (``index_rows`` leaves those out)."""
    keys = text_array(keys, combine=False)  # hashed chunk by chunk: no copy of the column
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    codes, kind_hashes, _ = kind_codes(kinds)
    mixed = string_hashes(keys)
    for at in range(0, len(mixed), _MIX_ROWS):  # in place, a slice at a time: one array of 8 bytes a row
        mixed[at : at + _MIX_ROWS] ^= kind_hashes[codes[at : at + _MIX_ROWS]]
    return mixed.view(np.int64)


_MIX_ROWS = 1 << 20


def pair_hashes(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """``identifier_hashes`` of (kind, key) pairs."""
    return identifier_hashes(pa.array([p[0] for p in pairs], pa.string()), pa.array([p[1] for p in pairs], pa.string()))


def index_rows(links: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ``identifier_accounts`` rows of ``links`` (unique by account, kind and value, as links
    are): their hashes and the positions of their links, ordered by hash (ties in the links' order,
    so a load's links, sorted by account and value, go in in the table's key order). Links without
    a key make none."""
    keyed = links["key"].notna().to_numpy()
    if not keyed.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Memory counts at 10M accounts (85M links: 0.7 GB an array of 8-byte numbers): every row is
    # hashed and ordered, and the rows without a key dropped after, from the order alone.
    h = identifier_hashes(links["kind"], links["key"])  # over every row: no copy of the frame
    order = _stable_order(h)
    order = order[keyed[order]]
    h = h[order]
    rows = order.astype(np.int32) if len(links) < 2**31 else order  # positions in 4 bytes
    return h, rows


_FAST_ORDER_ROWS = 1 << 25


def _stable_order(h: np.ndarray) -> np.ndarray:
    """``np.argsort(h, kind="stable")``, in about half its time: numpy's stable sort of 64-bit
    numbers is a merge sort (1.3-1.5 s for the 8.5M links at 1M accounts), its default sort a
    vectorized one. That sort gives the order of the hashes; the rows of each run of equal hashes
    are then put back in their own order by one sort of (run number, row) packed in a number
    (0.7-0.8 s for both; the same order). It holds 9 bytes a row more than the merge sort at its
    height, so past ``_FAST_ORDER_ROWS`` (some 4M accounts, where a load's memory is tight) the
    merge sort it is."""
    n = len(h)
    if n > _FAST_ORDER_ROWS:
        return np.argsort(h, kind="stable")
    if n < 2:
        return np.arange(n, dtype=np.int64)
    order = np.argsort(h)
    ordered = h[order]
    change = ordered[1:] != ordered[:-1]
    del ordered
    run = np.empty(n, dtype=np.int64)
    run[0] = 0
    np.cumsum(change, out=run[1:])
    del change
    # run < n and row < n: run * n + row < n * n, which fits in 63 bits at this many rows.
    run *= n
    run += order
    del order
    run.sort()
    run %= n
    return run


def colliding(h: np.ndarray, rows: np.ndarray, kinds, keys) -> list[int]:
    """The hashes that two different identifiers share, among index rows sorted by hash (``h``, and
    ``rows``: their links' positions in ``kinds`` and ``keys``): wherever two neighbours have the
    same hash, their identifiers are compared."""
    if len(h) < 2:
        return []
    same = np.flatnonzero(h[1:] == h[:-1])
    if not len(same):
        return []
    # Kinds compared by their codes, keys in the column's own chunks: no copy of either column
    # (a categorical column spelled out as 85M Python strings took gigabytes at 10M accounts).
    codes = kind_codes(kinds)[0]
    keys = text_array(keys, combine=False)
    mine, theirs = rows[same], rows[same + 1]
    other_kind = codes[mine] != codes[theirs]
    other_key = pc.not_equal(keys.take(pa.array(mine)), keys.take(pa.array(theirs)))
    differ = other_kind | np.asarray(other_key.to_numpy(zero_copy_only=False), dtype=bool)
    return sorted({int(x) for x in h[same[differ]]})


__all__ = [
    "IDENTIFIER_ACCOUNTS",
    "colliding",
    "identifier_hashes",
    "index_rows",
    "kind_codes",
    "pair_hashes",
    "text_array",
]
