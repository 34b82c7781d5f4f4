"""The SQLite workspace: atomic, idempotent loads, update rules, locking, results, audit, investigation."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time

import pandas as pd
import pytest
from workspace_data import ACCOUNTS, LINKS, TXNS, make_dataset, sweep_record

from fraudgraph.errors import LockedError, NotFoundError
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


@pytest.fixture
def ws(tmp_path):
    w = SqliteWorkspace(tmp_path / "ws.db")
    yield w
    w.close()


def test_load_roundtrip_keeps_ids_and_raw_spellings(ws):
    s = ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    assert (s.accounts_new, s.links_new, s.transactions_new) == (4, 7, 2)
    acc = ws.accounts()
    assert acc["account_id"].tolist() == ["007", "A2", "A3", "A4"]  # '007' stays a string
    assert acc.loc[acc["account_id"] == "A2", "label"].item() == "fraud"
    assert pd.isna(acc.loc[acc["account_id"] == "A3", "credit_limit"].item())
    assert acc["created_at"].dtype == "datetime64[ns]"
    links = ws.links()
    assert set(links["value"]) >= {"N/A", "dev-1 ", "(555) 123-4567"}  # raw spellings kept
    assert links.loc[links["value"] == "N/A", "key"].isna().all()
    tx = ws.transactions()
    assert tx["txn_id"].tolist() == ["t1", "t2"]
    assert tx["timestamp"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00")


def test_reload_is_idempotent(ws):
    ds = make_dataset(ACCOUNTS, LINKS, TXNS)
    ws.load(ds)
    again = ws.load(ds)
    assert again.unchanged
    assert len(ws.links()) == 7 and len(ws.accounts()) == 4


def test_newer_extract_updates_accounts_and_keeps_earliest_first_seen(ws):
    ws.load(make_dataset(ACCOUNTS, LINKS))
    newer_accounts = [list(a) for a in ACCOUNTS]
    newer_accounts[0][3] = 900.0  # balance changed
    newer_links = [
        ("007", "device", "DEV-1", "dev-1", "2024-03-01"),  # later sighting: first_seen must stay 2024-02-01
        ("A4", "phone", "+1 555 123 4567", "5551234567", "2024-06-01"),  # unknown before: now known
        ("A4", "card", "4111", "4111", "2024-06-02"),  # new observation
    ]
    s = ws.load(make_dataset([tuple(a) for a in newer_accounts], newer_links))
    assert (s.accounts_new, s.accounts_updated) == (0, 1)
    assert (s.links_new, s.links_updated) == (1, 1)
    links = ws.links().set_index(["account_id", "kind", "value"])
    assert links.loc[("007", "device", "DEV-1"), "first_seen"] == pd.Timestamp("2024-02-01")
    assert links.loc[("A4", "phone", "+1 555 123 4567"), "first_seen"] == pd.Timestamp("2024-06-01")
    assert ws.accounts(["007"])["balance"].item() == 900.0


def test_failed_load_leaves_previous_contents(ws, monkeypatch):
    ws.load(make_dataset(ACCOUNTS, LINKS))
    before = (ws.accounts(), ws.links())
    bad = make_dataset(ACCOUNTS + [("A5", "2024-01-05", 1.0, 1.0, 0, "active", None)], LINKS)
    # A failure half-way (after accounts were written, during links) must roll everything back.
    bad.links = bad.links.assign(value=[*bad.links["value"][:-1], None])  # NOT NULL violation on the last row
    with pytest.raises(sqlite3.IntegrityError):
        ws.load(bad)
    pd.testing.assert_frame_equal(ws.accounts(), before[0])
    pd.testing.assert_frame_equal(ws.links(), before[1])


def test_schema_version_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / "ws.db"
    SqliteWorkspace(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    from fraudgraph.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="schema version 99"):
        SqliteWorkspace(path)


def _hold_lock(path, ready, release):
    w = SqliteWorkspace(path)
    with w.sweep_lock("holder"):
        ready.set()
        release.wait(20)


def _crash_holding_lock(path, ready):
    import os

    w = SqliteWorkspace(path)
    cm = w.sweep_lock("crasher")
    cm.__enter__()
    ready.set()
    time.sleep(0.2)
    os._exit(1)  # dies without releasing: the kernel drops the lock


def test_lock_held_by_another_process_raises_then_is_free(tmp_path):
    path = tmp_path / "ws.db"
    SqliteWorkspace(path).close()
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(str(path), ready, release))
    p.start()
    try:
        assert ready.wait(30)
        w = SqliteWorkspace(path)
        with pytest.raises(LockedError, match="holder"), w.sweep_lock("second"):
            pass
    finally:
        release.set()
        p.join(30)
    with w.sweep_lock("second"):
        pass


def test_crashed_holders_lock_is_recovered(tmp_path):
    path = tmp_path / "ws.db"
    SqliteWorkspace(path).close()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    p = ctx.Process(target=_crash_holding_lock, args=(str(path), ready))
    p.start()
    assert ready.wait(30)
    p.join(30)
    assert p.exitcode == 1
    with SqliteWorkspace(path).sweep_lock("after crash"):
        pass


def test_save_sweep_roundtrip_and_status(ws):
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    ws.save_sweep(sweep_record())
    rings = ws.table("rings")
    assert rings["reasons"].iloc[0][0]["code"] == "SHARED_DEVICE"
    assert rings["features"].iloc[0] == {"size": 2}
    assert ws.table("ring_members", ring_id="R-000001")["account_id"].tolist() == ["007", "A2"]
    assert ws.table("decisions", action=["suspend"])["account_id"].tolist() == ["007", "A2"]
    assert ws.next_ring_number() == 2
    assert ws.account_state()["status"].tolist() == ["suspended"]
    st = ws.status()
    assert st["counts"] == {"accounts": 4, "links": 7, "transactions": 2}
    assert st["last_sweep"]["sweep_id"] == "S-000001"
    kinds = {k["kind"]: k for k in st["kinds"]}
    assert kinds["email"]["no_identity"] == 2 and kinds["phone"]["identifiers"] == 1
    assert st["distinct_identifiers"] == 3  # dev-1, the phone, the ip
    ws.save_sweep(sweep_record("S-000002"))
    assert ws.notices(since_sweep="S-000001")["sweep_id"].tolist() == ["S-000002"]
    assert len(ws.notices()) == 2
    with pytest.raises(NotFoundError):
        ws.notices(since_sweep="S-999999")


def test_audit_is_append_only(ws):
    ws.load(make_dataset(ACCOUNTS, LINKS))
    ws.save_sweep(sweep_record())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws._db.execute("UPDATE audit SET actor='someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws._db.execute("DELETE FROM audit")
    assert ws.audit("007")["event"].tolist() == ["escalate"]


def test_analyst_label_overrides_loaded_label_and_survives_reload(ws):
    ds = make_dataset(ACCOUNTS, LINKS)
    ws.load(ds)
    ws.apply_manual(
        state=pd.DataFrame(columns=["account_id"]).iloc[0:0], audit=pd.DataFrame(), label=("A2", "legit")
    )
    assert ws.accounts(["A2"])["label"].item() == "legit"
    ws.load(ds)
    assert ws.accounts(["A2"])["label"].item() == "legit"


def test_neighbourhood_does_not_expand_hubs(ws):
    accounts = [(f"H{i}", "2024-01-01", 100.0, 0.0, 0, "active", None) for i in range(30)]
    links = [(f"H{i}", "ip", "1.2.3.4", "1.2.3.4", None) for i in range(30)]  # a carrier IP
    links += [
        ("H0", "device", "d0", "d0", None),
        ("H1", "device", "d0", "d0", None),
        ("H1", "card", "c1", "c1", None),
        ("H2", "card", "c1", "c1", None),
    ]
    ws.load(make_dataset(accounts, links))
    hood = ws.neighbourhood(["H0"], hops=1, max_nodes=100, hub_threshold=10)
    assert set(hood.accounts["account_id"]) == {"H0", "H1"}  # through the device, not through the IP
    ip = hood.identifiers.set_index("kind").loc["ip"]
    assert bool(ip["is_hub"]) and not bool(ip["expanded"]) and int(ip["n_accounts"]) == 30
    assert any("hub" in n for n in hood.notes)
    two = ws.neighbourhood(["H0"], hops=2, max_nodes=100, hub_threshold=10)
    assert set(two.accounts["account_id"]) == {"H0", "H1", "H2"}
    capped = ws.neighbourhood(["H0"], hops=2, max_nodes=4, hub_threshold=100)
    assert capped.truncated and any("capped" in n for n in capped.notes)


def test_shortest_path_through_shared_identifiers_not_hubs(ws):
    accounts = [(f"P{i}", "2024-01-01", 100.0, 0.0, 0, "active", None) for i in range(30)]
    links = [(f"P{i}", "ip", "9.9.9.9", "9.9.9.9", None) for i in range(30)]
    links += [
        ("P0", "device", "D-A", "d-a", None),
        ("P1", "device", "d-a", "d-a", None),
        ("P1", "phone", "555", "555", None),
        ("P2", "phone", "555", "555", None),
    ]
    ws.load(make_dataset(accounts, links))
    chain = ws.shortest_path("P0", "P2", max_hops=6, hub_threshold=10)
    assert [n.get("account_id") or n["key"] for n in chain] == ["P0", "d-a", "P1", "555", "P2"]
    assert sorted(chain[1]["raw_values"]) == ["D-A", "d-a"]
    assert ws.shortest_path("P0", "P5", max_hops=6, hub_threshold=10) is None  # only the hub IP links them
    with pytest.raises(NotFoundError):
        ws.shortest_path("P0", "nope", max_hops=6, hub_threshold=10)


def test_columnar_snapshot_matches_the_tables_after_updates(ws):
    """Sweeps read the Parquet snapshot; it must hold exactly what the SQL tables hold."""
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    newer = [list(a) for a in ACCOUNTS]
    newer[1][2] = 2500.0
    ws.load(
        make_dataset(
            [tuple(a) for a in newer] + [("A9", "2024-09-09", 10.0, 0.0, 0, "closed", None)],
            [
                ("007", "device", "DEV-1", "dev-1", "2024-01-15"),
                ("A9", "card", "c9", "c9", None),
                ("A4", "phone", "+1 555 123 4567", "5551234567", "2024-06-01"),
            ],
            [
                ("t2", "A2", "shop-1", "merchant", 20.0, "2024-05-02T10:00:00", "refunded"),
                ("t3", "A9", "A2", "account", 5.0, "2024-06-02T10:00:00", "settled"),
            ],
        )
    )
    ids = ws.accounts()["account_id"].tolist()
    assert ids == ["007", "A2", "A3", "A4", "A9"]
    pd.testing.assert_frame_equal(ws.accounts(), ws.accounts(ids), check_dtype=False)
    snap, rows = ws.links(), ws.links(ids)
    pd.testing.assert_frame_equal(snap.reset_index(drop=True), rows.reset_index(drop=True), check_dtype=False)
    assert snap.set_index(["account_id", "kind", "value"]).loc[
        ("007", "device", "DEV-1"), "first_seen"
    ] == pd.Timestamp("2024-01-15")
    tx, tx_rows = ws.transactions(), ws.transactions(ids)
    pd.testing.assert_frame_equal(tx, tx_rows, check_dtype=False)
    assert tx.set_index("txn_id").loc["t2", "status"] == "refunded"
