"""A ring's features are stored as ``[names_id, value, ...]`` with their names once in
``feature_names``; every reader gets the same dict the sweep computed, and a ring stored the way
it was before (a JSON object per ring) still reads as it is."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from fraudgraph.app.sweep import run_sweep
from fraudgraph.cli.main import cli
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


def _stored(db, sql, params=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_features_are_stored_once_named_and_read_back_whole(db_copy):
    names = _stored(db_copy, "SELECT names_id, names FROM feature_names")
    assert len(names) == 1
    names_id, listed = names[0][0], json.loads(names[0][1])
    assert listed == sorted(listed) and {"size", "density", "exposure"} <= set(listed)
    texts = dict(_stored(db_copy, "SELECT ring_id, features FROM rings"))
    assert len(texts) > 10
    expected = {}
    for ring_id, text in texts.items():
        stored = json.loads(text)
        assert stored[0] == names_id and len(stored) == len(listed) + 1
        expected[ring_id] = dict(zip(listed, stored[1:]))
    with SqliteWorkspace(db_copy) as ws:
        # Every reader: the table, the score-ordered page, one ring.
        assert ws.table("rings").set_index("ring_id")["features"].to_dict() == expected
        page, total = ws.top_rings(None, 5)
        assert total == len(expected)
        for ring_id, features in zip(page["ring_id"], page["features"]):
            assert features == expected[ring_id]
            assert list(features) == listed  # in name order, as a stored object read
            assert isinstance(features["size"], int) and features["size"] >= 2
        one = ws.table("rings", ring_id=page["ring_id"].iloc[0])
        assert one["features"].iloc[0] == expected[page["ring_id"].iloc[0]]
        # A sweep that recomputes everything writes the same names again, not a second list.
        run_sweep(ws, seed=0, full=True)
    assert len(_stored(db_copy, "SELECT names_id FROM feature_names")) == 1


def test_a_ring_stored_as_an_object_before_still_reads(db_copy):
    ring_id, text = _stored(db_copy, "SELECT ring_id, features FROM rings ORDER BY score DESC LIMIT 1")[0]
    with SqliteWorkspace(db_copy) as ws:
        features = ws.table("rings", ring_id=ring_id)["features"].iloc[0]
    old = json.dumps(features, sort_keys=True)
    con = sqlite3.connect(db_copy)
    with con:
        con.execute("UPDATE rings SET features = ? WHERE ring_id = ?", (old, ring_id))
    con.close()
    with SqliteWorkspace(db_copy) as ws:
        assert ws.table("rings", ring_id=ring_id)["features"].iloc[0] == features
    out = CliRunner().invoke(cli, ["--db", str(db_copy), "ring", ring_id, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["features"] == json.loads(json.dumps(features))


def test_the_ring_command_shows_the_named_features(db_copy):
    ring_id = _stored(db_copy, "SELECT ring_id FROM rings ORDER BY score DESC LIMIT 1")[0][0]
    out = CliRunner().invoke(cli, ["--db", str(db_copy), "ring", ring_id, "--format", "json"])
    assert out.exit_code == 0, out.output
    features = json.loads(out.output)["features"]
    assert isinstance(features, dict) and features["size"] >= 2
