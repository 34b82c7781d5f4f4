"""A big load's memory work keeps its results: dates parsed in slices, keys normalized in slices,
tables read one at a time, SQLite's sorts on disk. Each test makes the slices tiny, so a
handful of rows crosses their boundaries, and compares with one slice."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from fraudgraph.errors import InputError
from fraudgraph.ingest import contract, normalize
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world, write_world
from fraudgraph.workspace.sqlite import store
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


@pytest.fixture(scope="module")
def world_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    write_world(generate_world(400, 3), folder)
    return folder


def _frames(ds) -> dict[str, pd.DataFrame]:
    return {"accounts": ds.accounts, "links": ds.links, "transactions": ds.transactions}


def test_slices_give_the_same_dataset_as_one_pass(world_folder, monkeypatch):
    whole = read_dataset(world_folder)
    monkeypatch.setattr(contract, "_PARSE_ROWS", 7)  # dates: hundreds of slices, the last one short
    monkeypatch.setattr(normalize, "_KEY_ROWS", 13)  # keys: likewise
    sliced = read_dataset(world_folder)
    assert len(whole.links) > 1000
    for name, frame in _frames(whole).items():
        pd.testing.assert_frame_equal(_frames(sliced)[name], frame)
    assert sliced.warnings == whole.warnings


def test_missing_key_is_missing_and_keys_are_arrow_text(world_folder):
    links = read_dataset(world_folder).links
    assert str(links["key"].dtype) == "str"  # Arrow text, not a Python object per key
    no_identity = links["key"].isna()
    assert no_identity.any() and (~no_identity).any()


def test_problems_of_every_table_are_reported_at_once_and_links_are_not_normalized(tmp_path):
    pd.DataFrame({"account_id": ["A1", "A1"], "created_at": ["2024-01-01", "someday"]}).to_csv(
        tmp_path / "accounts.csv", index=False
    )
    pd.DataFrame({"account_id": ["A1", "ghost"], "kind": ["email", "email"], "value": ["a@b.co", "c@d.co"]}).to_csv(
        tmp_path / "links.csv", index=False
    )
    txns = {
        "txn_id": ["T1"],
        "account_id": ["nobody"],
        "counterparty": ["M1"],
        "counterparty_kind": ["merchant"],
        "amount": ["5"],
        "timestamp": ["2024-02-01"],
    }
    pd.DataFrame(txns).to_csv(tmp_path / "transactions.csv", index=False)
    seen: list[str] = []
    with pytest.raises(InputError) as caught:
        read_dataset(tmp_path, progress=seen.append)
    found = [str(p) for p in caught.value.problems]
    assert caught.value.total == 4
    assert [p.split(":")[0] for p in found] == ["accounts.csv", "accounts.csv", "links.csv", "transactions.csv"]
    assert "duplicate account_id 'A1' (first on line 2)" in found[0]
    assert "'ghost'" in found[2] and "'nobody'" in found[3]
    assert not any("normalizing" in s for s in seen)  # refused anyway: the keys are not worked out


@pytest.mark.parametrize("small_load", [100_000, 0], ids=["small-world", "counted-as-big"])
def test_big_load_sorts_on_disk_and_gives_back_memory_sorts(world_folder, tmp_path, monkeypatch, small_load):
    monkeypatch.setattr(store, "_SMALL_LOAD", small_load)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    while_indexing: list[int] = []

    def say(message: str) -> None:
        if message == "indexing":
            while_indexing.append(ws._db.execute("PRAGMA temp_store").fetchone()[0])

    dataset = read_dataset(world_folder)
    ws.load(dataset, progress=say)
    assert while_indexing == [1 if small_load == 0 else 2]  # FILE for a big load's sorts, else MEMORY
    ws._fill_ids(["x"])  # a temporary table, then a second big load: the setting still changes
    ws.load(dataset, progress=say)
    assert ws._db.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY again for later queries
    ws.close()
    db = sqlite3.connect(tmp_path / "ws.db")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"transactions_by_account", "transactions_by_payee"} <= names
    assert db.execute("SELECT count(*) FROM snapshots WHERE name = 'holders'").fetchone()[0] > 0
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
