"""A big load's pages sent to the disk early (``workspace/sqlite/writeback.py``): through the
descriptors SQLite holds, never one of its own (closing one would drop SQLite's locks)."""

from __future__ import annotations

import os
import sqlite3
import sys

import pytest

from fraudgraph.workspace.sqlite import writeback

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@linux
def test_writeback_asks_through_the_descriptor_sqlite_holds_and_opens_none(tmp_path):
    path = tmp_path / "ws.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(10_000)])
    before = _fds()
    assert writeback.start_writeback(path, f"{path}-wal") == 2  # the file and its log, both open
    assert _fds() == before  # nothing opened, nothing closed
    db.execute("COMMIT")  # SQLite's locks and the write are as they were
    assert db.execute("SELECT count(*) FROM t").fetchone() == (10_000,)
    db.close()
    assert writeback.start_writeback(path) == 0  # no descriptor open on it any more
    assert writeback.start_writeback(tmp_path / "missing.db") == 0
