"""The snapshot's delta parts merged over its base by binary search (``merged_in_order``) give what
the sort of everything gave (the merge before it): the same rows, in the same order, with the same
dtypes, on random frames -- keys repeated across parts, replaced twice, new keys before, after and
between the stored ones, text in code-point order, missing values, mismatched dtypes (where the
search declines and the sort runs)."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings, strategies as st

from fraudgraph.model import merge
from fraudgraph.model.merge import key_order, merged_in_order, merged_over, not_replaced

# Code points from both sides of the ASCII range, the key joiner's \x1f, and an astral one.
TEXT = st.text(alphabet=st.sampled_from(["a", "b", "B", "0", " ", "\x1f", "é", "ÿ", "中", "😀"]), max_size=3)
DATES = st.one_of(st.none(), st.datetimes(min_value=pd.Timestamp("2020-01-01"), max_value=pd.Timestamp("2027-01-01")))


def merged_as_before(new: pd.DataFrame, stored: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``merged_over`` as it was: hash every key, concatenate, sort everything."""
    both = pd.concat([new, stored.loc[not_replaced(stored, new, key), new.columns]], ignore_index=True)
    return both.take(key_order(both, key))


def frame(keys: list[tuple], key: list[str], ints: bool, values: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame({c: [k[i] for k in keys] for i, c in enumerate(key)})
    for c in key:
        df[c] = df[c].astype("int64" if ints else "str")
    df["note"] = pd.Series([v[0] for v in values], dtype="str")
    df["seen"] = pd.Series([v[1] for v in values], dtype="datetime64[ns]")
    df["amount"] = pd.Series([v[2] for v in values], dtype="float64")
    df["label"] = pd.Series([v[3] for v in values], dtype=object)
    return df


def chunked(df: pd.DataFrame, rows: int) -> pd.DataFrame:
    """``df`` with its text columns in Arrow chunks of ``rows`` rows (as a snapshot read leaves them)."""
    batches = pa.Table.from_pandas(df, preserve_index=False).to_batches(max_chunksize=rows)
    arrow = pa.Table.from_batches(batches).to_pandas()
    out = df.copy()
    for c in df.columns:
        if df[c].dtype == "str":
            assert arrow[c].dtype == df[c].dtype
            out[c] = arrow[c]
    return out


@st.composite
def cases(draw):
    wide = draw(st.booleans())
    key = ["account_id", "kind", "value"] if wide else ["id"]
    ints = not wide and draw(st.booleans())
    part = st.integers(-30, 30) if ints else TEXT
    pool = draw(st.lists(st.tuples(*[part] * len(key)), min_size=1, max_size=30, unique=True))
    stored_keys = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True))
    in_order = draw(st.booleans())
    stored_keys = sorted(stored_keys) if in_order else draw(st.permutations(stored_keys))
    in_order = stored_keys == sorted(stored_keys)
    value = st.tuples(
        st.one_of(st.none(), TEXT), DATES, st.one_of(st.none(), st.floats(-1e6, 1e6)), st.one_of(st.none(), TEXT)
    )
    stored = frame(stored_keys, key, ints, draw(st.lists(value, min_size=len(stored_keys), max_size=len(stored_keys))))
    stored = chunked(stored, draw(st.integers(1, 8)))
    parts = []
    for keys in draw(st.lists(st.lists(st.sampled_from(pool), max_size=8, unique=True), min_size=1, max_size=3)):
        parts.append(frame(keys, key, ints, draw(st.lists(value, min_size=len(keys), max_size=len(keys)))))
    new = pd.concat(parts, ignore_index=True)
    if draw(st.booleans()):  # as a snapshot read merges its delta parts: the last one wins
        new = new.drop_duplicates(key, keep="last")
    unique = not new.duplicated(key).any()
    same_dtypes = draw(st.integers(0, 4)) > 0
    if not same_dtypes:
        stored["note"] = stored["note"].astype(object)
    return new, stored, key, in_order and unique and same_dtypes and len(new) > 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from([10_000, 0]))
def test_the_search_merges_like_the_sort_of_everything(case, max_pieces):
    new, stored, key, searchable = case
    want = merged_as_before(new, stored, key).reset_index(drop=True)
    with patch.object(merge, "_SEARCH_SHARE", 0), patch.object(merge, "_MAX_PIECES", max_pieces):
        searched = merged_in_order(new, stored, key)
        got = merged_over(new, stored, key)
    assert (searched is not None) == searchable
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_exact=True)
    if searched is not None:
        pd.testing.assert_frame_equal(searched, want, check_exact=True)


def test_a_delta_over_a_big_chunked_snapshot_matches_the_sort():
    """Thousands of rows in many record batches (the search finds each new row's batch first)."""
    rng = np.random.default_rng(5)
    ids = np.unique(rng.integers(0, 10**6, 6000))
    keys = [(f"A{i:07d}", kind, f"v{j}") for i in ids for kind, j in (("email", i % 3), ("phone", i % 7))]
    n = len(keys)
    values = [
        ("x" if i % 5 else None, pd.Timestamp("2026-01-01") + pd.Timedelta(i, "s"), float(i), None) for i in range(n)
    ]
    stored = chunked(frame(keys, ["account_id", "kind", "value"], False, values), 997)
    picks = rng.choice(n, 300, replace=False)
    fresh = [(f"A{i:07d}n", "email", "z") for i in rng.integers(0, 10**6, 200)] + [("", "a", "a"), ("ZZ", "z", "z")]
    new_keys = list(dict.fromkeys([keys[i] for i in picks] + fresh))
    new = frame(new_keys, ["account_id", "kind", "value"], False, [("new", pd.NaT, 1.0, "l")] * len(new_keys))
    key = ["account_id", "kind", "value"]
    searched = merged_in_order(new, stored, key)
    assert searched is not None
    want = merged_as_before(new, stored, key).reset_index(drop=True)
    pd.testing.assert_frame_equal(searched, want, check_exact=True)
    assert len(searched) == n + len(new_keys) - 300


def test_the_search_declines_a_stored_table_out_of_key_order():
    stored = frame([("b",), ("a",)], ["id"], False, [(None, None, None, None)] * 2)
    new = frame([("c",)], ["id"], False, [("n", None, 1.0, None)])
    with patch.object(merge, "_SEARCH_SHARE", 0):
        assert merged_in_order(new, stored, ["id"]) is None
        assert merged_over(new, stored, ["id"])["id"].tolist() == ["a", "b", "c"]
