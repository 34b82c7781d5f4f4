"""A big load's accounts and transactions written by a child process into a staging file and
copied in (``store._DataStage``, through ``workspace/sqlite/staging.py``): the workspace ends the
same as when the load binds them itself, for a first load (into empty tables) and a later one
(new and changed rows through the upsert), whatever happens to the child; nothing is left behind.

The loads here are small; ``staging.MIN_ROWS`` is lowered so that they stage."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from staging_checks import fail_in_children, failure_said, nothing_left, watch_staging

from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world, write_world
from fraudgraph.workspace.sqlite import staging, store as store_mod
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

_TABLES = ("accounts", "transactions", "loads", "meta")


def _digests(path: Path) -> dict[str, tuple]:
    """The data tables' rows (the load's time and duration left out), as a count and a digest."""
    db = sqlite3.connect(path)
    out = {}
    for t in _TABLES:
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({t})") if r[1] not in ("at", "load_id")]
        rows = db.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
        if t == "loads":  # the summary without its seconds
            rows = [tuple(v.split('"seconds"')[0] if isinstance(v, str) else v for v in r) for r in rows]
        if t == "meta":  # the snapshot's generation is a random name
            rows = [r for r in rows if r[0] != "snapshot_generation"]
        h = hashlib.sha256()
        for row in rows:
            h.update(repr(row).encode())
        out[t] = (len(rows), h.hexdigest()[:16])
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()
    out["indexes"] = tuple(indexes)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    return out


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> tuple[Path, Path]:
    """A 1,200-account world, and a later extract of it: balances and a limit changed, a
    transaction's amount corrected, new transactions."""
    root = tmp_path_factory.mktemp("extracts")
    world = generate_world(1_200, 5)
    first = root / "first"
    write_world(world, first)
    later = root / "later"
    write_world(world, later)
    acc = pd.read_csv(later / "accounts.csv", dtype=str, keep_default_na=False)
    acc.loc[:9, "balance"] = "1234.5"
    acc.loc[3, "credit_limit"] = "9999"
    acc.to_csv(later / "accounts.csv", index=False)
    txns = pd.read_csv(later / "transactions.csv", dtype=str, keep_default_na=False)
    txns.loc[0, "amount"] = "77.77"
    extra = txns.iloc[:25].copy()
    extra["txn_id"] = [f"LATER-{i}" for i in range(len(extra))]
    pd.concat([txns, extra]).to_csv(later / "transactions.csv", index=False)
    return first, later


def _load_twice(folder: Path, extracts, made: list | None = None) -> tuple[Path, list[dict]]:
    path = folder / "ws.db"
    ws = SqliteWorkspace(path)
    summaries = []
    try:
        for extract in extracts:
            summary = ws.load(read_dataset(extract)).as_dict()
            summary.pop("seconds", None)
            summaries.append(summary)
    finally:
        ws.close()
    return path, summaries


@pytest.fixture(scope="module")
def loaded_here(extracts, tmp_path_factory) -> tuple[dict, list[dict]]:
    """The workspace and load summaries of both loads written without a child."""
    path, summaries = _load_twice(tmp_path_factory.mktemp("here"), extracts)
    return _digests(path), summaries


def test_staged_loads_leave_the_workspace_as_loading_here_does(extracts, loaded_here, tmp_path, monkeypatch):
    made = watch_staging(monkeypatch)
    path, summaries = _load_twice(tmp_path, extracts)
    assert len(made) == 2 and all(s is not None and s.exit_code == 0 for s in made)
    digests, expected_summaries = loaded_here
    assert summaries == expected_summaries
    assert summaries[1]["accounts_updated"] == 10 and summaries[1]["transactions_updated"] == 1
    assert summaries[1]["transactions_new"] == 25
    assert _digests(path) == digests
    nothing_left(tmp_path, made)


@pytest.mark.parametrize("how", ["error", "killed"])
def test_a_child_that_fails_leaves_the_rows_to_the_load(how, extracts, loaded_here, tmp_path, monkeypatch, caplog):
    fail_in_children(monkeypatch, store_mod, how)
    made = watch_staging(monkeypatch)
    with caplog.at_level("DEBUG", logger="fraudgraph"):
        path, summaries = _load_twice(tmp_path, extracts)
    assert made and all(s is not None and s.exit_code != 0 for s in made)
    said = failure_said(how)
    assert any(f"the staged rows are not there ({said}" in r.getMessage() for r in caplog.records)
    assert (_digests(path), summaries) == loaded_here
    nothing_left(tmp_path, made)


def test_a_load_that_fails_after_staging_stops_the_child_and_writes_nothing(extracts, tmp_path, monkeypatch):
    def indexing_fails(self, statements):
        raise RuntimeError("index broke")

    monkeypatch.setattr(SqliteWorkspace, "_build_indexes", indexing_fails)
    made = watch_staging(monkeypatch)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    with pytest.raises(RuntimeError, match="index broke"):
        ws.load(read_dataset(extracts[0]))
    assert "staged_data" not in [r[1] for r in ws._db.execute("PRAGMA database_list")]  # detached
    ws.close()
    assert len(made) == 1 and made[0] is not None  # it had started
    nothing_left(tmp_path, made)
    db = sqlite3.connect(tmp_path / "ws.db")
    assert db.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM transactions").fetchone() == (0,)
    db.close()


def test_a_small_load_binds_its_rows_itself(extracts, tmp_path, monkeypatch):
    made: list = []
    monkeypatch.setattr(staging, "start", lambda where, work: made.append(where))
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(read_dataset(extracts[0]))  # 1,200 accounts and their transactions: below MIN_ROWS
    ws.close()
    assert made == []
