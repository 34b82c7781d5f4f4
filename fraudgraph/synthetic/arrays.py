"""Small vectorized tools: deterministic hashing and id spreading, group sizes, and building
strings column-wise from integer arrays (one Arrow string array, never a Python loop per row)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from fraudgraph.synthetic.kinds import ADDRESS, BANK, NATIONAL_ID


def mix64(values: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 finaliser: a deterministic pseudo-random uint64 per input value."""
    z = np.asarray(values).astype(np.uint64) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def spread(ids: np.ndarray, space: int, offset: int) -> np.ndarray:
    """Map distinct ids < space to distinct, scattered numbers in [0, space).

    An affine map with a multiplier near space / golden ratio and coprime to space: a bijection
    that sends neighbouring ids far apart (so consecutive entities do not get consecutive numbers).
    """
    if len(ids) and int(ids.max()) >= space:
        raise ValueError(f"entity id {int(ids.max())} does not fit the value space {space}")
    multiplier = int(space * 0.6180339887) | 1
    while math.gcd(multiplier, space) != 1:
        multiplier += 2
    if len(ids) and int(ids.max()) * multiplier >= 2**63:
        raise ValueError(f"entity id {int(ids.max())} too large for the value space {space}")
    return (ids.astype(np.int64) * multiplier + offset % space) % space


def ranks(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count c, concatenated (the position of each repeated row in its group)."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def spelled_apart(kind: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Spellings that normalization does not bring back to the entity's other spellings:
    swapped letters (addresses) or digits (national ids), and 'routing/account' bank numbers
    (fraudgraph.ingest.normalize drops spaces, dashes and dots from them, not slashes)."""
    typo = ((kind == ADDRESS) | (kind == NATIONAL_ID)) & ((variant & 4) != 0)
    return typo | ((kind == BANK) & (variant % 3 == 2))


def tie_keys(kind: np.ndarray, entity: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """One int64 per value a normalizer keeps apart: (kind, entity), plus the variant for the
    spellings it leaves apart."""
    spelling = np.where(spelled_apart(kind, variant), variant & 8191, 8191)
    return (entity.astype(np.int64) * 8 + kind) * 8192 + spelling


def group_sizes(rng: np.random.Generator, target: int, sizes, probs) -> np.ndarray:
    """Draw group sizes until they cover about `target` members."""
    if target <= 0:
        return np.zeros(0, dtype=np.int64)
    mean = float(np.dot(sizes, probs))
    draw = rng.choice(np.asarray(sizes), p=np.asarray(probs), size=int(target / mean * 1.3) + 8)
    keep = np.cumsum(draw) <= target
    return draw[keep].astype(np.int64)


def lognormal_sizes(rng, target, median, sigma, lo, hi) -> np.ndarray:
    """Group sizes from a clipped log-normal, until they cover about `target` members."""
    if target <= 0:
        return np.zeros(0, dtype=np.int64)
    draw = np.clip(np.rint(rng.lognormal(np.log(median), sigma, size=int(target / lo) + 8)), lo, hi)
    keep = np.cumsum(draw) <= target
    sizes = draw[keep].astype(np.int64)
    if len(sizes) == 0:
        sizes = np.array([min(target, hi)], dtype=np.int64) if target >= lo else sizes
    return sizes


HEX_LOWER = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def hex_chars(values: np.ndarray, digits: int, upper: np.ndarray) -> np.ndarray:
    """The low `digits` hex digits of each value, as a (rows, digits) matrix of ASCII codes."""
    shifts = np.arange(digits - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = ((values.astype(np.uint64)[:, None] >> shifts) & np.uint64(15)).astype(np.intp)
    return np.where(upper[:, None], HEX_UPPER[nibbles], HEX_LOWER[nibbles])


def digit_chars(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of each value, as a (rows, width) matrix of ASCII codes."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (48 + (np.asarray(values).astype(np.int64)[:, None] // powers) % 10).astype(np.uint8)


def join_chars(rows: int, *pieces) -> np.ndarray:
    """Concatenate character matrices and constant byte strings column-wise."""
    columns = [
        np.broadcast_to(np.frombuffer(p, dtype=np.uint8), (rows, len(p))) if isinstance(p, bytes) else p for p in pieces
    ]
    return np.concatenate(columns, axis=1)


def chars_to_text(chars: np.ndarray) -> pa.Array:
    """A (rows, width) ASCII matrix as an Arrow string array, without a Python object per row."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    if chars.shape[0] == 0:
        return pa.array([], pa.string())
    return pa.array(chars.view(f"S{chars.shape[1]}").ravel(), type=pa.binary()).cast(pa.string())


def concat(arrays) -> pa.Array:
    """One contiguous Arrow array from arrays or chunked arrays (large inputs come back chunked)."""
    chunks: list[pa.Array] = []
    for a in arrays:
        chunks.extend(a.chunks if isinstance(a, pa.ChunkedArray) else [a])
    return pa.chunked_array(chunks, type=chunks[0].type).combine_chunks()


def in_row_order(rows: int, parts) -> pa.Array:
    """Reassemble (row indexes, texts) parts into one array in row order."""
    index = np.concatenate([r for r, _ in parts])
    texts = concat([t for _, t in parts])
    position = np.empty(rows, dtype=np.int64)
    position[index] = np.arange(rows)
    return texts.take(pa.array(position))


def by_layout(layout: np.ndarray, layouts) -> pa.Array:
    """Spell each row with the layout its variant picks; a layout maps row indexes to pieces."""
    parts = []
    for number, pieces in enumerate(layouts):
        r = np.flatnonzero(layout == number)
        if len(r):
            parts.append((r, chars_to_text(join_chars(len(r), *pieces(r)))))
    return in_row_order(len(layout), parts)


def popularity(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def coded_names(names, codes: np.ndarray) -> pa.Array:
    return pa.array(list(names), type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))
