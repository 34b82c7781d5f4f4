"""What the SQLite load keeps beside the tables: the counts ``status`` shows (kept by each load, not
counted over millions of links) and the columnar snapshot the sweep reads (a load adds delta parts,
a rewrite folds them in). Both must always agree with the links and accounts tables themselves."""

from __future__ import annotations

import pandas as pd
import pytest
from check_data import links_table
from workspace_data import ACCOUNTS, LINKS, TXNS, each_load, make_dataset

from fraudgraph.workspace.sqlite import store
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

MORE_ACCOUNTS = ACCOUNTS + [("A5", "2024-01-05", 10.0, 0.0, 0, "active", None)]
# Loads after the first: a new account on a known phone, an identifier re-keyed away from its last
# link (ip 10.0.0.1 -> 10.0.0.2), a no-identity value that gains a key, a key that is lost.
LATER_LOADS = [
    (MORE_ACCOUNTS, [("A5", "phone", "555.123.4567", "5551234567", "2024-04-01")]),
    (ACCOUNTS, [("A4", "ip", "10.0.0.1", "10.0.0.2", None), ("A2", "email", "N/A", "n/a@x.com", None)]),
    (ACCOUNTS, [("A3", "phone", "(555) 123-4567", None, None), ("A4", "card", "4000 1", "40001", "2024-05-05")]),
    (ACCOUNTS, [("A2", "device", "dev-1 ", "dev-2", None)]),
]


def _counted_by_sql(ws: SqliteWorkspace) -> dict:
    """What status showed when it counted the links table on every call (the reference)."""
    links_table(ws._db, ws.path)
    kinds = [
        {"kind": k, "links": n, "identifiers": ids, "no_identity": none}
        for k, n, ids, none in ws._db.execute(
            "SELECT kind, count(*), count(DISTINCT key), sum(key IS NULL) FROM links GROUP BY kind ORDER BY kind"
        )
    ]
    distinct = ws._db.execute("SELECT count(*) FROM (SELECT DISTINCT kind, key FROM links WHERE key IS NOT NULL)")
    counts = {
        t.removeprefix("temp."): ws._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("accounts", "temp.links", "transactions")
    }
    return {"counts": counts, "kinds": kinds, "distinct_identifiers": distinct.fetchone()[0]}


def _shown(ws: SqliteWorkspace) -> dict:
    st = ws.status()
    return {k: st[k] for k in ("counts", "kinds", "distinct_identifiers")}


def _by_id(ws: SqliteWorkspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = sorted(ws._db.execute("SELECT account_id FROM accounts").fetchall())
    ids = [i for (i,) in ids]
    return ws.accounts(ids), ws.links(ids)


@pytest.mark.parametrize(
    ("small_load", "rewrite"),
    [(1_000, False), (0, False), (0, True)],
    ids=["small-loads", "whole-snapshot-loads", "snapshot-rewritten-every-load"],
)
def test_status_counts_and_snapshot_agree_with_the_tables_after_every_load(tmp_path, monkeypatch, small_load, rewrite):
    """Also with the snapshot rewritten whole by every load (its parts encoded in the background)."""
    monkeypatch.setattr(store, "_SMALL_LOAD", small_load)
    if rewrite:
        monkeypatch.setattr(SqliteWorkspace, "_delta_room", lambda self: -1)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    for _ in each_load(ws, LATER_LOADS, whole=small_load == 0):
        assert _shown(ws) == _counted_by_sql(ws)
        accounts_by_id, links_by_id = _by_id(ws)
        pd.testing.assert_frame_equal(ws.accounts(), accounts_by_id, check_dtype=False)
        pd.testing.assert_frame_equal(ws.links(), links_by_id, check_dtype=False)
    kinds = {k["kind"]: k for k in ws.status()["kinds"]}
    assert kinds["ip"]["identifiers"] == 1  # 10.0.0.1 lost its only link: it is no longer counted
    assert kinds["email"]["no_identity"] == 1
    ws.close()


def test_a_big_load_adds_delta_parts_until_they_outgrow_the_snapshot(tmp_path, monkeypatch):
    """A load that is not small reads the whole snapshot to plan, but writes only its changed rows as
    delta parts; when the deltas would outgrow a quarter of the snapshot, it is rewritten whole."""
    monkeypatch.setattr(store, "_SMALL_LOAD", 0)
    monkeypatch.setattr(store, "_MAX_DELTA_ROWS", 2)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    many = [(f"B{i:03d}", "2024-01-01", 1.0, 0.0, 0, "active", None) for i in range(40)]
    ws.load(make_dataset(ACCOUNTS + many, LINKS, TXNS))

    def parts() -> list[tuple[str, int]]:
        return ws._db.execute("SELECT name, part FROM snapshots WHERE part >= 1000000 ORDER BY name, part").fetchall()

    assert parts() == []
    ws.load(make_dataset(ACCOUNTS + many, LINKS + [("B001", "card", "4000 2", "40002", None)], TXNS))
    assert parts() == [("links", 1_000_000)]  # one changed row: one delta part, nothing rewritten
    bigger = [(a, c, 2.0, *rest) for a, c, _, *rest in many]  # every B account's limit changes
    ws.load(make_dataset(ACCOUNTS + bigger, LINKS, TXNS))
    assert parts() == []  # 40 more rows than a quarter of the snapshot holds: rewritten whole
    assert ws.accounts(["B007"])["credit_limit"].item() == 2.0
    accounts_by_id, links_by_id = _by_id(ws)
    pd.testing.assert_frame_equal(ws.accounts(), accounts_by_id, check_dtype=False)
    pd.testing.assert_frame_equal(ws.links(), links_by_id, check_dtype=False)
    ws.close()
