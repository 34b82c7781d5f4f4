"""A sweep reads the links lean (Arrow-backed keys, a missing key NaN, categorical kinds) and
frees what each stage no longer needs: what it finds must be what the plain object frames give."""

from __future__ import annotations

import pandas as pd

from fraudgraph.detection.pipeline import detect
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


def test_the_sweeps_lean_links_find_exactly_what_the_plain_links_find(swept_db):
    with SqliteWorkspace(swept_db) as ws:
        accounts, transactions = ws.accounts(), ws.transactions()
        plain, lean = ws.links(), ws.detection_links()
    assert plain["key"].isna().any()  # links that carry no identity are part of the case
    assert lean["kind"].dtype == "category"
    as_plain = lean.astype({"kind": object, "key": object})
    as_plain["key"] = as_plain["key"].where(as_plain["key"].notna(), None)
    pd.testing.assert_frame_equal(as_plain, plain, check_dtype=False)
    want = detect(accounts, plain, transactions, seed=0)
    got = detect(accounts, lean, transactions, seed=0)
    assert len(want.rings) > 0
    for name in ("rings", "ring_members", "account_scores", "hubs", "ring_identifiers", "account_features"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)


def test_kinds_read_from_parts_of_different_dictionaries_are_one_sorted_category(tmp_path, monkeypatch):
    # Each snapshot part keeps its own dictionary of kinds, in the order it met them: read as one
    # categorical column, the kinds are those of the plain links and ordered as pandas orders them
    # (the identity graph numbers kinds by their category codes).
    from workspace_data import ACCOUNTS, LINKS, TXNS, make_dataset

    from fraudgraph.workspace.sqlite import store

    monkeypatch.setattr(store.snapshot_parts, "ROWS_PER_PART", {"links": 2})
    monkeypatch.setattr(store, "_SMALL_LOAD", 0)
    with SqliteWorkspace(tmp_path / "ws.db") as ws:
        ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
        assert ws._count("snapshots") > 3
        plain = ws.links()
        for values in (True, False):
            lean = ws.detection_links(values=values)
            assert list(lean["kind"].cat.categories) == sorted(set(plain["kind"]))
            assert lean["kind"].astype(object).tolist() == plain["kind"].tolist()
            assert lean["kind"].cat.codes.tolist() == [sorted(set(plain["kind"])).index(k) for k in plain["kind"]]
