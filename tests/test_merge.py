"""The one merge rule for link observations: the earliest known first_seen, the newest key."""

from __future__ import annotations

import pandas as pd

from fraudgraph.model.merge import merge_links

T = pd.Timestamp


def frame(rows):
    return pd.DataFrame(rows, columns=["account_id", "kind", "value", "key", "first_seen"])


def test_new_unchanged_earlier_unknown_and_rekeyed_observations():
    stored = frame(
        [
            ("A", "phone", "555 1", "5551", T("2026-01-10")),  # seen again, later: unchanged
            ("B", "phone", "555 2", "5552", T("2026-01-10")),  # seen again, earlier: moves back
            ("C", "phone", "555 3", "5553", T("2026-01-10")),  # seen again, date unknown: keeps its date
            ("D", "email", "X@y.com", "x@y.com", pd.NaT),  # re-keyed by a better normalizer
        ]
    )
    new = frame(
        [
            ("A", "phone", "555 1", "5551", T("2026-02-01")),
            ("B", "phone", "555 2", "5552", T("2025-12-01")),
            ("C", "phone", "555 3", "5553", pd.NaT),
            ("D", "email", "X@y.com", "x@y.com/v2", T("2026-03-01")),
            ("E", "card", "4111", "4111", T("2026-03-02")),  # new
        ]
    )
    plan = merge_links(new, stored)
    rows = plan.rows.set_index("account_id")
    assert plan.is_new.tolist() == [False, False, False, False, True]
    assert plan.changed.tolist() == [False, True, False, True, False]
    assert rows.loc["A", "first_seen"] == T("2026-01-10")
    assert rows.loc["B", "first_seen"] == T("2025-12-01")
    assert rows.loc["C", "first_seen"] == T("2026-01-10")
    assert rows.loc["D", "key"] == "x@y.com/v2" and rows.loc["D", "key_old"] == "x@y.com"
    assert rows.loc["D", "first_seen"] == T("2026-03-01")
    assert plan.to_write["account_id"].tolist() == ["B", "D", "E"]


def test_reloading_the_same_rows_writes_nothing():
    stored = frame([("A", "phone", "555 1", "5551", T("2026-01-10")), ("B", "ip", "1.2.3.4", None, pd.NaT)])
    plan = merge_links(stored.copy(), stored)
    assert not plan.is_new.any() and not plan.changed.any() and plan.to_write.empty
