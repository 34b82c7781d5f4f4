"""Numbering identifier keys without a hash table of every key string.

``pd.factorize`` of 8.5M Arrow string keys (1M accounts) builds Arrow's table of 7.4M distinct
strings, about a gigabyte at its height: the sweep's peak. ``factorize_keys`` numbers the keys as
``pd.factorize`` does (by first use, -1 for a missing key, the distinct keys in the column's own
storage) from a 64-bit hash of each key computed on Arrow's buffers, then checks every key against
its number's key, so a hash collision cannot merge two identifiers: it falls back to
``pd.factorize``.

A load numbers the keys of the links it stores whole (the snapshot's ``key_code``, computed in
the background thread that encodes the snapshot while SQLite writes); ``numbered_keys`` takes those
numbers instead of hashing the keys again, after checking they can be these keys' numbering.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudgraph.ingest.textbytes import offsets_and_bytes, value_sums
from fraudgraph.model.codes import first_use_rows

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def factorize_keys(keys: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(keys)``: a code per row by first use (-1 where the key is missing) and the
    distinct keys in that order. Arrow-backed string keys are numbered by their hashes (checked);
    any other column by ``pd.factorize`` itself."""
    numbered = _hash_numbers(keys)
    if numbered is None:
        return pd.factorize(keys)  # not Arrow strings, or two keys share a hash: the slow way
    codes, first_rows = numbered
    uniques = keys.array.take(first_rows)
    return codes.astype(np.intp, copy=False), pd.Index(uniques, dtype=uniques.dtype, copy=False)


def key_codes(keys: pd.Series) -> np.ndarray:
    """The codes of ``factorize_keys(keys)`` alone, int32 while they fit: what a load stores beside
    its links (``key_code``) while SQLite writes, without the column of distinct keys."""
    numbered = _hash_numbers(keys)
    return _narrow(pd.factorize(keys)[0]) if numbered is None else numbered[0]


def _hash_numbers(keys: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Arrow-backed string ``keys`` numbered by first use from their 64-bit hashes: each row's code
    (int32 while they fit, -1 for a missing key) and the row of each code's first use. Every
    numbered key is compared with its code's first key, a slice of rows at a time (no column of
    the distinct keys). None when two keys share a hash, or ``keys`` are empty or not Arrow strings."""
    chunks = _arrow_chunks(keys)
    if not chunks or not len(keys):
        return None
    column = pa.chunked_array(chunks)
    hashes = string_hashes(column)
    rows = None if column.null_count == 0 else np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False))
    if rows is not None:
        hashes = hashes[rows]
    found = _narrow(pd.factorize(hashes)[0])
    del hashes
    first_rows = first_use_rows(found)
    if rows is None:
        codes = found
    else:
        first_rows = rows[first_rows]
        codes = np.full(len(column), -1, dtype=found.dtype)
        codes[rows] = found
    del found, rows
    for at in range(0, len(codes), _CHECK_ROWS):
        mine = codes[at : at + _CHECK_ROWS]
        numbered = mine >= 0
        own = column.slice(at, len(mine))
        if not bool(numbered.all()):
            own = own.filter(pa.array(numbered))
        theirs = column.take(pa.array(first_rows[mine[numbered]]))
        if not pc.all(pc.equal(own, theirs)).as_py():
            return None
    return codes, first_rows


# Rows whose keys ``key_codes`` compares with their number's key at a time.
_CHECK_ROWS = 1 << 20


def _narrow(codes: np.ndarray) -> np.ndarray:
    """Codes as int32 while every code fits (int64 otherwise)."""
    return codes.astype(np.int32 if len(codes) < 2**31 else np.int64, copy=False)


def numbered_keys(
    keys: pd.Series, codes: np.ndarray, *, checked_rows: int = 4096
) -> tuple[np.ndarray, pd.Index] | None:
    """``factorize_keys(keys)`` from ``codes`` a load computed for these keys in this order (the
    snapshot's ``key_code``), without hashing a key: the codes as they are and the keys of their
    first uses. None when the codes cannot be theirs: a length that differs, a missing key with a
    code or a key without one, or codes that are not numbered by first use from 0 (the links were
    filtered or reordered since). ``checked_rows`` rows spread over the column are also compared
    with their number's key, so codes of other keys are caught as well."""
    codes = np.asarray(codes)
    if len(codes) != len(keys) or not len(keys) or codes.dtype.kind not in "iu":
        return None
    codes = codes.astype(np.intp, copy=False)
    numbered = codes >= 0
    if not np.array_equal(numbered, keys.notna().to_numpy()):
        return None
    first_rows = first_use_rows(codes)
    if not np.array_equal(codes[first_rows], np.arange(len(first_rows))):
        return None  # not numbered by first use from 0
    uniques = keys.array.take(first_rows)
    sample = np.flatnonzero(numbered)
    if len(sample):
        sample = sample[np.linspace(0, len(sample) - 1, min(checked_rows, len(sample))).astype(np.intp)]
    if len(sample) and not bool((keys.array.take(sample) == uniques.take(codes[sample])).all()):
        return None
    return codes, pd.Index(uniques, dtype=uniques.dtype, copy=False)


def _arrow_chunks(keys: pd.Series) -> list[pa.Array] | None:
    """The Arrow string chunks behind ``keys``; None when it is not an Arrow-backed string column."""
    dtype = keys.dtype
    arrow = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype)
    )
    if not arrow:
        return None
    data = keys.array.__arrow_array__()
    chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        return None
    return chunks


