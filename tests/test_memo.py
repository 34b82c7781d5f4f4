"""Leiden answers remembered by their input (detection/memo.py) and the per-component cut."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd

from fraudgraph.detection.graph import DetectionConfig, build_identity_graph
from fraudgraph.detection.memo import CommunityMemo
from fraudgraph.detection.rings import find_candidate_rings, money_flow
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world

EACH = DetectionConfig(community_per_component=True)
ONE_CALL = DetectionConfig(community_per_component=False)  # the cut of earlier versions


def _candidates(world, config, memo=None, seed=0):
    links = world.links.assign(key=canonical_keys(world.links["kind"], world.links["value"]))
    graph = build_identity_graph(world.accounts, links, config)
    flow = money_flow(world.transactions, graph.account_ids, config)
    return find_candidate_rings(graph, flow, config, seed=seed, memo=memo)


def _groups(clusters: pd.DataFrame) -> set[frozenset]:
    return {frozenset(g) for g in clusters.groupby("cluster")["account_id"].agg(list)}


def test_remembered_answers_give_the_same_rings_and_skip_every_call_the_second_time():
    world = generate_world(3000, 4)
    for config in (ONE_CALL, EACH):
        first = CommunityMemo()
        plain = _candidates(world, config)
        recorded = _candidates(world, config, first)
        assert first.computed >= 1 and first.reused == 0
        again = CommunityMemo.from_bytes(first.kept().to_bytes())
        reused = _candidates(world, config, again)
        assert again.reused == first.computed and again.computed == 0
        for other in (recorded, reused):
            np.testing.assert_array_equal(other.cluster_of, plain.cluster_of)
    assert first.computed > 10  # one call per big component


def test_a_full_sweeps_memo_records_without_reusing_and_another_seed_misses():
    world = generate_world(2000, 6)
    memo = CommunityMemo()
    _candidates(world, EACH, memo)
    full = CommunityMemo(memo.kept().entries, reuse=False)
    _candidates(world, EACH, full)
    assert full.reused == 0 and full.computed == memo.computed
    other_seed = CommunityMemo(memo.kept().entries)
    _candidates(world, EACH, other_seed, seed=1)
    assert other_seed.reused == 0


def _prefixed(world, prefix: str) -> SimpleNamespace:
    """The world with every account id and identifier value renamed: no account or identifier
    in common with the original."""
    tx = world.transactions
    to_account = tx["counterparty_kind"] == "account"
    return SimpleNamespace(
        accounts=world.accounts.assign(account_id=prefix + world.accounts["account_id"].astype(str)),
        links=world.links.assign(
            account_id=prefix + world.links["account_id"].astype(str), value=prefix + world.links["value"].astype(str)
        ),
        transactions=tx.assign(
            txn_id=prefix + tx["txn_id"].astype(str),
            account_id=prefix + tx["account_id"].astype(str),
            counterparty=tx["counterparty"].astype(str).where(~to_account, prefix + tx["counterparty"].astype(str)),
        ),
    )


def test_alone_a_components_cut_does_not_depend_on_the_rest_of_the_graph():
    one, other = generate_world(2000, 4), _prefixed(generate_world(2000, 5), "x")
    both = SimpleNamespace(
        **{
            name: pd.concat([getattr(one, name), getattr(other, name)])
            for name in ("accounts", "links", "transactions")
        }
    )
    alone = _candidates(one, EACH)
    together = _candidates(both, EACH)
    mine = set(one.accounts["account_id"].astype(str))
    assert _groups(alone.clusters) == {g for g in _groups(together.clusters) if g <= mine}


def test_the_per_component_cut_is_the_default_and_the_one_call_cut_stays_available():
    world = generate_world(3000, 4)
    default = _candidates(world, DetectionConfig())
    np.testing.assert_array_equal(default.cluster_of, _candidates(world, EACH).cluster_of)
    one_call = _candidates(world, ONE_CALL)
    # Either way every candidate ring has two or more members.
    assert (default.cluster_of >= 0).sum() > 0 and (one_call.cluster_of >= 0).sum() > 0
    for labels in (default.cluster_of, one_call.cluster_of):
        sizes = np.bincount(labels[labels >= 0])
        assert sizes[sizes > 0].min() >= 2


def test_a_blob_it_cannot_read_is_an_empty_memo():
    assert CommunityMemo.from_bytes(b"not a memo").entries == {}
    assert CommunityMemo.from_bytes(None).entries == {}
    memo = CommunityMemo({b"k" * 32: np.array([0, 0, 1])})
    assert CommunityMemo.from_bytes(memo.to_bytes()).entries[b"k" * 32].tolist() == [0, 0, 1]
    # A memo kept deflated by an earlier version reads the same.
    with np.load(io.BytesIO(memo.to_bytes())) as data:
        arrays = dict(data)
    deflated = io.BytesIO()
    np.savez_compressed(deflated, **arrays)
    assert CommunityMemo.from_bytes(deflated.getvalue()).entries[b"k" * 32].tolist() == [0, 0, 1]


def test_a_component_linked_pair_by_pair_above_the_resolution_is_one_ring_without_a_leiden_call(monkeypatch):
    """Households and rings whose members all share one thing skip Leiden; the cut is the one
    Leiden gives, the other components still get their call."""
    import fraudgraph.detection.rings as rings

    world = generate_world(3000, 4)
    calls = []
    real = rings._community_leiden

    def counted(n_nodes, edges, weights, config):
        calls.append((n_nodes, len(edges), float(weights.min())))
        return real(n_nodes, edges, weights, config)

    monkeypatch.setattr(rings, "_community_leiden", counted)
    found = _candidates(world, EACH)
    monkeypatch.setattr(rings, "_whole_cliques", lambda starts, *a: np.zeros(len(starts), dtype=bool))
    every = len(calls)
    np.testing.assert_array_equal(_candidates(world, EACH).cluster_of, found.cluster_of)
    all_calls = calls[every:]
    cliques = [c for c in all_calls if c[1] == c[0] * (c[0] - 1) // 2 and c[2] > EACH.resolution]
    assert cliques and every == len(all_calls) - len(cliques)
    # A clique linked below the resolution somewhere is not taken as one: it gets its call.
    weak = DetectionConfig(community_per_component=True, resolution=10.0)
    calls.clear()
    monkeypatch.undo()
    monkeypatch.setattr(rings, "_community_leiden", counted)
    _candidates(world, weak)
    assert len(calls) == len(all_calls)


def test_leiden_split_with_a_forked_child_gives_the_same_rings_and_memo(monkeypatch):
    # A big sweep sends half the per-component Leiden calls to a forked child; forced here on a
    # small world, the rings, the memo's bytes and its counts must be those of one process.
    from fraudgraph.detection import forked, rings

    world = generate_world(3000, 4)
    alone, split = CommunityMemo(), CommunityMemo()
    plain = _candidates(world, EACH, alone)
    children = []
    started = forked._started
    monkeypatch.setattr(forked, "_started", lambda *a: children.append(1) or started(*a))
    monkeypatch.setattr(rings, "_FORK_FROM_COST", 0.0)
    forked_run = _candidates(world, EACH, split)
    assert children == [1]
    np.testing.assert_array_equal(forked_run.cluster_of, plain.cluster_of)
    assert split.kept().to_bytes() == alone.kept().to_bytes()
    assert (split.reused, split.computed) == (alone.reused, alone.computed) and alone.computed > 10
    again = CommunityMemo.from_bytes(split.kept().to_bytes())
    np.testing.assert_array_equal(_candidates(world, EACH, again).cluster_of, plain.cluster_of)
    assert again.reused == alone.computed and again.computed == 0
