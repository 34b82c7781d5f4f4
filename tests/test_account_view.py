"""The accounts a neighbourhood shows (``search.account_view``) as the definition has them: the
loaded account, its score and ring, its decision, and what is in force from its state
(``verdicts.in_force``) once an action was applied; no score 0.0, no ring None, no decision "none"."""

from __future__ import annotations

import pandas as pd
import pytest

from fraudgraph.app.analyst import suspend
from fraudgraph.app.sweep import run_sweep
from fraudgraph.decisions.verdicts import in_force
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world, write_world
from fraudgraph.workspace import search
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


def _defined(ws, ids: list[str]) -> pd.DataFrame:
    """The view by merges, as it was first written."""
    acc = ws.accounts(ids)
    scores = ws.table("account_scores", account_id=ids)[["account_id", "score", "ring_id"]]
    dec = ws.table("decisions", account_id=ids)[["account_id", "action"]]
    out = acc.merge(scores, on="account_id", how="left").merge(dec, on="account_id", how="left")
    out = in_force(out, ws.account_state(ids), ("action", "status"))
    out["action"] = out["action"].fillna("none")
    out["score"] = out["score"].astype("float64").fillna(0.0)
    out["ring_id"] = out["ring_id"].astype(object).where(out["ring_id"].notna(), None)
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    write_world(generate_world(600, seed=5), folder)
    ws = SqliteWorkspace(tmp_path_factory.mktemp("ws") / "ws.db")
    ws.load(read_dataset(folder))
    run_sweep(ws)
    # An analyst's action on an account the sweep left alone: its state, not its decision, is in force.
    quiet = ws.table("decisions", action="none")["account_id"].tolist()[0]
    suspend(ws, quiet, reason="customer reported a stolen card", actor="erin")
    return ws, quiet


def test_the_view_is_the_account_with_what_is_in_force(swept):
    ws, quiet = swept
    state = ws.account_state()
    applied = state["account_id"].tolist()
    scored = ws.table("account_scores")
    in_rings = scored.loc[scored["ring_id"].notna(), "account_id"].tolist()
    plain = sorted(set(ws.accounts()["account_id"]) - set(applied) - set(in_rings))
    ids = sorted({quiet, *applied[:6], *in_rings[:6], *plain[:6], "NO-SUCH-ACCOUNT"})
    view = search.account_view(ws, ids)
    pd.testing.assert_frame_equal(view, _defined(ws, ids))
    row = view.set_index("account_id")
    # What a user would notice: the analyst's suspension shows, though the sweep decided nothing.
    assert row.loc[quiet, "action"] == "suspend" and row.loc[quiet, "status"] == "suspended"
    assert ws.table("decisions", account_id=[quiet])["action"].tolist() == ["none"]
    assert row.loc[plain[0], "action"] == "none" and row.loc[plain[0], "ring_id"] is None
    assert row.loc[in_rings[0], "ring_id"] is not None and row.loc[in_rings[0], "score"] > 0
    assert "NO-SUCH-ACCOUNT" not in row.index
    assert search.account_view(ws, ["NO-SUCH-ACCOUNT"]).empty
