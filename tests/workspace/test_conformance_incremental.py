"""Incremental sweeps on every backend: after a delta, community detection is reused for the big
components the delta did not touch (``community_per_component``), from a memo kept in the
workspace, and the results are the full sweep's (the SQLite reference's, with --full)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from workspace_data import ACCOUNTS, LINKS, TXNS, make_dataset

from fraudgraph.app.incremental import MEMO_NAME, load_memo
from fraudgraph.app.sweep import run_sweep
from fraudgraph.detection.graph import DetectionConfig
from fraudgraph.workspace.detection_cache import read_blob

# Four accounts on one card and two devices: a component above max_community_size (3) that the
# delta below never touches.
CARD_ACCOUNTS = [(f"B{i}", f"2024-02-0{i}", 900.0, 880.0, 0, "active", None) for i in range(1, 5)]
CARD_LINKS = [(f"B{i}", "card", "4111 1111 1111 1111", "4111111111111111", "2024-03-01") for i in range(1, 5)] + [
    ("B1", "device", "dev-b", "dev-b", "2024-03-01"),
    ("B2", "device", "dev-b", "dev-b", "2024-03-01"),
]
# A new account on A3's phone and 007's new device: it glues 007, A2, A3 and A4 into one big
# component, which is cut afresh.
DELTA_ACCOUNTS = [("A5", "2024-01-05", 800.0, 790.0, 0, "active", None)]
DELTA_LINKS = [
    ("A5", "phone", "555-123-4567", "5551234567", "2024-04-01"),
    ("A5", "device", "dev-9", "dev-9", "2024-04-01"),
    ("007", "device", "DEV-9", "dev-9", "2024-04-02"),
]
CONFIG = DetectionConfig(community_per_component=True)


def _results(ws) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    members = ws.table("ring_members").sort_values(["ring_id", "account_id"]).reset_index(drop=True)
    rings = ws.table("rings").sort_values("ring_id").reset_index(drop=True)[["ring_id", "size", "score", "reasons"]]
    decisions = ws.table("decisions").sort_values("account_id").reset_index(drop=True)[["account_id", "action"]]
    return members, rings, decisions


def test_a_delta_sweep_reuses_the_untouched_components_cut_and_matches_the_full_sweep(workspace, reference):
    ref = reference()
    base = make_dataset(ACCOUNTS + CARD_ACCOUNTS, LINKS + CARD_LINKS, TXNS)
    modes = []
    for ws, full in ((workspace, False), (ref, True)):
        ws.load(base)
        modes.append(run_sweep(ws, full=full, config=CONFIG).summary["detection"]["mode"])
        ws.load(make_dataset(DELTA_ACCOUNTS, DELTA_LINKS))
        modes.append(run_sweep(ws, full=full, config=CONFIG).summary["detection"]["mode"])
    # A workspace that logs its changes recomputes only what the delta reaches (SQLite).
    after = "delta" if workspace.backend == "sqlite" else "incremental"
    assert modes == ["computed", after, "full", "full"]
    mine, theirs = _results(workspace), _results(ref)
    pd.testing.assert_frame_equal(mine[0], theirs[0])
    assert {"A5", "B1", "B4"} <= set(mine[0]["account_id"])
    assert mine[1]["ring_id"].tolist() == theirs[1]["ring_id"].tolist()
    np.testing.assert_allclose(mine[1]["score"].astype(float), theirs[1]["score"].astype(float), atol=1e-9)
    assert mine[1]["reasons"].tolist() == theirs[1]["reasons"].tolist()
    pd.testing.assert_frame_equal(mine[2], theirs[2])
    # The memo holds the two big components' cuts and no identifier or account id.
    blob = read_blob(workspace, MEMO_NAME)
    assert blob and b"B1" not in blob and b"4111" not in blob
    assert len(load_memo(workspace, reuse=True).entries) == 2


def test_a_dry_run_leaves_the_memo_alone(workspace):
    workspace.load(make_dataset(ACCOUNTS + CARD_ACCOUNTS, LINKS + CARD_LINKS, TXNS))
    run_sweep(workspace, config=CONFIG, dry_run=True)
    assert read_blob(workspace, MEMO_NAME) is None
    run_sweep(workspace, config=CONFIG)
    assert read_blob(workspace, MEMO_NAME) is not None
