"""Ring and account features on hand-built graphs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from fraudgraph.detection.features import (
    account_features,
    account_table,
    personalized_pagerank,
    ring_features,
    shared_identifiers,
)
from fraudgraph.detection.graph import DetectionConfig, build_identity_graph
from fraudgraph.detection.rings import find_candidate_rings, money_flow

AS_OF = pd.Timestamp("2026-06-01")


@pytest.fixture
def toy():
    """Ring a0-a3 (one device, opened within 3 days, maxed, a0 confirmed fraud, a4 verified
    legit bystander), and pair b0-b1 sharing an address, opened two years apart."""
    ids = ["a0", "a1", "a2", "a3", "b0", "b1", "c0"]
    created = [AS_OF - pd.Timedelta(days=d) for d in (100, 101, 102, 103, 900, 170, 50)]
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": created,
            "credit_limit": [1000.0, 2000.0, 1000.0, 1000.0, 5000.0, 5000.0, np.nan],
            "balance": [990.0, 1990.0, 1000.0, 500.0, 100.0, 200.0, 300.0],
            "overdue_days": [40, 10, 0, 0, 0, 0, 0],
            "status": "active",
            "label": ["fraud", None, None, None, "legit", None, None],
            "properties": "{}",
        }
    )
    rows = [(a, "device", "DEV-1", "dev-1", AS_OF - pd.Timedelta(days=99)) for a in ("a0", "a1", "a2", "a3")]
    rows += [
        ("b0", "address", "1 Elm St", "1 elm st", AS_OF - pd.Timedelta(days=899)),
        ("b1", "address", "1 ELM STREET", "1 elm st", AS_OF - pd.Timedelta(days=169)),
    ]
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value", "key", "first_seen"])
    tx = pd.DataFrame(
        {
            "txn_id": ["t1", "t2"],
            "account_id": ["a1", "c0"],
            "counterparty": ["a0", "a2"],
            "counterparty_kind": ["account", "account"],
            "amount": [300.0, 50.0],
            "timestamp": [AS_OF - pd.Timedelta(days=5)] * 2,
            "status": ["settled", "chargeback"],
        }
    )
    config = DetectionConfig()
    graph = build_identity_graph(accounts, links, config)
    flow = money_flow(tx, graph.account_ids, config)
    cands = find_candidate_rings(graph, flow, config)
    day = AS_OF.value / 86_400e9
    table = account_table(accounts, graph, tx)
    shared = shared_identifiers(graph, cands.cluster_of, day, config)
    rf = ring_features(graph, cands, table, shared, flow, tx, day, config)
    af = account_features(graph, cands, table, shared, flow, day, config)
    return graph, cands, rf, af


def ring_row(graph, cands, rf, account):
    return rf.loc[cands.cluster_of[graph.account_ids.get_loc(account)]]


def test_ring_structure_and_synchrony(toy):
    graph, cands, rf, af = toy
    ring = ring_row(graph, cands, rf, "a0")
    assert ring["size"] == 4
    assert ring["density"] == pytest.approx(1.0)
    assert ring["n_shared_device"] == 1 and ring["n_shared_strong"] == 1
    assert ring["strong_member_share"] == pytest.approx(1.0)
    assert ring["created_span_days"] == pytest.approx(3.0)
    assert ring["opened_together_share"] == pytest.approx(1.0)
    assert ring["link_sync_share"] == pytest.approx(1.0)
    pair = ring_row(graph, cands, rf, "b0")
    assert pair["size"] == 2 and pair["created_span_days"] == pytest.approx(730.0)
    assert pair["link_sync_share"] == 0.0


def test_ring_credit_outcomes_and_exposure(toy):
    graph, cands, rf, af = toy
    ring = ring_row(graph, cands, rf, "a0")
    assert ring["maxed_share"] == pytest.approx(0.75)  # 990/1000, 1990/2000, 1000/1000; not 500/1000
    assert ring["overdue_share"] == pytest.approx(0.5)
    assert ring["exposure"] == pytest.approx(5000.0)
    assert ring["known_fraud"] == 1 and ring["known_legit"] == 0
    assert ring_row(graph, cands, rf, "b0")["known_legit"] == 1


def test_money_inside_the_ring(toy):
    graph, cands, rf, af = toy
    ring = ring_row(graph, cands, rf, "a0")
    assert ring["internal_flow"] == pytest.approx(300.0)
    assert ring["fan_in"] == 1  # c0 pays a2 from outside


def test_account_features_tie_and_proximity(toy):
    graph, cands, rf, af = toy
    af = af.set_axis(graph.account_ids)
    assert af.loc["a1", "on_shared_strong"] and af.loc["a1", "ring_degree_share"] == pytest.approx(1.0)
    assert af.loc["c0", "cluster"] == -1
    assert af.loc["a1", "fraud_proximity"] > af.loc["b0", "fraud_proximity"] == 0
    assert af.loc["a0", "ring_payers"] == 1


def test_personalized_pagerank_spreads_from_seeds_and_converges():
    # a - b - c   d (isolated)
    adj = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=float))
    seeds = np.array([True, False, False, False])
    x = personalized_pagerank(adj, seeds, alpha=0.85, tol=1e-12, max_iter=1000)
    assert x[1] > x[2] > x[3] == 0  # mass fades with distance from the seed, never reaches d
    assert x[0] >= 1 - 0.85
    assert x.sum() == pytest.approx(1.0)
    assert personalized_pagerank(adj, np.zeros(4, bool), alpha=0.85, tol=1e-9, max_iter=10).sum() == 0


def test_identity_conflicts_tell_a_mosaic_from_one_person_and_from_a_household():
    rows = [
        ("m0", "national_id", "s1"),
        ("m0", "phone", "p1"),
        ("m0", "email", "e1"),
        ("m1", "national_id", "s1"),
        ("m1", "phone", "p2"),
        ("m1", "email", "e2"),
        ("m2", "national_id", "s2"),
        ("m2", "phone", "p2"),
        ("m2", "email", "e3"),
    ]
    for r in ("r0", "r1"):  # one person, two accounts
        rows += [(r, "national_id", "s9"), (r, "phone", "p9"), (r, "email", "e9"), (r, "address", "a9")]
    for i, h in enumerate(("h0", "h1")):  # a couple: home and landline, own national ids
        rows += [
            (h, "address", "a5"),
            (h, "phone", "p5"),
            (h, "national_id", f"s5{i}"),
            (h, "email", f"e5{i}"),
        ]
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value"]).assign(
        key=lambda d: d["value"], first_seen=pd.NaT
    )
    accounts = pd.DataFrame({"account_id": sorted(set(links["account_id"])), "created_at": AS_OF, "label": None})
    config = DetectionConfig()
    graph = build_identity_graph(accounts, links, config)
    cands = find_candidate_rings(graph, money_flow(None, graph.account_ids, config), config)
    shared = shared_identifiers(graph, cands.cluster_of, AS_OF.value / 86_400e9, config)
    sf = shared.frame.set_index(["kind", "key"])
    assert sf.loc[("national_id", "s1"), "recombined"]  # same SSN, different phones and e-mails
    assert sf.loc[("national_id", "s1"), "distinct_email"] == 2 and sf.loc[("national_id", "s1"), "conflicts"] == 0b110
    assert sf.loc[("phone", "p2"), "recombined"]  # one phone, two national ids
    assert not sf.loc[("national_id", "s9"), "recombined"] and sf.loc[("national_id", "s9"), "conflicts"] == 0
    assert not sf.loc[("phone", "p5"), "recombined"] and sf.loc[("phone", "p5"), "same_person"]
    table = account_table(accounts.assign(overdue_days=0, status="active"), graph)
    rf = ring_features(
        graph,
        cands,
        table,
        shared,
        money_flow(None, graph.account_ids, config),
        None,
        AS_OF.value / 86_400e9,
        config,
    )
    mosaic = ring_row(graph, cands, rf, "m0")
    assert (
        mosaic["recombined_kinds"] == 2 and mosaic["recombined_members"] == 3 and mosaic["national_id_conflicts"] == 2
    )
    assert ring_row(graph, cands, rf, "r0")["recombined_identifiers"] == 0
    assert ring_row(graph, cands, rf, "h0")["recombined_identifiers"] == 0


def _pairs_by_pandas(clusters, idents, first, recent):
    pairs = pd.DataFrame({"cluster": clusters, "identifier": idents, "first_seen": first, "recent": recent})
    frame = (
        pairs.groupby(["cluster", "identifier"], sort=True)
        .agg(
            n_members=("first_seen", "size"),
            first_seen_min=("first_seen", "min"),
            first_seen_max=("first_seen", "max"),
            n_recent=("recent", "sum"),
        )
        .reset_index()
    )
    frame = frame[frame["n_members"] >= 2].reset_index(drop=True)
    keys = clusters.astype(np.int64) * 1000 + idents.astype(np.int64)
    keep = np.isin(keys, frame["cluster"].to_numpy(np.int64) * 1000 + frame["identifier"].to_numpy(np.int64))
    median = pd.Series(first[keep]).groupby([clusters[keep], idents[keep]]).transform("median").to_numpy()
    return frame, keep, median


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_member_pairs_are_the_pandas_grouping(seed):
    """Shared identifiers per ring on numbers: the same frame, kept links and medians as pandas'
    grouping, with missing dates (skipped, a group of only missing dates has none), groups of one
    link (dropped), even and odd sizes, and links in no particular order."""
    from fraudgraph.detection.features import _member_pairs

    rng = np.random.default_rng(seed)
    n = 4000
    clusters = rng.integers(0, 60, n).astype(np.int64)
    idents = rng.integers(0, 40, n).astype(np.int32)
    first = np.round(rng.normal(19000, 300, n), 1)
    first[rng.random(n) < 0.2] = np.nan
    first[(clusters == 7) & (idents < 20)] = np.nan  # whole groups without a date
    recent = first >= 19100
    frame, keep, median, rows = _member_pairs(clusters, idents, first, recent, 1000)
    want_frame, want_keep, want_median = _pairs_by_pandas(clusters, idents, first, recent)
    pd.testing.assert_frame_equal(frame, want_frame)
    assert np.array_equal(keep, want_keep)
    np.testing.assert_array_equal(median, want_median)
    assert (want_frame["n_members"] >= 2).all() and np.isnan(want_median).any()
    # each kept link's row of the frame: its (ring, identifier) there
    assert np.array_equal(frame["cluster"].to_numpy()[rows], clusters[keep])
    assert np.array_equal(frame["identifier"].to_numpy()[rows], idents[keep])


def test_member_pairs_of_no_links():
    from fraudgraph.detection.features import _member_pairs

    none = np.zeros(0)
    frame, keep, median, rows = _member_pairs(none.astype(np.int64), none.astype(np.int32), none, none.astype(bool), 10)
    assert len(frame) == 0 and len(keep) == 0 and len(median) == 0 and len(rows) == 0
    assert list(frame.columns) == ["cluster", "identifier", "n_members", "first_seen_min", "first_seen_max", "n_recent"]
