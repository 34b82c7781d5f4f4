"""Identity graph: canonical identifiers, weights by kind and rarity, hubs, networkx view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudgraph.detection.graph import DetectionConfig, build_identity_graph, rarity_decay, to_networkx


def make_frames(rows, n_accounts):
    accounts = pd.DataFrame(
        {"account_id": [f"a{i}" for i in range(n_accounts)], "created_at": pd.Timestamp("2025-01-01")}
    )
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value", "key"])
    links["first_seen"] = pd.Timestamp("2025-02-01")
    return accounts, links


def weight_of(graph, kind, key):
    ident = graph.identifiers
    return float(ident.loc[(ident["kind"] == kind) & (ident["key"] == key), "weight"].iloc[0])


def test_links_without_identity_never_link():
    accounts, links = make_frames([("a0", "device", "unknown", None), ("a1", "device", "N/A", None)], 2)
    graph = build_identity_graph(accounts, links)
    assert graph.incidence.nnz == 0
    assert len(graph.identifiers) == 0


def test_same_key_under_two_kinds_is_two_identifiers():
    accounts, links = make_frames([("a0", "phone", "123", "123"), ("a1", "national_id", "123", "123")], 2)
    graph = build_identity_graph(accounts, links)
    assert sorted(graph.identifiers["kind"]) == ["national_id", "phone"]
    assert (graph.identifiers["weight"] == 0).all()  # each is used by one account only


def test_repeated_observations_count_once_and_keep_every_spelling():
    rows = [
        ("a0", "email", "J.Doe@x.com", "jdoe@x.com"),
        ("a0", "email", "jdoe@x.com", "jdoe@x.com"),
        ("a1", "email", "JDOE@X.COM", "jdoe@x.com"),
    ]
    graph = build_identity_graph(*make_frames(rows, 2))
    assert graph.incidence.nnz == 2
    assert int(graph.identifiers["n_accounts"].iloc[0]) == 2
    spellings = graph.raw_spellings(np.array([0])).iloc[0]
    assert spellings == ["J.Doe@x.com", "JDOE@X.COM", "jdoe@x.com"]


def test_strong_kinds_outweigh_medium_and_weak_ones():
    rows = []
    for kind in ("device", "address", "ip"):
        rows += [("a0", kind, "v", "v"), ("a1", kind, "v", "v")]
    graph = build_identity_graph(*make_frames(rows, 2))
    assert weight_of(graph, "device", "v") > weight_of(graph, "address", "v") > weight_of(graph, "ip", "v") > 0


def test_an_identifier_shared_by_more_accounts_says_less():
    rows = [(f"a{i}", "device", "pair", "pair") for i in range(2)]
    rows += [(f"a{i}", "device", "crowd", "crowd") for i in range(2, 22)]
    graph = build_identity_graph(*make_frames(rows, 22))
    assert weight_of(graph, "device", "pair") == pytest.approx(1.0)
    assert 0 < weight_of(graph, "device", "crowd") < 0.6
    assert rarity_decay(np.array([2, 6, 40]), 2.0).tolist() == sorted(
        rarity_decay(np.array([2, 6, 40]), 2.0), reverse=True
    )


def test_identifier_over_the_cap_is_a_hub_that_never_links():
    rows = [(f"a{i}", "ip", "10.0.0.1", "10.0.0.1") for i in range(50)]
    graph = build_identity_graph(*make_frames(rows, 50), DetectionConfig(hub_cap=40))
    assert graph.hubs[["kind", "key", "n_accounts"]].values.tolist() == [["ip", "10.0.0.1", 50]]
    assert "hub cap" in graph.hubs["reason"].iloc[0]
    assert weight_of(graph, "ip", "10.0.0.1") == 0


def test_a_place_crowded_by_strangers_is_a_hub_sooner_than_a_card():
    """Thirty accounts on one parcel-locker address or one café Wi-Fi are a place, not a ring;
    thirty accounts behind one card are evidence and keep linking."""
    rows = [(f"a{i}", "address", "locker 7", "locker 7") for i in range(30)]
    rows += [(f"a{i}", "ip", "10.0.0.1", "10.0.0.1") for i in range(30)]
    rows += [(f"a{i + 30}", "card", "4111", "4111") for i in range(30)]
    graph = build_identity_graph(*make_frames(rows, 60), DetectionConfig())
    assert sorted(graph.hubs["kind"]) == ["address", "ip"]
    assert "place or network" in graph.hubs["reason"].iloc[0]
    assert weight_of(graph, "card", "4111") > 0
    assert build_identity_graph(*make_frames(rows, 60), DetectionConfig(place_hub_cap=40)).hubs.empty


def test_anomalously_crowded_identifier_of_its_kind_is_a_hub_below_the_cap():
    rows = []
    for pair in range(30):  # thirty ordinary shared devices, two accounts each
        rows += [
            (f"a{2 * pair}", "device", f"d{pair}", f"d{pair}"),
            (f"a{2 * pair + 1}", "device", f"d{pair}", f"d{pair}"),
        ]
    rows += [(f"a{i}", "device", "kiosk", "kiosk") for i in range(60, 95)]
    config = DetectionConfig(hub_cap=1000, hub_min_accounts=30, hub_robust_z=5)
    graph = build_identity_graph(*make_frames(rows, 95), config)
    assert graph.hubs["key"].tolist() == ["kiosk"]
    assert "anomalously many" in graph.hubs["reason"].iloc[0]


def test_unknown_kind_is_rejected_unless_declared():
    accounts, links = make_frames([("a0", "fax", "1", "1"), ("a1", "fax", "1", "1")], 2)
    with pytest.raises(ValueError, match="'fax'"):
        build_identity_graph(accounts, links)
    graph = build_identity_graph(accounts, links, DetectionConfig(extra_kinds={"fax": 0.4}))
    assert weight_of(graph, "fax", "1") == pytest.approx(0.4)


def test_link_to_unknown_account_is_an_error_naming_it():
    accounts, links = make_frames([("ghost", "device", "1", "1")], 1)
    with pytest.raises(ValueError, match="'ghost'"):
        build_identity_graph(accounts, links)


def test_networkx_view_shows_accounts_and_their_identifiers():
    rows = [("a0", "device", "D", "d"), ("a1", "device", "d", "d"), ("a1", "phone", "1", "1")]
    graph = build_identity_graph(*make_frames(rows, 3))
    g = to_networkx(graph, ["a0", "a1"])
    assert set(g.nodes) == {("account", "a0"), ("account", "a1"), ("device", "d"), ("phone", "1")}
    assert g.nodes[("device", "d")]["n_accounts"] == 2
    assert g.has_edge(("account", "a0"), ("device", "d"))
    with pytest.raises(ValueError, match="'zz'"):
        to_networkx(graph, ["zz"])
