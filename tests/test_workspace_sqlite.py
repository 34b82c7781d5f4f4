"""What only the SQLite workspace does: the schema version check, the OS file lock between processes
(and its recovery after a crash), and the append-only audit table enforced by triggers.

Everything the backends share is in tests/workspace (the conformance suite)."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time

import pandas as pd
import pytest
from workspace_data import ACCOUNTS, LINKS, make_dataset, sweep_record

from fraudgraph.errors import LockedError
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


@pytest.fixture
def ws(tmp_path):
    w = SqliteWorkspace(tmp_path / "ws.db")
    yield w
    w.close()


def test_schema_version_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / "ws.db"
    SqliteWorkspace(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    from fraudgraph.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="schema version 99"):
        SqliteWorkspace(path)


def _hold_lock(path, ready, release):
    w = SqliteWorkspace(path)
    with w.sweep_lock("holder"):
        ready.set()
        release.wait(20)


def _crash_holding_lock(path, ready):
    import os

    w = SqliteWorkspace(path)
    cm = w.sweep_lock("crasher")
    cm.__enter__()
    ready.set()
    time.sleep(0.2)
    os._exit(1)  # dies without releasing: the kernel drops the lock


def test_lock_held_by_another_process_raises_then_is_free(tmp_path):
    path = tmp_path / "ws.db"
    SqliteWorkspace(path).close()
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(str(path), ready, release))
    p.start()
    try:
        assert ready.wait(30)
        w = SqliteWorkspace(path)
        with pytest.raises(LockedError, match="holder"), w.sweep_lock("second"):
            pass
    finally:
        release.set()
        p.join(30)
    with w.sweep_lock("second"):
        pass


def test_crashed_holders_lock_is_recovered(tmp_path):
    path = tmp_path / "ws.db"
    SqliteWorkspace(path).close()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    p = ctx.Process(target=_crash_holding_lock, args=(str(path), ready))
    p.start()
    assert ready.wait(30)
    p.join(30)
    assert p.exitcode == 1
    with SqliteWorkspace(path).sweep_lock("after crash"):
        pass


def test_audit_is_append_only(ws):
    ws.load(make_dataset(ACCOUNTS, LINKS))
    ws.save_sweep(sweep_record())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws._db.execute("UPDATE audit SET actor='someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws._db.execute("DELETE FROM audit")
    assert ws.audit("007")["event"].tolist() == ["escalate"]


def test_the_workspace_and_its_lock_file_are_private(tmp_path):
    """A workspace holds personal data: its file, its WAL and its lock are created mode 0600."""
    import os
    import stat

    db = tmp_path / "ws.db"
    old = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        with SqliteWorkspace(db) as ws:
            ws.load(make_dataset(ACCOUNTS, LINKS))
            with ws.sweep_lock("test"):
                lock = db.with_name(db.name + ".lock")
                assert stat.S_IMODE(lock.stat().st_mode) == 0o600
            for path in (db, db.with_name(db.name + "-wal")):
                if path.exists():
                    assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        os.umask(old)


def test_times_are_stored_as_iso_text_each_row_its_own(ws):
    """A sweep's state, audit and notice rows carry times as ISO text (what readers parse); many
    rows share one time, a few differ, a missing one is NULL."""
    ws.load(make_dataset(ACCOUNTS, LINKS))
    record = sweep_record()
    one = record.notices.iloc[0]
    times = pd.to_datetime(
        ["2026-12-06 15:14:28.123456", "2026-12-06 15:14:28.123456", None, "2026-01-02"], format="ISO8601"
    )
    accounts = ["007", "A2", "A3", "A4"]
    record.notices = pd.DataFrame([one] * 4).assign(created_at=times, account_id=accounts, notice_id=accounts)
    ws.save_sweep(record)
    stored = ws._db.execute("SELECT account_id, created_at FROM notices ORDER BY seq").fetchall()
    assert stored == [
        ("007", "2026-12-06T15:14:28.123456"),
        ("A2", "2026-12-06T15:14:28.123456"),
        ("A3", None),
        ("A4", "2026-01-02T00:00:00"),
    ]
