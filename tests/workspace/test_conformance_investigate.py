"""Investigation on every backend: neighbourhoods that stop at hubs, paths around them, counts."""

from __future__ import annotations

import pandas as pd
import pytest
from workspace_data import hub_dataset

from fraudgraph.errors import NotFoundError


@pytest.fixture(scope="module")
def reference_hubs(reference):
    ref = reference()
    ref.load(hub_dataset())
    return ref


def _chain(path):
    return [n.get("account_id") or n["key"] for n in path]


def test_a_neighbourhood_does_not_expand_hubs(hub_workspace):
    hood = hub_workspace.neighbourhood(["H0"], hops=1, max_nodes=100, hub_threshold=10)
    assert set(hood.accounts["account_id"]) == {"H0", "H1"}  # through the device, not the IP
    ip = hood.identifiers.set_index("kind").loc["ip"]
    assert bool(ip["is_hub"]) and not bool(ip["expanded"]) and int(ip["n_accounts"]) == 30
    assert any("hub" in n for n in hood.notes)
    assert hood.paid["amount"].tolist() == [10.0]
    two = hub_workspace.neighbourhood(["H0"], hops=2, max_nodes=100, hub_threshold=10)
    assert set(two.accounts["account_id"]) == {"H0", "H1", "H2"}
    capped = hub_workspace.neighbourhood(["H0"], hops=2, max_nodes=4, hub_threshold=100)
    assert capped.truncated and any("capped" in n for n in capped.notes)
    with pytest.raises(NotFoundError):
        hub_workspace.neighbourhood(["nope"], hops=1, max_nodes=10, hub_threshold=10)


@pytest.mark.parametrize(("hops", "max_nodes"), [(1, 100), (2, 100), (3, 100), (2, 4)])
def test_a_neighbourhood_has_the_reference_backends_frames(hub_workspace, reference_hubs, hops, max_nodes):
    mine = hub_workspace.neighbourhood(["H0"], hops=hops, max_nodes=max_nodes, hub_threshold=10)
    theirs = reference_hubs.neighbourhood(["H0"], hops=hops, max_nodes=max_nodes, hub_threshold=10)
    for part in ("accounts", "identifiers", "uses", "paid"):
        pd.testing.assert_frame_equal(getattr(mine, part), getattr(theirs, part), obj=part)
    assert (mine.notes, mine.truncated) == (theirs.notes, theirs.truncated)


def test_the_shortest_path_goes_around_hubs(hub_workspace, reference_hubs):
    chain = hub_workspace.shortest_path("H0", "H3", max_hops=6, hub_threshold=10)
    # The IP links H0 and H3 directly, but it is a hub: the path goes device, card, phone.
    assert _chain(chain) == ["H0", "d0", "H1", "c1", "H2", "555", "H3"]
    assert chain[1]["raw_values"] == ["D0", "d0"]
    assert chain == reference_hubs.shortest_path("H0", "H3", max_hops=6, hub_threshold=10)
    assert hub_workspace.shortest_path("H0", "H3", max_hops=2, hub_threshold=10) is None  # too far
    assert hub_workspace.shortest_path("H0", "H9", max_hops=6, hub_threshold=10) is None  # only the hub
    direct = hub_workspace.shortest_path("H0", "H9", max_hops=1, hub_threshold=100)  # no longer a hub
    assert _chain(direct) == ["H0", "1.2.3.4", "H9"]
    with pytest.raises(NotFoundError):
        hub_workspace.shortest_path("H0", "nope", max_hops=6, hub_threshold=10)


def test_identifier_counts(hub_workspace, reference_hubs):
    pairs = pd.DataFrame({"kind": ["ip", "device", "card", "email"], "key": ["1.2.3.4", "d0", "c1", "none"]})
    mine = hub_workspace.identifier_counts(pairs)
    assert mine[["kind", "key", "n_accounts"]].values.tolist() == [
        ["card", "c1", 2],
        ["device", "d0", 2],
        ["ip", "1.2.3.4", 30],
    ]
    assert mine.set_index("kind").loc["device", "raw_values"] == ["D0", "d0"]
    pd.testing.assert_frame_equal(mine, reference_hubs.identifier_counts(pairs))