def string_hashes(strings: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The 64-bit hash (uint64) of each string of an Arrow string array, chunked or not. The SQLite
    workspace stores these numbers (its identifier index): changing the hash changes the format."""
    chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
    if not chunks:
        return np.zeros(0, dtype=np.uint64)
    return np.concatenate([_string_hashes(c) for c in chunks])


# Strings hashed at a time; a slice of more bytes than ``_TABLE_BYTES`` is halved until it fits
# (the powers ``_powers`` keeps: 16 bytes a place, 11 MB at 1M accounts). Slices of 32k keys hash
# 8.5M keys in 0.55 s, 131k-key slices in 0.7-0.9 s (their numbers no longer in the cache).
_HASH_ROWS = 1 << 15
_TABLE_BYTES = 1 << 21
# The multiplier's inverse (it is odd): M^-s undoes the weight of a string's start offset s.
_INVERSE = np.uint64(pow(int(_MULTIPLIER), -1, 1 << 64))
# (M^g, M^-g for g = 0, 1, ...), grown as needed.
_tables: tuple[np.ndarray, np.ndarray] = (np.ones(1, np.uint64), np.ones(1, np.uint64))


def _string_hashes(chunk: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string of one Arrow (large_)string chunk, computed on its offsets and
    bytes (no Python object per string), ``_HASH_ROWS`` strings at a time. A missing string's
    hash is meaningless (it gets no code)."""
    if len(chunk) <= _HASH_ROWS:
        return _slice_hashes(chunk)
    return np.concatenate([_slice_hashes(chunk.slice(at, _HASH_ROWS)) for at in range(0, len(chunk), _HASH_ROWS)])


def _slice_hashes(chunk: pa.Array) -> np.ndarray:
    """``_string_hashes`` of one slice: for each string of bytes b_0 .. b_(L-1), the sum of
    (b_i + 1) * M^i, mixed with its length (arithmetic mod 2^64).

    Computed as M^-s * (the sum of b_g * M^g over the string's bytes at their places g in the
    slice, s its first) + (the sum of M^i for i < L): one multiplication per byte by a power read
    in order, and a sum per string; no place within its string worked out for every byte (a
    third of the time on 8.5M keys)."""
    n = len(chunk)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets, data = offsets_and_bytes(chunk)
    if len(data) > _TABLE_BYTES and n > 1:
        half = n // 2
        return np.concatenate([_slice_hashes(chunk.slice(0, half)), _slice_hashes(chunk.slice(half))])
    lengths = np.diff(offsets)
    forward, backward = _powers(len(data))
    with np.errstate(over="ignore"):
        terms = data * forward[: len(data)]  # uint64: every byte by its place's power
        del data
        hashes = value_sums(terms, offsets, np.uint64)
        # The sum of M^i for i < L, for every length L up to the longest string's.
        sums = np.concatenate(([np.uint64(0)], np.cumsum(forward[: int(lengths.max())], dtype=np.uint64)))
        hashes = hashes * backward[offsets[:-1]] + sums[lengths]
        hashes = (hashes ^ (hashes >> np.uint64(29))) * _MULTIPLIER + lengths.astype(np.uint64)
    return hashes


def _powers(places: int) -> tuple[np.ndarray, np.ndarray]:
    """``_tables``, long enough for ``places`` bytes (one more power than that, for a slice's end
    offset). Grown (never shrunk) by whichever thread needs more; each reader keeps the tuple it
    took."""
    global _tables
    tables = _tables
    if len(tables[0]) <= places:
        size = max(places + 1, 1 << 16)
        tables = _tables = (_power_series(_MULTIPLIER, size), _power_series(_INVERSE, size))
    return tables


def _power_series(base: np.uint64, count: int) -> np.ndarray:
    """``base``'s powers 0 .. ``count`` - 1 (mod 2^64)."""
    powers = np.full(count, base, dtype=np.uint64)
    powers[0] = 1
    with np.errstate(over="ignore"):
        return np.multiply.accumulate(powers)


def text_ranks(values: pd.Series) -> np.ndarray:
    """Each value's place among the sorted distinct values, a missing one after them all: the codes
    of ``pd.factorize(values, sort=True, use_na_sentinel=False)``, what an ascending sort by
    ``values`` compares (``np.lexsort`` keys for a sort of text). Text is ranked by Arrow's sort
    (364k identifier keys at 1M accounts: 0.1 s, against 0.3-0.5 s for pandas' sorted factorize,
    which sorts the distinct values as Python strings); a categorical or a column of other values
    goes to ``pd.factorize``."""
    if isinstance(values.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_string_dtype(values.dtype) or values.dtype == object
    ):
        return pd.factorize(values, sort=True, use_na_sentinel=False)[0]
    try:
        if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
            text = pa.array(values.array)
        else:
            text = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text (or not valid UTF-8)
        return pd.factorize(values, sort=True, use_na_sentinel=False)[0]
    ranks = pc.rank(text, sort_keys="ascending", tiebreaker="dense").to_numpy()
    return ranks.astype(np.intp) - 1
