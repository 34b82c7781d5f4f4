"""The snapshot's Parquet parts, encoded in a background thread (``parts.Spooled``) while a load
writes SQLite: the same parts, in the same order, as encoding them in line; a failure there
surfaces where the load stores them; a load that fails stops the encoding."""

from __future__ import annotations

import threading
from functools import partial

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudgraph.workspace.sqlite import parts


def _frame(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"account_id": [f"{tag}{i:04d}" for i in range(n)], "amount": [float(i) for i in range(n)]})


JOBS = [
    ("accounts", 0, partial(_frame, 25, "A")),
    ("links", 0, partial(_frame, 0, "L")),  # no rows: still one (empty) part
    ("transactions", 1_000_000, partial(_frame, 7, "T")),
]


def test_spooled_parts_are_the_in_line_parts_in_order():
    with parts.Spooled(JOBS, rows_per_part=10) as spool:
        spooled = list(spool.parts())
    assert spooled == list(parts.encoded(JOBS, rows_per_part=10))
    assert [(name, part, rows) for name, part, rows, _ in spooled] == [
        ("accounts", 0, 10),
        ("accounts", 1, 10),
        ("accounts", 2, 5),
        ("links", 0, 0),
        ("transactions", 1_000_000, 7),
    ]
    back = pd.concat(
        pq.read_table(pa.BufferReader(data)).to_pandas() for name, _, _, data in spooled if name == "accounts"
    )
    pd.testing.assert_frame_equal(back.reset_index(drop=True), _frame(25, "A"))


def test_a_failure_in_the_thread_surfaces_when_the_parts_are_read(monkeypatch):
    def broken(part):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(parts, "encode", broken)
    with parts.Spooled(JOBS, rows_per_part=10) as spool, pytest.raises(OSError, match="No space left"):
        list(spool.parts())


def test_leaving_early_stops_the_encoding(monkeypatch):
    started, release, calls = threading.Event(), threading.Event(), []
    real = parts.encode

    def slow(part):
        calls.append(len(part))
        started.set()
        release.wait(5)
        return real(part)

    monkeypatch.setattr(parts, "encode", slow)
    with pytest.raises(RuntimeError, match="the load failed"):
        with parts.Spooled(JOBS, rows_per_part=1):
            started.wait(5)
            threading.Timer(0.2, release.set).start()
            raise RuntimeError("the load failed")
    assert len(calls) == 1  # 33 parts to encode; the one under way when the load failed, no more
