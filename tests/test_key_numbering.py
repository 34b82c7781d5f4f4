"""The identity graph numbers identifier keys from their hashes (``fraudgraph.detection.keys``):
the numbering must be pd.factorize's exactly, or identifiers (and so rings) would change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudgraph.detection import keys as keys_module
from fraudgraph.detection.keys import factorize_keys

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


def test_object_keys_are_numbered_as_before():
    keys = pd.Series(VALUES, dtype=object)
    codes, uniques = factorize_keys(keys)
    want_codes, want_uniques = pd.factorize(keys)
    assert np.array_equal(codes, want_codes) and list(uniques) == list(want_uniques)
