"""The counts `status` shows per kind (links, distinct identifiers, links without an identity): a
load that rewrites the snapshot whole takes them off its holder parts' ordered hashes, a later big
one off the links in hand, in a background thread; they must be what SQL counts in the table, for
any keys (missing, empty, non-ASCII, repeated)."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from check_data import connect_with_links

from fraudgraph.ingest.contract import read_dataset
from fraudgraph.workspace.sqlite import store
from fraudgraph.workspace.sqlite.store import SqliteWorkspace, kind_counts

# What SQL counts over the links (a table in the first test; the workspace's links as a table after).
KIND_COUNTS = "SELECT kind, count(*), count(DISTINCT key), sum(key IS NULL) FROM links GROUP BY kind"


def _sql_counts(db, *, workspace: bool = True) -> dict[str, list[int]]:
    con = connect_with_links(db) if workspace else sqlite3.connect(db)
    try:
        return {kind: [int(n), int(ids), int(none)] for kind, n, ids, none in con.execute(KIND_COUNTS)}
    finally:
        con.close()


def _status_kinds(ws) -> dict[str, list[int]]:
    return {k["kind"]: [k["links"], k["identifiers"], k["no_identity"]] for k in ws.status()["kinds"]}


@pytest.mark.parametrize("storage", ["str", "object", "category"])
def test_kind_counts_are_what_sql_counts(tmp_path, storage):
    keys = ["a", "a", None, "", "é", "É", "x", None, "x", "y", "a"]
    kinds = ["email", "email", "email", "phone", "phone", "phone", "ip", "ip", "device", "device", "device"]
    links = pd.DataFrame({"kind": kinds, "key": keys})
    if storage != "str":
        links = links.astype({"kind": storage, "key": object})
    else:
        links = links.astype({"kind": "str", "key": "str"})
    con = sqlite3.connect(tmp_path / "t.db")
    con.execute("CREATE TABLE links (kind TEXT, key TEXT)")
    con.executemany("INSERT INTO links VALUES (?, ?)", zip(kinds, keys))
    con.commit()
    con.close()
    expected = _sql_counts(tmp_path / "t.db", workspace=False)
    assert expected["email"] == [3, 1, 1] and expected["phone"] == [3, 3, 0]
    assert kind_counts(links) == expected


def test_a_first_big_load_counts_aside_as_sql_counts(tmp_path, world_dir, monkeypatch):
    monkeypatch.setattr(store, "_SMALL_LOAD", 1_000)  # this world's load is "big"
    counted = []
    real = store.kind_counts
    monkeypatch.setattr(store, "kind_counts", lambda links: counted.append(len(links)) or real(links))
    db = tmp_path / "ws.db"
    dataset = read_dataset(world_dir)
    with SqliteWorkspace(db) as ws:
        ws.load(dataset)
        assert counted == []  # a whole rewrite counts off its holder parts' ordered hashes
        assert _status_kinds(ws) == _sql_counts(db)
        # A second big load counts every link after it (old and new alike), off the links in hand.
        extra = dataset.links.head(5_000).assign(value=lambda d: d["value"] + "-2", key=lambda d: d["key"] + "-2")
        ws.load(
            dataset.__class__(accounts=dataset.accounts.head(0), links=extra, transactions=dataset.transactions.head(0))
        )
        assert counted == [len(dataset.links) + len(extra)]  # off every link in hand, old and new
        assert _status_kinds(ws) == _sql_counts(db)
