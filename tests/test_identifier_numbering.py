"""Identifiers are numbered by first use of their (kind, key), whether or not a key is also used
under another kind (issue 13: the usual case, every key under one kind, skips the hash table of
pairs and the copy of the keys; the numbering and the graph must be the same either way)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from fraudgraph.detection.graph import build_identity_graph

_KINDS = ["device", "phone", "email"]
_link = st.tuples(
    st.integers(0, 5),  # account
    st.sampled_from(_KINDS),
    st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3", "k4", "555"])),
)


def _frames(rows, arrow: bool):
    accounts = pd.DataFrame({"account_id": [f"A{i}" for i in range(6)]})
    keys = [key for _, _, key in rows]
    links = pd.DataFrame(
        {
            "account_id": [f"A{a}" for a, _, _ in rows],
            "kind": pd.Series([kind for _, kind, _ in rows], dtype="category"),
            "value": [str(key).upper() for key in keys],
            "key": pd.Series(keys, dtype="str" if arrow else object),
            "first_seen": pd.NaT,
        }
    )
    return accounts, links


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(_link, min_size=1, max_size=40), arrow=st.booleans())
def test_identifiers_are_the_pairs_in_order_of_first_use(rows, arrow):
    accounts, links = _frames(rows, arrow)
    graph = build_identity_graph(accounts, links)
    used = [(kind, key) for _, kind, key in rows if key is not None]
    expected = list(dict.fromkeys(used))  # first use order
    got = list(zip(graph.identifiers["kind"].tolist(), graph.identifiers["key"].tolist()))
    assert got == expected
    # Each link points at its own pair.
    idents = graph.links["identifier"].to_numpy()
    assert [expected[i] for i in idents] == used
    counts = {pair: len({a for a, k, key in rows if (k, key) == pair}) for pair in expected}
    assert graph.identifiers["n_accounts"].tolist() == [counts[p] for p in expected]
    assert sorted(graph.kinds()) == sorted({kind for kind, _ in expected})


def test_a_key_under_two_kinds_is_two_identifiers():
    accounts, links = _frames([(0, "phone", "555"), (1, "device", "555"), (2, "phone", "555")], arrow=True)
    graph = build_identity_graph(accounts, links)
    assert list(zip(graph.identifiers["kind"], graph.identifiers["key"])) == [("phone", "555"), ("device", "555")]
    assert graph.identifiers["n_accounts"].tolist() == [2, 1]
    assert np.array_equal(graph.incidence.toarray()[:3], [[1, 0], [0, 1], [1, 0]])
