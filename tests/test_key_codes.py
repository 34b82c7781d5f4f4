"""A load numbers the keys of the links it stores whole (the snapshot's ``key_code``), and the
sweep's identity graph takes those numbers instead of hashing every key again: the numbers must
be the ones the graph would make, must never outlive the rows they number, and numbers that do
not fit the keys must be refused, not used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from workspace_data import ACCOUNTS, LINKS, TXNS, make_dataset

from fraudgraph.detection import keys as key_numbering
from fraudgraph.detection.keys import factorize_keys, key_codes, numbered_keys
from fraudgraph.detection.pipeline import detect
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.model.frames import LINK_COLUMNS
from fraudgraph.workspace.sqlite import store
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

_OUTPUTS = ("rings", "ring_members", "account_scores", "hubs", "ring_identifiers", "account_features")


def test_a_load_stores_the_graphs_own_numbering_and_the_sweep_finds_the_same_with_it(swept_db):
    with SqliteWorkspace(swept_db) as ws:
        accounts, transactions = ws.accounts(), ws.transactions()
        lean = ws.detection_links(values=False)
        plain = ws.links()
    assert "key_code" in lean and "key_code" not in plain
    assert plain["key"].isna().any()  # links without a key have no number (-1)
    lean["value"] = plain["value"].to_numpy()  # the raw spellings the reasons show, in the same order
    want_codes, want_keys = factorize_keys(lean["key"])
    np.testing.assert_array_equal(lean["key_code"].to_numpy(), want_codes)
    codes, keys = numbered_keys(lean["key"], lean["key_code"].to_numpy())
    np.testing.assert_array_equal(codes, want_codes)
    assert list(keys) == list(want_keys)
    with_codes = detect(accounts, lean, transactions, seed=0)
    without = detect(accounts, lean.drop(columns=["key_code"]), transactions, seed=0)
    assert len(without.rings) > 0
    for name in _OUTPUTS:
        pd.testing.assert_frame_equal(getattr(with_codes, name), getattr(without, name), obj=name)


def test_the_numbers_go_with_the_snapshot_they_number(tmp_path, monkeypatch):
    """A delta part (a small load) makes the stored numbering partial: the sweep then reads no
    numbers at all; a load that rewrites the snapshot whole numbers the merged links again. No
    reader but the sweep's lean one ever sees the column."""
    monkeypatch.setattr(store, "_SMALL_LOAD", 0)
    monkeypatch.setattr(store, "_MAX_DELTA_ROWS", 2)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    many = [(f"B{i:03d}", "2024-01-01", 1.0, 0.0, 0, "active", None) for i in range(40)]
    many_links = [(f"B{i:03d}", "device", f"dev-{i % 7}", f"dev-{i % 7}", None) for i in range(40)]
    ws.load(make_dataset(ACCOUNTS + many, LINKS + many_links, TXNS))
    assert "key_code" in ws.detection_links(values=False)

    extra = ("B001", "card", "4000 2", "40002", None)
    ws.load(make_dataset(ACCOUNTS + many, LINKS + many_links + [extra], TXNS))  # one delta part
    lean = ws.detection_links(values=False)
    assert "key_code" not in lean
    assert ("B001", "40002") in set(zip(lean["account_id"], lean["key"]))
    assert list(ws.links().columns) == LINK_COLUMNS

    bigger = [(a, c, 2.0, *rest) for a, c, _, *rest in many]  # every B account changes: rewritten whole
    ws.load(make_dataset(ACCOUNTS + bigger, LINKS + many_links + [extra], TXNS))
    assert ws._delta_parts("links") == 0
    lean = ws.detection_links(values=False)
    assert ("B001", "40002") in set(zip(lean["account_id"], lean["key"]))
    np.testing.assert_array_equal(lean["key_code"].to_numpy(), factorize_keys(lean["key"])[0])
    ws.close()


def test_a_workspace_stored_before_the_numbers_is_swept_as_before(world_dir, tmp_path, monkeypatch):
    """Snapshot parts written without ``key_code`` (an older fraudgraph) read as they are."""
    monkeypatch.setattr(store, "_with_key_codes", lambda rows, given=None: rows())
    with SqliteWorkspace(tmp_path / "old.db") as ws:
        ws.load(read_dataset(world_dir))
        assert not ws._key_codes_stored()
        lean = ws.detection_links(values=False)
        assert "key_code" not in lean and len(lean) > 0


