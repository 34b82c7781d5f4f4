"""Delta loads and incremental sweeps, on every backend: the data version, a delta naming stored
accounts, and incremental sweeps that give the full sweep's results (the reference's, with --full)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from workspace_data import hand_made_dataset, make_dataset

from fraudgraph.app.sweep import run_sweep

# A new account on A3's phone, and a new device of the stored account 007 shared with it.
DELTA_ACCOUNTS = [("A5", "2024-01-05", 800.0, 790.0, 0, "active", None)]
DELTA_LINKS = [
    ("A5", "phone", "555-123-4567", "5551234567", "2024-04-01"),
    ("A5", "device", "dev-9", "dev-9", "2024-04-01"),
    ("007", "device", "DEV-9", "dev-9", "2024-04-02"),
]
DELTA_TXNS = [("t9", "A5", "007", "account", 30.0, "2024-05-04T10:00:00", "settled")]


def _results(ws) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    members = ws.table("ring_members").sort_values(["ring_id", "account_id"]).reset_index(drop=True)
    scores = ws.table("account_scores").sort_values("account_id").reset_index(drop=True)[["account_id", "score"]]
    decisions = ws.table("decisions").sort_values("account_id").reset_index(drop=True)[["account_id", "action"]]
    return members, scores, decisions


def test_the_data_version_moves_with_every_load_and_label_only(workspace):
    v0 = workspace.data_version()
    workspace.load(hand_made_dataset())
    v1 = workspace.data_version()
    assert v1 != v0 and workspace.data_version() == v1  # reading does not move it
    run_sweep(workspace)
    assert workspace.data_version() == v1  # nor does a sweep
    workspace.apply_manual(state=pd.DataFrame(), audit=pd.DataFrame(), label=("A3", "fraud"))
    assert workspace.data_version() not in (v0, v1)


def test_a_delta_and_incremental_sweeps_give_the_full_sweeps_results(workspace, reference):
    ref = reference()
    delta = make_dataset(DELTA_ACCOUNTS, DELTA_LINKS, DELTA_TXNS)
    modes = []
    for ws, full in ((workspace, False), (ref, True)):
        ws.load(hand_made_dataset())
        modes.append(run_sweep(ws, full=full).summary["detection"]["mode"])
        modes.append(run_sweep(ws, full=full).summary["detection"]["mode"])
        summary = ws.load(delta)  # links of the stored 007, a payment to it
        assert (summary.accounts_new, summary.links_new, summary.transactions_new) == (1, 3, 1)
        modes.append(run_sweep(ws, full=full).summary["detection"]["mode"])
    # A workspace that logs its changes recomputes only what the delta reaches (SQLite).
    after = "delta" if workspace.backend == "sqlite" else "computed"
    assert modes == ["computed", "unchanged", after, "full", "full", "full"]
    assert set(workspace.links(["007"])["value"]) >= {"DEV-1", "DEV-9"}
    mine, theirs = _results(workspace), _results(ref)
    pd.testing.assert_frame_equal(mine[0], theirs[0])
    assert "A5" in set(mine[0]["account_id"])  # the delta joined the ring
    assert mine[1]["account_id"].tolist() == theirs[1]["account_id"].tolist()
    np.testing.assert_allclose(mine[1]["score"].astype(float), theirs[1]["score"].astype(float), atol=1e-9)
    pd.testing.assert_frame_equal(mine[2], theirs[2])
