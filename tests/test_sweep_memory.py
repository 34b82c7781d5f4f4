"""A whole-world sweep holds less (issue 13, 10M accounts): detection reads what it needs of the
transactions before the graph and lets them go (``features.Ledger``), the policy reads a dismissed
account's transactions by account, and the raw link values are read after the graph, for the
links of linking identifiers only. Each must find exactly what the plain frames find."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import fraudgraph.detection.keys as keys_mod
import fraudgraph.detection.pipeline as pipeline_mod
import fraudgraph.workspace.sqlite.store as store_mod
from fraudgraph.decisions.verdicts import AccountData, snapshots
from fraudgraph.detection.features import Ledger, account_table, ring_clocks, ring_features, shared_identifiers
from fraudgraph.detection.graph import DetectionConfig, build_identity_graph, positions
from fraudgraph.detection.keys import factorize_keys
from fraudgraph.detection.pipeline import detect, handover
from fraudgraph.detection.rings import find_candidate_rings, money_flow
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

FRAMES = ("rings", "ring_members", "account_scores", "hubs", "ring_identifiers", "account_features")


def _world(n: int, seed: int):
    """A synthetic world whose links carry their canonical keys, as the workspace gives them."""
    world = generate_world(n, seed=seed)
    world.links = world.links.assign(key=canonical_keys(world.links["kind"], world.links["value"]))
    return world


def _same_detection(got, want) -> None:
    assert len(want.rings) > 0
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)


def test_the_ledger_gives_the_features_the_transactions_give():
    world = _world(3_000, 11)
    config = DetectionConfig()
    graph = build_identity_graph(world.accounts, world.links, config)
    tx = world.transactions
    ledger = Ledger.of(tx, graph.account_ids, config)
    assert (ledger.chargebacks[1] > 0).any()  # chargebacks are part of the case
    flow = money_flow(tx, graph.account_ids, config)
    assert (ledger.flow.transfers != flow.transfers).nnz == 0
    cands = find_candidate_rings(graph, flow, config)
    want_table, got_table = account_table(world.accounts, graph, tx), account_table(world.accounts, graph, ledger)
    pd.testing.assert_frame_equal(got_table, want_table)
    day = ring_clocks(graph, want_table, cands.cluster_of, 20_000.0)
    shared = shared_identifiers(graph, cands.cluster_of, day, config)
    want = ring_features(graph, cands, want_table, shared, flow, tx, day, config)
    got = ring_features(graph, cands, got_table, shared, ledger.flow, ledger, day, config)
    assert want["chargeback_share"].gt(0).any()
    pd.testing.assert_frame_equal(got, want)


def test_handed_over_transactions_are_let_go_once_their_flow_is_taken_and_find_the_same(monkeypatch):
    """The money flow is taken in a thread beside the graph: the transactions are held until it
    has run, then let go, before the rings and everything after."""
    world = _world(2_000, 12)
    want = detect(world.accounts, world.links, world.transactions, seed=0)
    tx = world.transactions.copy()
    alive = weakref.ref(tx)
    reader = handover(tx)
    del tx
    seen = []
    rings = pipeline_mod.find_candidate_rings

    def watching(*args, **kwargs):
        seen.append(alive() is None)
        return rings(*args, **kwargs)

    monkeypatch.setattr("fraudgraph.detection.pipeline.find_candidate_rings", watching)
    got = detect(world.accounts, world.links, reader, seed=0)
    assert seen == [True]  # nothing held the transactions when the rings were sought
    _same_detection(got, want)


def test_links_read_without_values_find_the_same_spellings(swept_db):
    with SqliteWorkspace(swept_db) as ws:
        accounts, transactions = ws.accounts(), ws.transactions()
        whole, lean = ws.detection_links(), ws.detection_links(values=False)
        assert "value" not in lean.columns and "value" in whole.columns
        asked = []

        def values(rows):
            asked.append(len(rows))
            return ws.link_values(rows)

        want = detect(accounts, whole, transactions, seed=0)
        got = detect(accounts, lean, transactions, seed=0, values=values)
        assert 0 < asked[0] < len(whole)  # the values of linking identifiers' links only
        _same_detection(got, want)
        # A backtest drops later links first: the values are still those of the right rows.
        as_of = whole["first_seen"].dropna().sort_values().iloc[len(whole) // 2]
        want = detect(accounts, whole, transactions, seed=0, as_of=as_of)
        got = detect(accounts, lean, transactions, seed=0, as_of=as_of, values=ws.link_values)
        _same_detection(got, want)


def test_link_values_reads_the_rows_asked_for_across_snapshot_parts(world_dir, tmp_path, monkeypatch):
    from fraudgraph.ingest.contract import read_dataset

    monkeypatch.setattr(store_mod, "_SNAPSHOT_ROWS", 997)
    with SqliteWorkspace(tmp_path / "ws.db") as ws:
        ws.load(read_dataset(world_dir))
        values = ws.detection_links()["value"]
        assert len(values) > 3 * 997  # several parts
        rows = np.sort(np.random.default_rng(0).choice(len(values), 500, replace=False))
        rows[0], rows[-1] = 0, len(values) - 1
        got = ws.link_values(rows)
        assert got.tolist() == values.take(rows).tolist()
        assert ws.link_values(np.zeros(0, dtype=np.int64)).empty


def test_keys_hashed_in_slices_are_numbered_as_pandas_numbers_them(monkeypatch):
    monkeypatch.setattr(keys_mod, "_HASH_ROWS", 7)
    words = ["a", "bb", "", "a", "ccc", None, "bb", "dddd", "é", "a", "zz"] * 5 + ["q"]
    keys = pd.Series(words, dtype=pd.StringDtype(storage="pyarrow"))
    codes, uniques = factorize_keys(keys)
    want_codes, want_uniques = pd.factorize(keys)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)


def test_positions_match_whatever_string_type_either_side_has():
    index = pd.Index(["A3", "A1", "A2"], dtype=object)
    wanted = ["A1", "x", "A2", "A3", "A1"]
    expected = [1, -1, 2, 0, 1]
    for type_ in (pa.string(), pa.large_string()):
        values = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([wanted], type=type_)))
        assert positions(values, index).tolist() == expected
    assert positions(pd.Series(wanted, dtype=object), index).tolist() == expected


def test_the_dismissal_check_reads_transactions_by_account_as_the_frame_gives_them():
    world = _world(2_000, 13)
    tx = world.transactions
    ids = sorted(set(tx["account_id"].astype(str).head(40)) | set(tx["counterparty"].astype(str).head(40)))
    accounts = world.accounts[world.accounts["account_id"].isin(ids)]
    members = pd.DataFrame({"ring_id": ["R-1"] * len(ids), "account_id": ids})
    asked = []

    def by_account(account_ids):
        asked.append(list(account_ids))
        wanted = tx["account_id"].isin(account_ids) | tx["counterparty"].isin(account_ids)
        return tx[wanted]

    want = snapshots(accounts, AccountData(world.links, tx, members))
    got = snapshots(accounts, AccountData(world.links, by_account, members))
    assert got == want
    assert asked == [sorted(accounts["account_id"].astype(str))]  # one read, of those accounts only
    assert any(s["transactions"][0] > 0 for s in got.values())


def _one_more_account(folder, account_id: str, card: str) -> None:
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        f"account_id,created_at,credit_limit\n{account_id},2026-11-01T10:00:00,1000\n", encoding="utf-8"
    )
    (folder / "links.csv").write_text(f"account_id,kind,value\n{account_id},card,{card}\n", encoding="utf-8")
    (folder / "transactions.csv").write_text(
        "txn_id,account_id,counterparty,counterparty_kind,amount,timestamp\n", encoding="utf-8"
    )


def test_a_load_during_a_sweep_leaves_the_spellings_it_shows_right_or_stops_it(world_dir, tmp_path, monkeypatch):
    # The sweep reads the spellings of ring identifiers by position, after the graph; a load in
    # between (a `check --apply`, a small delta; its account sorts first) must not shift them, and one that rewrote the
    # snapshot stops the sweep before it writes anything.
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.errors import WorkspaceError
    from fraudgraph.ingest.contract import read_dataset

    db = tmp_path / "ws.db"
    with SqliteWorkspace(db) as ws:
        ws.load(read_dataset(world_dir))
    small = tmp_path / "small"
    _one_more_account(small, "0-first-1", "4111 1111 1111 1111")
    original = SqliteWorkspace.link_values

    def after_a_load(self, rows):
        with SqliteWorkspace(db) as other:
            other.load(read_dataset(small))
        return original(self, rows)

    monkeypatch.setattr(SqliteWorkspace, "link_values", after_a_load)
    with SqliteWorkspace(db) as ws:
        run_sweep(ws, seed=0)
        found = ws.table("ring_identifiers")
    assert len(found)
    for row in found.itertuples(index=False):
        spelled = pd.Series([row.kind] * len(row.raw_values)), pd.Series(row.raw_values)
        assert set(canonical_keys(*spelled)) == {row.key}, row  # each spelling is its identifier's

    # A load that rewrites the snapshot (a big one, or one that folds the delta parts in).
    db = tmp_path / "other.db"
    with SqliteWorkspace(db) as ws:
        ws.load(read_dataset(world_dir))
    monkeypatch.setattr(store_mod, "_SMALL_LOAD", 0)
    monkeypatch.setattr(SqliteWorkspace, "_delta_room", lambda self: 0)
    with SqliteWorkspace(db) as ws:
        with pytest.raises(WorkspaceError, match="while this sweep ran"):
            run_sweep(ws, seed=0)
        assert ws.sweeps().empty  # nothing of the sweep was written
