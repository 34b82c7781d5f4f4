"""Candidate rings: projection, hub pruning, money flow, community refinement, stable ring ids."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from fraudgraph.detection.graph import DetectionConfig, build_identity_graph
from fraudgraph.detection.rings import assign_ring_ids, find_candidate_rings, money_flow
from fraudgraph.ingest.normalize import canonical_keys


def frames(rows, n_accounts):
    accounts = pd.DataFrame(
        {"account_id": [f"a{i}" for i in range(n_accounts)], "created_at": pd.Timestamp("2025-01-01")}
    )
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value"])
    links["key"] = canonical_keys(links["kind"], links["value"])
    links["first_seen"] = pd.Timestamp("2025-02-01")
    return accounts, links


def ring_sets(candidates):
    return sorted(sorted(g["account_id"]) for _, g in candidates.clusters.groupby("cluster"))


def test_ring_linked_only_through_variant_spellings_is_found():
    rows = [
        ("a0", "email", "J.Doe+promo@gmail.com"),
        ("a1", "email", "jdoe@gmail.com"),
        ("a2", "email", "JDOE@GMAIL.COM"),
        ("a0", "phone", "(555) 123-4567"),
        ("a1", "phone", "+1 555 123 4567"),
        ("a2", "phone", "555.123.4567"),
        ("a3", "email", "someone.else@gmail.com"),
    ]
    accounts, links = frames(rows, 4)
    graph = build_identity_graph(accounts, links)
    assert ring_sets(find_candidate_rings(graph)) == [["a0", "a1", "a2"]]


def test_values_without_identity_do_not_link():
    rows = [(f"a{i}", "device", v) for i, v in enumerate(["unknown", "N/A", "00000000-0000-0000-0000-000000000000"])]
    graph = build_identity_graph(*frames(rows, 3))
    assert find_candidate_rings(graph).clusters.empty


def test_a_hub_does_not_glue_the_world_together():
    rows = [(f"a{i}", "ip", "203.0.113.9") for i in range(200)]  # carrier NAT address
    rows += [
        ("a0", "device", "dev-1"),
        ("a1", "device", "dev-1"),
        ("a5", "card", "4539 1488 0343 6467"),
        ("a6", "card", "4539-1488-0343-6467"),
    ]
    graph = build_identity_graph(*frames(rows, 200))
    assert ring_sets(find_candidate_rings(graph)) == [["a0", "a1"], ["a5", "a6"]]
    assert graph.hubs["n_accounts"].tolist() == [200]


def test_weakly_bridged_groups_are_split_by_community_detection():
    rows = []
    for group, members in (("x", range(6)), ("y", range(6, 12))):
        for i in members:
            rows += [
                (f"a{i}", "device", f"dev-{group}"),
                (f"a{i}", "card", f"4000 0000 0000 000{ord(group) % 10}"),
            ]
    rows += [("a5", "ip", "198.51.100.7"), ("a6", "ip", "198.51.100.7")]  # one weak bridge
    graph = build_identity_graph(*frames(rows, 12))
    first = ring_sets(find_candidate_rings(graph, seed=3))
    assert first == [[f"a{i}" for i in range(6)], sorted(f"a{i}" for i in range(6, 12))]
    assert ring_sets(find_candidate_rings(graph, seed=3)) == first


def mule_transactions(n_mules=4, victims_per_mule=4, collector="a0"):
    rows, n = [], 0
    mules = [f"a{i}" for i in range(1, n_mules + 1)]
    victim = n_mules + 1
    for mule in mules:
        for _ in range(victims_per_mule):
            rows.append((f"t{n}", f"a{victim}", mule, "account", 400.0, pd.Timestamp("2025-03-01"), "settled"))
            victim += 1
            n += 1
        rows.append((f"t{n}", mule, collector, "account", 1500.0, pd.Timestamp("2025-03-05"), "settled"))
        n += 1
    cols = ["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp", "status"]
    return pd.DataFrame(rows, columns=cols), victim


def test_mules_paying_one_collector_form_a_ring_without_shared_identifiers():
    tx, n_accounts = mule_transactions()
    graph = build_identity_graph(*frames([], n_accounts))
    flow = money_flow(tx, graph.account_ids, DetectionConfig())
    assert flow.pass_through[1:5].all() and not flow.pass_through[0]
    assert ring_sets(find_candidate_rings(graph, flow)) == [["a0", "a1", "a2", "a3", "a4"]]


def test_payers_of_a_landlord_are_not_linked():
    rows = [(f"t{i}", f"a{i}", "a0", "account", 1100.0, pd.Timestamp("2025-03-01"), "settled") for i in range(1, 30)]
    cols = ["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp", "status"]
    tx = pd.DataFrame(rows, columns=cols)
    graph = build_identity_graph(*frames([], 30))
    assert find_candidate_rings(graph, money_flow(tx, graph.account_ids, DetectionConfig())).clusters.empty


def clusters_frame(groups):
    return pd.DataFrame(
        [(c, a) for c, members in enumerate(groups) for a in members], columns=["cluster", "account_id"]
    )


def test_first_sweep_numbers_rings_by_size_from_the_counter():
    members, nxt = assign_ring_ids(clusters_frame([["a", "b"], ["c", "d", "e"]]), None, 1)
    assert members.groupby("ring_id")["account_id"].apply(sorted).to_dict() == {
        "R-000001": ["c", "d", "e"],
        "R-000002": ["a", "b"],
    }
    assert nxt == 3


def test_ring_that_keeps_most_members_keeps_its_id():
    previous = pd.DataFrame(
        {"ring_id": ["R-000004"] * 4 + ["R-000005"] * 2, "account_id": ["a", "b", "c", "d", "x", "y"]}
    )
    # The R-000004 ring lost one member and gained two; R-000005 dissolved; a new ring appeared.
    members, nxt = assign_ring_ids(clusters_frame([["b", "c", "d", "e", "f"], ["p", "q"]]), previous, 6)
    by_ring = members.groupby("ring_id")["account_id"].apply(sorted).to_dict()
    assert by_ring == {"R-000004": ["b", "c", "d", "e", "f"], "R-000006": ["p", "q"]}
    assert nxt == 7


def test_a_split_ring_keeps_its_id_on_one_side_only():
    previous = pd.DataFrame({"ring_id": ["R-000001"] * 6, "account_id": list("abcdef")})
    members, nxt = assign_ring_ids(clusters_frame([["a", "b", "c", "d"], ["e", "f"]]), previous, 2)
    by_ring = members.groupby("ring_id")["account_id"].apply(sorted).to_dict()
    assert by_ring == {"R-000001": ["a", "b", "c", "d"], "R-000002": ["e", "f"]}
    assert nxt == 3


def test_ring_counter_must_be_positive():
    with pytest.raises(ValueError, match="next_number"):
        assign_ring_ids(clusters_frame([["a", "b"]]), None, 0)


_LEIDEN_THEN_PNG = """
import sys

