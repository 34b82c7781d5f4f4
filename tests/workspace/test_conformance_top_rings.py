"""``Workspace.top_rings``: the page of rings `fraudgraph rings` shows, highest score first, with
the whole count, on every backend (SQLite answers from its score index)."""

from __future__ import annotations


def test_top_rings_is_a_page_of_the_rings_sorted_by_score_with_the_whole_count(swept_workspace):
    ws = swept_workspace
    every = ws.table("rings").sort_values(["score", "exposure", "ring_id"], ascending=[False, False, True])
    assert len(every) >= 1
    for limit, offset in ((1, 0), (2, 0), (None, 0), (5, len(every))):
        page, total = ws.top_rings(None, limit, offset)
        end = None if limit is None else offset + limit
        assert total == len(every)
        assert list(page["ring_id"]) == list(every["ring_id"].iloc[offset:end])
        assert list(page.columns) == list(every.columns)
    first, _ = ws.top_rings(None, 1, 0)
    assert first["reasons"].iloc[0] == every["reasons"].iloc[0]  # decoded, not JSON text
    cut = float(every["score"].iloc[0])
    high, n_high = ws.top_rings(cut, None, 0)
    assert n_high == int((every["score"] >= cut).sum()) == len(high)
    none, n_none = ws.top_rings(cut + 0.5, 5, 0)
    assert n_none == 0 and none.empty