def _keys(values) -> pd.Series:
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize(
    ("keys", "codes", "why"),
    [
        (["a", "b", "a"], [0, 1], "a length that differs"),
        (["a", "b", "a"], [1, 0, 1], "not numbered by first use"),
        (["a", "b", "a"], [0, 2, 0], "a gap in the numbers"),
        (["a", None, "a"], [0, 1, 0], "a missing key with a number"),
        (["a", "b", "a"], [0, -1, 0], "a key without a number"),
        (["a", "b", "c", "b"], [0, 1, 2, 2], "a number of another key"),
        (["a", "b", "a"], [0.0, 1.0, 0.0], "numbers that are not integers"),
    ],
)
def test_numbers_that_do_not_fit_the_keys_are_refused(keys, codes, why):
    assert numbered_keys(_keys(keys), np.array(codes)) is None, why


def test_numbers_that_fit_give_what_factorize_gives():
    keys = _keys(["x", None, "y", "x", "z", None, "y"])
    codes, uniques = numbered_keys(keys, np.array([0, -1, 1, 0, 2, -1, 1], dtype=np.int32))
    want_codes, want_uniques = factorize_keys(keys)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(uniques) == list(want_uniques) == ["x", "y", "z"]


def test_the_graph_hashes_the_keys_when_the_stored_numbers_do_not_fit(swept_db):
    """Links reordered after they were read (their numbers no longer by first use) are numbered
    again: the graph finds what it finds without any numbers."""
    with SqliteWorkspace(swept_db) as ws:
        accounts, transactions = ws.accounts(), ws.transactions()
        lean = ws.detection_links(values=False)
        lean["value"] = ws.links()["value"].to_numpy()
    shuffled = lean.iloc[::-1].reset_index(drop=True)
    assert numbered_keys(shuffled["key"], shuffled["key_code"].to_numpy()) is None
    got = detect(accounts, shuffled, transactions, seed=0)
    want = detect(accounts, shuffled.drop(columns=["key_code"]), transactions, seed=0)
    for name in _OUTPUTS:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)


def test_the_loads_lean_numbering_is_factorizes_and_survives_a_shared_hash(monkeypatch):
    keys = pd.Series(["b", None, "a", "b", "c", "a", None, "d"] * 3, dtype="str")
    want = factorize_keys(keys)[0]
    got = key_codes(keys)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
    monkeypatch.setattr(key_numbering, "_CHECK_ROWS", 5)  # the check, a slice at a time
    np.testing.assert_array_equal(key_codes(keys), want)
    # Every key one hash: the check finds different keys under one number and numbers them again.
    monkeypatch.setattr(key_numbering, "_string_hashes", lambda chunk: np.zeros(len(chunk), np.uint64))
    np.testing.assert_array_equal(key_codes(keys), want)


def test_the_holders_key_numbers_are_the_same_sorted_in_one_group_or_many(monkeypatch):
    """At 10M accounts the load numbers 74M identifiers' key hashes; it sorts the ones that may
    repeat in groups of their top bits (one sort of them all took 1.8 GiB more at the load's peak).
    The numbers must not depend on the grouping: first use order, a repeated hash its first's."""
    from fraudgraph.workspace.sqlite import holders

    rng = np.random.default_rng(7)
    ordered = rng.integers(0, 2**64 - 1, size=5000, dtype=np.uint64)
    ordered[rng.integers(0, 5000, 800)] = ordered[rng.integers(0, 5000, 800)]  # keys used again
    monkeypatch.setattr(holders, "_SCREEN_FROM", 1 << 30)  # every identifier goes to the sort
    whole = holders._key_numbers(ordered.copy())
    _, first, inverse = np.unique(ordered, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(whole, pd.factorize(first[inverse])[0])  # numbered by first use
    for group in (1, 64, 700):
        monkeypatch.setattr(holders, "_GROUP", group)  # up to 256 groups of the top bits
        np.testing.assert_array_equal(holders._key_numbers(ordered.copy()), whole)