import pandas as pd

from fraudgraph.detection.graph import DetectionConfig, build_identity_graph
from fraudgraph.detection.rings import find_candidate_rings
from fraudgraph.ingest.normalize import canonical_keys

ids = [f"a{i:02d}" for i in range(12)]
accounts = pd.DataFrame({"account_id": ids, "created_at": pd.Timestamp("2025-01-01")})
# two groups of six sharing a device and a card each, bridged by one email: one component of 12,
# above the size bound, which Leiden cuts in two
rows = [(a, kind, f"{kind}-{i // 6}") for i, a in enumerate(ids) for kind in ("device", "card")]
rows += [("a05", "email", "bridge@example.com"), ("a06", "email", "bridge@example.com")]
links = pd.DataFrame(rows, columns=["account_id", "kind", "value"])
links["key"] = canonical_keys(links["kind"], links["value"])
links["first_seen"] = pd.Timestamp("2025-02-01")
config = DetectionConfig(max_community_size=4)
rings = find_candidate_rings(build_identity_graph(accounts, links, config), config=config, seed=1)
print(sorted(sorted(g["account_id"]) for _, g in rings.clusters.groupby("cluster")))
print("igraph" in sys.modules, "matplotlib" in sys.modules)
from fraudgraph.outputs import png  # noqa: E402  (the PNG export imports matplotlib when it draws)
import matplotlib.backends.backend_agg  # noqa: E402
print("matplotlib importable")
"""


def test_community_detection_leaves_matplotlib_unimported_and_still_importable(tmp_path):
    # igraph's own import pulls in matplotlib.pyplot for plotting fraudgraph never does (about
    # 0.3 s of every sweep that runs Leiden); the PNG export must still find matplotlib afterwards.
    done = subprocess.run([sys.executable, "-c", _LEIDEN_THEN_PNG], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    groups, imported, importable = done.stdout.splitlines()
    assert groups == str([[f"a{i:02d}" for i in range(6)], [f"a{i:02d}" for i in range(6, 12)]])
    assert imported == "True False"  # Leiden ran; matplotlib was not imported for it
    assert importable == "matplotlib importable"
