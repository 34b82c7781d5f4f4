"""The sweep's ring diff (new, grown, shrunk, changed, dissolved) against a plain set-per-ring one."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings, strategies as st

from fraudgraph.app.sweep import diff_rings


def _by_sets(previous: pd.DataFrame, current: pd.DataFrame) -> dict[str, list]:
    """The diff as a reader would work it out: each ring's members as a set, ring by ring."""
    prev = {r: set(g) for r, g in previous.groupby("ring_id")["account_id"]} if len(previous) else {}
    cur = {r: set(g) for r, g in current.groupby("ring_id")["account_id"]} if len(current) else {}
    out: dict[str, list] = {"new": [], "grown": [], "shrunk": [], "changed": [], "dissolved": []}
    for rid in sorted(cur):
        members = cur[rid]
        if rid not in prev:
            out["new"].append({"ring_id": rid, "size": len(members)})
            continue
        before = prev[rid]
        added, removed = len(members - before), len(before - members)
        if not added and not removed:
            continue
        entry = {"ring_id": rid, "size": len(members), "previous_size": len(before), "added": added, "removed": removed}
        out["grown" if not removed else "shrunk" if not added else "changed"].append(entry)
    out["dissolved"] = [{"ring_id": r, "previous_size": len(prev[r])} for r in sorted(prev) if r not in cur]
    return out


_rows = st.lists(
    st.tuples(st.sampled_from(["R-1", "R-2", "R-3", "R-10"]), st.sampled_from(list("abcdef"))), max_size=20
)


@settings(max_examples=300, deadline=None)
@given(_rows, _rows)
def test_diff_matches_sets_per_ring(before, after):
    previous = pd.DataFrame(before, columns=["ring_id", "account_id"])
    current = pd.DataFrame(after, columns=["ring_id", "account_id"]).astype("string[pyarrow]")
    assert diff_rings(previous, current) == _by_sets(previous, current)


def test_a_ring_that_swapped_a_member_is_changed_and_one_that_lost_all_is_dissolved():
    previous = pd.DataFrame({"ring_id": ["R-1", "R-1", "R-2", "R-2"], "account_id": ["a", "b", "c", "d"]})
    current = pd.DataFrame({"ring_id": ["R-1", "R-1", "R-3"], "account_id": ["a", "x", "c"]})
    out = diff_rings(previous, current)
    assert out["changed"] == [{"ring_id": "R-1", "size": 2, "previous_size": 2, "added": 1, "removed": 1}]
    assert out["new"] == [{"ring_id": "R-3", "size": 1}]
    assert out["dissolved"] == [{"ring_id": "R-2", "previous_size": 2}]
    assert out["grown"] == out["shrunk"] == []
