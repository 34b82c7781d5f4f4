"""Sweep results, state and logs on every backend: saved sweeps read back, status, the sweep lock."""

from __future__ import annotations

import pandas as pd
import pytest
from workspace_data import hand_made_dataset, record

from fraudgraph.errors import LockedError, NotFoundError

TABLES = ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions")


def test_a_saved_sweep_reads_back(swept_workspace):
    ws = swept_workspace
    rings = ws.table("rings")
    assert rings["reasons"].iloc[0][0]["code"] == "SHARED_DEVICE"
    assert rings["features"].iloc[0] == {"size": 2}
    assert ws.table("ring_members", ring_id="R-000001")["account_id"].tolist() == ["A2", "007"]  # as saved
    assert ws.table("decisions", action=["suspend"])["account_id"].tolist() == ["007", "A2"]
    assert ws.table("account_scores", ring_id=None)["account_id"].tolist() == ["A3", "A4"]
    assert ws.table("ring_identifiers")["raw_values"].tolist() == [["DEV-1", "dev-1 "]]
    assert ws.table("hubs")[["kind", "key", "n_accounts"]].values.tolist() == [["ip", "10.0.0.1", 5000]]
    assert ws.next_ring_number() == 2
    assert ws.account_state()["status"].tolist() == ["suspended"]
    assert ws.sweeps()["sweep_id"].tolist() == ["S-000002", "S-000001"]  # newest first


def test_saved_results_have_the_reference_backends_columns_and_types(swept_workspace, reference):
    ref = reference()
    ref.load(hand_made_dataset())
    ref.save_sweep(record())
    ref.save_sweep(record("S-000002"))
    for name in TABLES:
        pd.testing.assert_frame_equal(swept_workspace.table(name), ref.table(name), obj=name)
    pd.testing.assert_frame_equal(
        swept_workspace.table("decisions", action=["suspend"]), ref.table("decisions", action=["suspend"])
    )
    pd.testing.assert_frame_equal(
        swept_workspace.table("account_scores", ring_id=None), ref.table("account_scores", ring_id=None)
    )
    for read in ("account_state", "audit", "notices", "reviews", "sweeps"):
        pd.testing.assert_frame_equal(getattr(swept_workspace, read)(), getattr(ref, read)(), obj=read)
    mine, theirs = swept_workspace.status(), ref.status()
    for key in ("counts", "kinds", "distinct_identifiers", "rings", "last_sweep"):
        assert mine[key] == theirs[key], key


def test_notices_and_audit_by_sweep_and_account(swept_workspace):
    ws = swept_workspace
    assert ws.notices(since_sweep="S-000001")["sweep_id"].tolist() == ["S-000002"]
    assert len(ws.notices()) == 2
    with pytest.raises(NotFoundError):
        ws.notices(since_sweep="S-999999")
    assert ws.audit("007")["event"].tolist() == ["escalate", "escalate"]
    assert ws.audit("A4").empty
    assert ws.reviews().empty


def test_audit_count_counts_the_audit_trail_without_reading_it(swept_workspace, workspace):
    assert swept_workspace.audit_count() == len(swept_workspace.audit()) == 2
    assert workspace.audit_count() == 0


def test_status_counts_identifiers_and_the_last_sweep(swept_workspace):
    st = swept_workspace.status()
    assert st["backend"] == swept_workspace.backend
    assert st["counts"] == {"accounts": 4, "links": 7, "transactions": 3}
    assert st["last_sweep"]["sweep_id"] == "S-000002"
    assert st["rings"] == 1
    kinds = {k["kind"]: k for k in st["kinds"]}
    assert kinds["email"] == {"kind": "email", "links": 2, "identifiers": 0, "no_identity": 2}
    assert kinds["phone"]["identifiers"] == 1
    assert st["distinct_identifiers"] == 3  # dev-1, the phone, the ip
    assert st["last_load"]["accounts_new"] == 4


def test_the_sweep_lock_is_exclusive_and_released_on_exit(store_maker):
    store = store_maker.new_store()
    one, two = store_maker.open(store), store_maker.open(store)
    with one.sweep_lock("nightly sweep"), pytest.raises(LockedError, match="nightly sweep"):
        with two.sweep_lock("second"):
            pass
    with two.sweep_lock("second"):  # released on exit
        pass
    with one.sweep_lock("third"):  # and again
        pass
