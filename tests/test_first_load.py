"""A big first load into an empty workspace is written without the write-ahead log (its pages go
into the file once, not into the log and again into the file). What a user relies on must not
change: the same rows, WAL mode after (so sweeps and readers go on together), nothing left of a
load that fails or is killed, and a clear word to anyone who opens the workspace meanwhile."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from fraudgraph.errors import LockedError, WorkspaceError
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.workspace.sqlite import store
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

# The data tables (the links and who holds each identifier are in the snapshot's parts).
TABLES = {
    "accounts": "account_id",
    "transactions": "txn_id",
    "snapshots": "name, part",
}


@pytest.fixture
def big(monkeypatch):
    """Every load counts as big (the world fixture's 3,000 accounts are under the real threshold)."""
    monkeypatch.setattr(store, "_SMALL_LOAD", 0)


def _journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA journal_mode").fetchone()[0]


def _rows(path: Path) -> dict[str, pd.DataFrame]:
    with sqlite3.connect(path) as db:
        return {t: pd.read_sql_query(f"SELECT * FROM {t} ORDER BY {key}", db) for t, key in TABLES.items()}


def _load_watching(path: Path, world_dir: Path, watch) -> None:
    """Load the world into ``path``, calling ``watch(ws, message)`` on each progress message."""
    ws = SqliteWorkspace(path)
    try:
        ws.load(read_dataset(world_dir), progress=lambda msg: watch(ws, msg))
    finally:
        ws.close()


def test_a_first_big_load_is_written_unlogged_and_the_workspace_is_in_wal_mode_after(tmp_path, world_dir, big):
    modes: set[str] = set()
    _load_watching(
        tmp_path / "ws.db", world_dir, lambda ws, msg: modes.add(ws._db.execute("PRAGMA journal_mode").fetchone()[0])
    )
    assert modes == {"delete"}
    assert _journal_mode(tmp_path / "ws.db") == "wal"
    assert not (tmp_path / "ws.db-journal").exists()
    # The same rows as a load through the log (another connection open keeps the log on).
    other = tmp_path / "logged.db"
    reader = SqliteWorkspace(other)
    try:
        logged: set[str] = set()
        _load_watching(
            other, world_dir, lambda ws, msg: logged.add(ws._db.execute("PRAGMA journal_mode").fetchone()[0])
        )
    finally:
        reader.close()
    assert logged == {"wal"}
    mine, theirs = _rows(tmp_path / "ws.db"), _rows(other)
    for table in TABLES:
        assert len(mine[table]) > 0
        pd.testing.assert_frame_equal(mine[table], theirs[table])


def test_a_reader_open_before_the_first_load_reads_on_while_it_runs(tmp_path, world_dir, big):
    """The workbench opened on a new workspace keeps working while data is loaded into it."""
    reader = SqliteWorkspace(tmp_path / "ws.db")
    seen = []
    try:
        _load_watching(
            tmp_path / "ws.db", world_dir, lambda ws, msg: seen.append(reader.status()["counts"]["accounts"])
        )
        assert seen and set(seen) == {0}  # the load is not committed yet: an empty workspace
        assert reader.status()["counts"]["accounts"] == 3000
    finally:
        reader.close()
    assert _journal_mode(tmp_path / "ws.db") == "wal"


def test_opening_the_workspace_during_its_first_load_says_why_not(tmp_path, world_dir, big):
    """A command run meanwhile (a scheduled sweep, ``status``) exits 75, a temporary failure, with
    one line that says why."""
    refused = []

    def try_to_open(ws, msg):
        if msg == "indexing":
            with pytest.raises(LockedError, match="is taking its first load") as e:
                SqliteWorkspace(tmp_path / "ws.db")
            refused.append(str(e.value))
            done = subprocess.run(
                [sys.executable, "-m", "fraudgraph", "--db", str(tmp_path / "ws.db"), "status"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            refused.append((done.returncode, done.stdout, done.stderr))

    _load_watching(tmp_path / "ws.db", world_dir, try_to_open)
    assert len(refused) == 2 and "\n" not in refused[0]
    code, out, err = refused[1]
    assert (code, out) == (75, "")
    assert err.startswith("Error: workspace ") and "first load" in err and err.count("\n") == 1
    with SqliteWorkspace(tmp_path / "ws.db") as ws:  # and once it has finished, it opens
        assert ws.status()["counts"]["accounts"] == 3000
    assert _journal_mode(tmp_path / "ws.db") == "wal"


def test_a_first_load_that_fails_leaves_an_empty_workspace_in_wal_mode(tmp_path, world_dir, big):
    def fail(ws, msg):
        if msg == "indexing":
            raise RuntimeError("the load fails here")

    with pytest.raises(RuntimeError, match="the load fails here"):
        _load_watching(tmp_path / "ws.db", world_dir, fail)
    assert _journal_mode(tmp_path / "ws.db") == "wal"
    assert all(len(df) == 0 for df in _rows(tmp_path / "ws.db").values())
    _load_watching(tmp_path / "ws.db", world_dir, lambda ws, msg: None)  # a second try loads it all
    assert len(_rows(tmp_path / "ws.db")["accounts"]) == 3000


def test_a_killed_first_load_is_rolled_back_when_the_workspace_is_next_opened(tmp_path, world_dir):
    """The process dies after writing pages into the file (a page cache of a few pages spills them
    there): the journal left beside it undoes them at the next open."""
    script = textwrap.dedent(
        f"""
        import os
        from fraudgraph.ingest.contract import read_dataset
        from fraudgraph.workspace.sqlite import store
        store._SMALL_LOAD = 0
        store._CACHE_KB = 64  # pages, not KiB: a tiny cache, so the rows spill into the file
        ws = store.SqliteWorkspace({str(tmp_path / "ws.db")!r})
        def die(msg):
            if msg == "counting identifiers":  # every row and part written, not committed
                os._exit(9)
        ws.load(read_dataset({str(world_dir)!r}), progress=die)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert (tmp_path / "ws.db-journal").exists()
    assert (tmp_path / "ws.db").stat().st_size > 1_000_000  # the rows had reached the file
    with SqliteWorkspace(tmp_path / "ws.db") as ws:
        assert ws.status()["counts"] == {"accounts": 0, "links": 0, "transactions": 0}
        assert ws._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _journal_mode(tmp_path / "ws.db") == "wal"


def test_a_full_disk_during_a_first_load_is_the_one_line_error_and_leaves_it_empty(tmp_path, world_dir, big):
    path = tmp_path / "ws.db"
    ws = SqliteWorkspace(path)
    pages = ws._db.execute("PRAGMA page_count").fetchone()[0]
    ws._db.execute(f"PRAGMA max_page_count = {pages + 20}")  # room for a few pages only
    modes: set[str] = set()
    with pytest.raises(WorkspaceError) as e:
        ws.load(
            read_dataset(world_dir), progress=lambda msg: modes.add(ws._db.execute("PRAGMA journal_mode").fetchone()[0])
        )
    ws.close()
    assert modes == {"delete"}  # it was written without the log when the disk filled up
    assert "no space left" in str(e.value) and "nothing of this change was written" in str(e.value)
    assert _journal_mode(path) == "wal" and not (tmp_path / "ws.db-journal").exists()
    assert all(len(df) == 0 for df in _rows(path).values())
    _load_watching(path, world_dir, lambda ws, msg: None)
    assert len(_rows(path)["accounts"]) == 3000
