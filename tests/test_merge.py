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


def test_merged_over_keeps_the_stored_rows_not_replaced_in_key_order_like_pandas():
    """The snapshot's merge (a load's rows over the stored ones) orders text as pandas does, in
    code points (capitals before lower case, accents after), and a new row replaces a stored one."""
    from fraudgraph.model.merge import key_order, merged_over

    stored = frame(
        [
            ("b", "phone", "1", "1", T("2026-01-01")),
            ("B", "phone", "1", "1", T("2026-01-01")),
            ("é", "email", "x", "x", pd.NaT),
            ("a", "phone", "2", None, pd.NaT),
        ]
    )
    new = frame([("b", "phone", "1", "9", T("2025-01-01")), ("a", "card", "3", "3", pd.NaT)])
    key = ["account_id", "kind", "value"]
    merged = merged_over(new, stored, key)
    assert merged[key].values.tolist() == [
        ["B", "phone", "1"],
        ["a", "card", "3"],
        ["a", "phone", "2"],
        ["b", "phone", "1"],
        ["é", "email", "x"],
    ]
    assert merged.set_index("account_id").loc["b", "key"] == "9"  # the load's row, not the stored one
    both = pd.concat([stored, new], ignore_index=True)
    expected = both.sort_values(key, kind="stable").index.to_numpy()
    assert key_order(both, key).tolist() == expected.tolist()
