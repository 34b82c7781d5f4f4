"""``Workspace.decision_page``: the decisions in force (an analyst's action over the policy's),
filtered, most severe first and paged, the same on every backend as the generic reading."""

from __future__ import annotations

from fraudgraph.app.analyst import suspend
from fraudgraph.workspace.base import Workspace


def test_decision_page_shows_what_is_in_force_most_severe_first(swept_workspace):
    ws = swept_workspace
    quiet = ws.table("decisions")
    quiet = quiet[quiet["action"] == "none"]["account_id"].tolist()
    assert quiet
    suspend(ws, quiet[0], reason="seen in branch", actor="dana")  # in force now: suspend
    for action, show_all, limit, offset in (
        (None, False, None, 0),
        (None, True, 3, 1),
        ("suspend", False, 2, 0),
        ("none", False, None, 0),
        ("review", False, 5, 100),
    ):
        page, total = ws.decision_page(action, show_all, limit, offset)
        generic, n = Workspace.decision_page(ws, action, show_all, limit, offset)
        assert total == n
        assert list(page["account_id"]) == list(generic["account_id"])
        assert list(page["action"]) == list(generic["action"])
        assert list(page["trigger"].fillna("")) == list(generic["trigger"].fillna(""))
    page, _ = ws.decision_page("suspend", False, None, 0)
    assert quiet[0] in set(page["account_id"])
    everything, n_all = ws.decision_page(None, True, None, 0)
    assert n_all == len(ws.table("decisions")) == len(everything)
    order = {"suspend": 0, "restrict": 1, "review": 2, "monitor": 3, "none": 4}
    ranks = [order[a] for a in everything["action"]]
    assert ranks == sorted(ranks)
    assert isinstance(everything["reasons"].iloc[0], list)  # decoded, not JSON text
