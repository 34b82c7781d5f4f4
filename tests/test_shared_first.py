"""The PNG and the HTML view draw what accounts share first (issue 11, item 2): shared identifiers
stay as large labelled nodes, an identifier one account uses becomes a count on that account, and
money flows stay as arrows."""

from __future__ import annotations

import json
import re

import networkx as nx

from fraudgraph.model.masking import MASKED
from fraudgraph.outputs.export import graph_to_html, prepare_graph
from fraudgraph.outputs.shown import shown_graph
from fraudgraph.outputs.subgraph import shared_first


def small_ring() -> nx.DiGraph:
    G = nx.DiGraph(title="Ring R-1", center="ring R-1", reasons=[], notes=[])
    for a in ("A1", "A2", "A3"):
        G.add_node(f"account:{a}", node_type="account", label=a, account_id=a, score=0.9, seed=True)
    ids = {
        ("email", "shared.person@example.com"): ["A1", "A2", "A3"],
        ("card", "4111111111111234"): ["A1", "A2"],
        ("phone", "5551234567"): ["A1"],
        ("device", "private-device-0001"): ["A1"],
        ("address", "12 oak street springfield"): ["A3"],
    }
    for (kind, key), users in ids.items():
        node = f"identifier:{kind}:{key}"
        G.add_node(
            node, node_type="identifier", label=f"{kind}: {key}", kind=kind, key=key, raw_values=json.dumps([key])
        )
        for a in users:
            G.add_edge(f"account:{a}", node, edge_type="uses")
    G.add_edge("account:A2", "account:A3", edge_type="paid", amount=900.0, count=3)
    return G


def test_private_identifiers_fold_into_a_count_per_account():
    P = shared_first(prepare_graph(small_ring()))
    kinds = sorted(d["kind"] for _, d in P.nodes(data=True) if d["node_type"] == "identifier")
    assert kinds == ["card", "email"]
    assert P.nodes["account:A1"]["private_identifiers"] == 2 and P.nodes["account:A1"]["label"] == "A1 +2 own"
    assert P.nodes["account:A2"]["private_identifiers"] == 0 and P.nodes["account:A2"]["label"] == "A2"
    assert P.graph["private_identifiers"] == 3
    assert P.edges["account:A2", "account:A3"]["edge_type"] == "paid"  # money stays as an arrow
    assert P.nodes["identifier:email:shared.person@example.com"]["n_in_picture"] == 3


def test_the_html_view_draws_the_shared_picture_masked():
    page = graph_to_html(prepare_graph(shown_graph(small_ring(), MASKED)))
    data = json.loads(re.search(r'id="fraudgraph-data">(.*?)</script>', page, re.S).group(1))
    labels = {n["label"] for n in data["nodes"]}
    assert "email: s•••@example.com" in labels and "card: •••• 1234" in labels
    assert "A1 +2 own" in labels and data["private_identifiers"] == 3
    assert "shared.person" not in page and "5551234567" not in page and "private-device" not in page
