"""A whole-world sweep hands its loaded links to detection (``pipeline.handover``), which lets
each column go once the identity graph has read it: the detection must be the one a frame gives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudgraph.detection.graph import build_identity_graph
from fraudgraph.detection.pipeline import detect, handover
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world


def _arrow_links(links: pd.DataFrame) -> pd.DataFrame:
    """The links as the SQLite workspace reads them for a sweep: Arrow text, categorical kinds."""
    out = links.copy()
    out["key"] = canonical_keys(out["kind"], out["value"])
    for col in ("account_id", "value", "key"):
        out[col] = out[col].astype(pd.StringDtype(storage="pyarrow"))
    out["kind"] = out["kind"].astype("category")
    return out


def test_a_consumed_frame_gives_the_same_graph_and_keeps_only_the_raw_values():
    world = generate_world(2_000, seed=5)
    links = _arrow_links(world.links)
    kept = build_identity_graph(world.accounts, links.copy())
    given = links.copy()
    consumed = build_identity_graph(world.accounts, given, consume=True)
    assert list(given.columns) == ["value"]  # the rest went once read
    pd.testing.assert_frame_equal(consumed.identifiers, kept.identifiers)
    assert (consumed.incidence != kept.incidence).nnz == 0
    codes = np.arange(len(kept.identifiers))
    pd.testing.assert_series_equal(consumed.raw_spellings(codes), kept.raw_spellings(codes))


def test_detection_from_handed_over_links_is_detection_from_the_frame():
    world = generate_world(2_000, seed=6)
    links = _arrow_links(world.links)
    by_frame = detect(world.accounts, links, world.transactions, seed=1)
    reader = handover(links.copy())
    handed = detect(world.accounts, reader, world.transactions, seed=1)
    assert reader.__self__ == []  # the reader keeps nothing once read
    for name in ("rings", "ring_members", "account_scores", "hubs", "ring_identifiers"):
        pd.testing.assert_frame_equal(getattr(handed, name), getattr(by_frame, name), obj=name)
    assert len(by_frame.rings) > 0
