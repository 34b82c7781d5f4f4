"""The identity graph numbers identifier keys from their hashes (``fraudgraph.detection.keys``):
the numbering must be pd.factorize's exactly, or identifiers (and so rings) would change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudgraph.detection import keys as keys_module
from fraudgraph.detection.keys import factorize_keys, text_ranks

VALUES = ["d1", "", "p:+4930", "d1", None, "ÿß", "", "p:+4930", "x" * 600, "d2", None, "d1"]


def _arrow_keys(values, storage: str = "pyarrow") -> pd.Series:
    return pd.Series(values, dtype=pd.StringDtype(storage=storage))


@pytest.mark.parametrize("values", [VALUES, [v for v in VALUES if v is not None], [None, None], ["only"]])
def test_numbering_is_pd_factorize(values):
    keys = _arrow_keys(values)
    codes, uniques = factorize_keys(keys)
    want_codes, want_uniques = pd.factorize(keys)
    assert np.array_equal(codes, want_codes)
    assert uniques.equals(want_uniques) and uniques.dtype == want_uniques.dtype


def test_sliced_chunks_are_numbered_by_their_own_rows():
    keys = _arrow_keys(VALUES * 50).iloc[7:401].reset_index(drop=True)
    codes, uniques = factorize_keys(keys)
    want_codes, want_uniques = pd.factorize(keys)
    assert np.array_equal(codes, want_codes) and uniques.equals(want_uniques)


def test_colliding_hashes_do_not_merge_keys(monkeypatch):
    # Every key hashing alike is the worst collision: the check must catch it, and the numbering
    # still be pd.factorize's (two different keys are two identifiers).
    monkeypatch.setattr(keys_module, "_string_hashes", lambda chunk: np.zeros(len(chunk), dtype=np.uint64))
    keys = _arrow_keys(VALUES)
    codes, uniques = factorize_keys(keys)
    want_codes, want_uniques = pd.factorize(keys)
    assert np.array_equal(codes, want_codes) and uniques.equals(want_uniques)
    assert len(uniques) == 6


def _hash_by_the_definition(text: str) -> int:
    """The stored hash, spelled out: the sum of (byte + 1) * M^place, mixed with the length."""
    m, mask = int(keys_module._MULTIPLIER), (1 << 64) - 1
    data = text.encode()
    h = sum((b + 1) * pow(m, i, 1 << 64) for i, b in enumerate(data)) & mask
    return ((h ^ (h >> 29)) * m + len(data)) & mask


def test_string_hashes_are_the_definition_however_the_strings_are_cut(monkeypatch):
    """The workspace stores these hashes: the bytes' places worked out from the slice's powers and
    undone per string must give the definition's number, for slices, chunks, offsets and a slice
    halved for its bytes alike."""
    import pyarrow as pa

    words = [v or "" for v in VALUES] + ["ab" * k + "é漢😀" * (k % 3) for k in range(200)]
    want = [_hash_by_the_definition(w) for w in words]
    assert keys_module.string_hashes(pa.array(words, pa.large_string())).tolist() == want
    assert keys_module.string_hashes(pa.array(words, pa.string()).slice(5, 150)).tolist() == want[5:155]
    monkeypatch.setattr(keys_module, "_HASH_ROWS", 7)
    monkeypatch.setattr(keys_module, "_TABLE_BYTES", 40)  # most slices halved, some to one string
    chunked = pa.chunked_array([words[:90], words[90:]], pa.string())
    assert keys_module.string_hashes(chunked).tolist() == want


def test_object_keys_are_numbered_as_before():
    keys = pd.Series(VALUES, dtype=object)
    codes, uniques = factorize_keys(keys)
    want_codes, want_uniques = pd.factorize(keys)
    assert np.array_equal(codes, want_codes) and list(uniques) == list(want_uniques)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "a", None, "b", "ä", "A", "Ω", "", "a b"], dtype="string[pyarrow]"),
        pd.Series(["b", "a", None, "b", "ä", "A", np.nan, "zz"], dtype=object),
        pd.Series(["R-000010", "R-000002", "R-000010"], dtype=object),
        pd.Series(["phone", "device", "phone"], dtype="category").cat.reorder_categories(["phone", "device"]),
        pd.Series([3, 1, 2, 1]),
        pd.Series(["b", 1, "a"], dtype=object),
        pd.Series([], dtype=object),
    ],
)
def test_text_ranks_are_the_sorted_factorize_codes(values):
    """What np.lexsort compares for an ascending sort: Arrow's byte order for text is the code-point
    order Python sorts by (a non-ASCII letter after every ASCII one), a missing value ranks last;
    a categorical ranks by its categories' order, other values as pandas ranks them."""
    expected = pd.factorize(values, sort=True, use_na_sentinel=False)[0]
    assert text_ranks(values).tolist() == expected.tolist()


def test_text_ranks_order_keys_as_sorting_them_does():
    rng = np.random.default_rng(7)
    words = [f"{rng.choice(['acct', 'Acct', 'äcct', 'x'])}-{rng.integers(0, 50)}" for _ in range(3000)]
    keys = pd.Series(words, dtype="string[pyarrow]")
    ranks = text_ranks(keys)
    by_rank = [words[i] for i in np.argsort(ranks, kind="stable")]
    assert by_rank == sorted(words)
    assert len(set(ranks.tolist())) == len(set(words))
