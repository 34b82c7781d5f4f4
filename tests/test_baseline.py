"""The kept baseline: a ring's result depends on its own component and the baseline only.

A delta elsewhere (new accounts joining one ring, a new ring, later dates that move as_of) must
leave every other ring exactly as it was: that is what lets a sweep recompute only what a delta
reaches. Without a kept baseline the IsolationForest is refitted on the new set of rings and
every ring's anomaly moves.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components

from fraudgraph.detection.baseline import Baseline
from fraudgraph.detection.graph import DetectionConfig, build_identity_graph
from fraudgraph.detection.pipeline import detect
from fraudgraph.detection.rings import identity_projection, money_edges, money_flow
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world


def _frames(seed: int, n: int = 3000):
    world = generate_world(n, seed)
    accounts = world.accounts.copy()
    label = accounts["label"].astype(object)
    accounts["label"] = label.where(label.isin(["fraud", "legit"]), None).astype(object)
    links = world.links.copy()
    links["key"] = canonical_keys(links["kind"], links["value"])
    return accounts, links, world.transactions


def _delta(accounts, links, ring_members):
    """Three accounts that join the first ring on its members' device, and four that share a new
    device among themselves, all opened a month after everything else (as_of moves)."""
    later = pd.to_datetime(links["first_seen"]).max() + pd.Timedelta(days=30)
    target = ring_members.sort_values("ring_id")["account_id"].iloc[0]
    device = links[(links["account_id"] == target) & (links["kind"] == "device")]
    joining = device.iloc[0] if len(device) else links[links["account_id"] == target].iloc[0]
    template = accounts.iloc[[0] * 7].copy()
    template["account_id"] = [f"NEW-{i}" for i in range(7)]
    template["created_at"] = later
    template["label"] = None
    rows = [{"account_id": f"NEW-{i}", "kind": joining["kind"], "value": joining["value"]} for i in range(3)]
    rows += [{"account_id": f"NEW-{i}", "kind": "device", "value": "fresh-farm-device-1"} for i in range(3, 7)]
    rows += [{"account_id": f"NEW-{i}", "kind": "phone", "value": f"+1 555 0100 {i:03d}"} for i in range(7)]
    new_links = pd.DataFrame(rows).assign(first_seen=later)
    new_links["key"] = canonical_keys(new_links["kind"], new_links["value"])
    for column in links.columns.difference(new_links.columns):
        new_links[column] = None
    # What the delta reaches: its accounts, and every account on an identifier it uses (whose
    # count, weight and hub status it changes).
    on_used = links.merge(new_links[["kind", "key"]].drop_duplicates(), on=["kind", "key"])["account_id"]
    return (
        pd.concat([accounts, template], ignore_index=True),
        pd.concat([links, new_links[links.columns]], ignore_index=True),
        set(template["account_id"]) | set(on_used),
    )


def _touched(accounts, links, transactions, seeds: set[str]) -> set[str]:
    """Accounts in a component (identity and money edges, as detection takes them) of a seed."""
    config = DetectionConfig()
    graph = build_identity_graph(accounts, links, config)
    flow = money_flow(transactions, graph.account_ids, config)
    _, component = connected_components(identity_projection(graph, config) + money_edges(flow, config))
    ids = graph.account_ids.to_numpy()
    hit = np.isin(component, component[np.isin(ids, list(seeds))])
    return set(ids[hit])


@pytest.mark.parametrize("seed", [5, 17])
def test_a_delta_elsewhere_leaves_every_other_ring_exactly_as_it_was(seed):
    accounts, links, transactions = _frames(seed)
    before = detect(accounts, links, transactions, seed=0)
    kept = Baseline.from_bytes(before.baseline.to_bytes())
    accounts2, links2, seeds = _delta(accounts, links, before.ring_members)
    after = detect(
        accounts2,
        links2,
        transactions,
        seed=0,
        baseline=kept,
        previous_members=before.ring_members,
        next_ring_number=before.next_ring_number,
    )
    assert after.as_of > before.as_of  # the calendar moved
    touched = _touched(accounts2, links2, transactions, seeds)
    members = before.ring_members
    untouched = set(members.loc[~members["account_id"].isin(touched), "ring_id"])
    assert len(untouched) > 0.9 * members["ring_id"].nunique()

    def rings(d):
        r = d.rings[d.rings["ring_id"].isin(untouched)].sort_values("ring_id").reset_index(drop=True)
        return r.assign(features=r["features"].map(repr), reasons=r["reasons"].map(repr))

    pd.testing.assert_frame_equal(rings(before), rings(after))
    outside = sorted(set(accounts["account_id"]) - touched)

    def scores(d):
        s = d.account_scores.set_index("account_id").loc[outside].reset_index()
        return s.assign(reasons=s["reasons"].map(repr))

    pd.testing.assert_frame_equal(scores(before), scores(after))
    # The delta itself is seen: the four accounts on one new device are a new ring.
    farm = after.ring_members[after.ring_members["account_id"].isin([f"NEW-{i}" for i in range(3, 7)])]
    assert len(farm) == 4 and farm["ring_id"].nunique() == 1 and farm["ring_id"].iloc[0] not in set(members["ring_id"])


def test_without_the_kept_baseline_the_same_delta_moves_rings_it_never_touched():
    accounts, links, transactions = _frames(5)
    before = detect(accounts, links, transactions, seed=0)
    accounts2, links2, seeds = _delta(accounts, links, before.ring_members)
    refit = detect(accounts2, links2, transactions, seed=0, previous_members=before.ring_members)
    touched = _touched(accounts2, links2, transactions, seeds)
    untouched = set(before.ring_members.loc[~before.ring_members["account_id"].isin(touched), "ring_id"])
    old = before.rings.set_index("ring_id").loc[sorted(untouched), "score"]
    new = refit.rings.set_index("ring_id").loc[sorted(untouched), "score"]
    assert (old != new).any()


def test_a_baseline_round_trips_through_bytes_without_pickle():
    accounts, links, transactions = _frames(5, n=1500)
    fitted = detect(accounts, links, transactions, seed=0).baseline.fitted("seed=0")
    again = Baseline.from_bytes(fitted.to_bytes())
    assert again.digest == fitted.digest and again.fitted_for == "seed=0"
    assert again.hub_centres == fitted.hub_centres and again.proximity_scale == fitted.proximity_scale
    np.testing.assert_array_equal(again.ring_matrix, fitted.ring_matrix)
    with pytest.raises(ValueError, match="not a detection baseline"):
        Baseline.from_bytes(b"not an archive")


def test_a_baseline_kept_deflated_by_an_earlier_version_still_reads():
    """Baselines are stored now (no deflate: a first sweep's critical path); workspaces hold
    deflated ones from before, which a delta sweep must still judge by."""
    accounts, links, transactions = _frames(5, n=1500)
    fitted = detect(accounts, links, transactions, seed=0).baseline.fitted("seed=0")
    stored = fitted.to_bytes()
    with np.load(io.BytesIO(stored)) as data:
        arrays = dict(data)
    deflated = io.BytesIO()
    np.savez_compressed(deflated, **arrays)
    assert len(deflated.getvalue()) < len(stored)  # the stored archive really is not deflated
    again = Baseline.from_bytes(deflated.getvalue())
    assert again.digest == fitted.digest and again.fitted_for == "seed=0"
