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
    assert [(name, part, rows, first, last) for name, part, rows, _, first, last in spooled] == [
        ("accounts", 0, 10, None, None),
        ("accounts", 1, 10, None, None),
        ("accounts", 2, 5, None, None),
        ("links", 0, 0, None, None),  # a part read by account knows its first and last one (none here)
        ("transactions", 1_000_000, 7, None, None),
    ]
    back = pd.concat(
        pq.read_table(pa.BufferReader(data)).to_pandas() for name, _, _, data, *_ in spooled if name == "accounts"
    )
    pd.testing.assert_frame_equal(back.reset_index(drop=True), _frame(25, "A"))


def test_links_parts_are_small_and_know_their_first_and_last_account():
    jobs = [("links", 0, partial(_frame, 5, "L"))]
    found = list(parts.encoded(jobs, rows_per_part=1_000_000))  # links: parts.ROWS_PER_PART, not this
    assert [(rows, first, last) for _, _, rows, _, first, last in found] == [(5, "L0000", "L0004")]
    old = parts.ROWS_PER_PART
    try:
        parts.ROWS_PER_PART = {"links": 2}
        found = list(parts.encoded(jobs, rows_per_part=1_000_000))
    finally:
        parts.ROWS_PER_PART = old
    assert [(part, first, last) for _, part, _, _, first, last in found] == [
        (0, "L0000", "L0001"),
        (1, "L0002", "L0003"),
        (2, "L0004", "L0004"),
    ]
    table = parts.rows_of(found[1][3], "account_id", ["L0003", "L9999"])
    assert table is not None and table.column("account_id").to_pylist() == ["L0003"]
    assert parts.rows_of(found[1][3], "account_id", ["L0000"]) is None


def test_a_failure_in_the_thread_surfaces_when_the_parts_are_read(monkeypatch):
    def broken(part, dictionary=None, row_group=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(parts, "encode", broken)
    with parts.Spooled(JOBS, rows_per_part=10) as spool, pytest.raises(OSError, match="No space left"):
        list(spool.parts())


def test_leaving_early_stops_the_encoding(monkeypatch):
    started, release, calls = threading.Event(), threading.Event(), []
    real = parts.encode

    def slow(part, dictionary=None, row_group=None):
        calls.append(len(part))
        started.set()
        release.wait(5)
        return real(part, dictionary, row_group)

    monkeypatch.setattr(parts, "encode", slow)
    with pytest.raises(RuntimeError, match="the load failed"):
        with parts.Spooled(JOBS, rows_per_part=1):
            started.wait(5)
            threading.Timer(0.2, release.set).start()
            raise RuntimeError("the load failed")
    # 33 parts to encode, two at a time: those handed to the encoders when the load failed, no more.
    assert 1 <= len(calls) <= parts._AHEAD + parts._DECODERS < 33


def test_parts_decoded_two_at_a_time_come_back_in_order_with_their_columns():
    blobs = [(i, parts.encode(_frame(50 + i, f"P{i}-"))) for i in range(30)]
    pulled = []

    def stream():
        for item in blobs:
            pulled.append(item[0])
            yield item

    out = parts.decoded(stream(), lambda part: ["account_id"] if part % 2 else None)
    first_part, first = next(out)
    # A few parts ahead at most: the bytes of a big snapshot are not all held at once.
    assert first_part == 0 and len(pulled) <= 8
    got = [(first_part, first), *out]
    assert [p for p, _ in got] == list(range(30))
    for part, table in got:
        assert table.num_rows == 50 + part
        assert table.column_names == (["account_id"] if part % 2 else ["account_id", "amount"])
        assert table.column("account_id")[0].as_py() == f"P{part}-0000"


def test_a_part_that_cannot_be_decoded_fails_the_read():
    blobs = [(0, parts.encode(_frame(5, "A"))), (1, b"not parquet"), (2, parts.encode(_frame(5, "B")))]
    with pytest.raises(pa.ArrowInvalid):
        list(parts.decoded(iter(blobs), lambda part: None))


def test_the_rows_of_some_accounts_come_from_many_parts_in_order_and_only_where_they_are():
    """An account's page reads the few link parts that can hold its neighbours, two at a time: the
    rows come back part by part in the order asked, and a part with none of them is left out."""
    frame = _frame(40, "A")
    blobs = [(at, parts.encode(frame.iloc[at : at + 5].reset_index(drop=True))) for at in range(0, 40, 5)]
    wanted = ["A0001", "A0003", "A0012", "A0031", "A0039", "B0000"]
    found = parts.rows_of_parts(blobs, "account_id", wanted)
    assert [part for part, _ in found] == [0, 10, 30, 35]  # parts 5, 15, 20, 25 hold none of them
    rows = [table.column("account_id").to_pylist() for _, table in found]
    assert rows == [["A0001", "A0003"], ["A0012"], ["A0031"], ["A0039"]]
    assert parts.rows_of_parts(blobs[:2], "account_id", ["A0006"])[0][0] == 5  # two parts: read in line
    assert parts.rows_of_parts([], "account_id", wanted) == []


def test_rows_of_some_accounts_read_only_the_columns_asked_for():
    """``identifiers_of`` reads account, kind, key and first use, not raw spellings: the rows are
    the same, with the columns asked for that the part has (the filtered one always)."""
    frame = pd.DataFrame(
        {"account_id": [f"A{i // 2:04d}" for i in range(40)], "key": [f"k{i}" for i in range(40)], "value": ["v"] * 40}
    )
    data = parts.encode(frame, ["account_id"], row_group=8)
    table = parts.rows_of(data, "account_id", ["A0003", "A0017"], ["key", "first_seen"])
    assert table is not None and table.column_names == ["account_id", "key"]
    assert table.column("key").to_pylist() == ["k6", "k7", "k34", "k35"]
    assert parts.rows_of(data, "account_id", ["A0003"]).column_names == ["account_id", "key", "value"]
    found = parts.rows_of_parts([(0, data), (1, data)], "account_id", ["A0001"], ["value"])
    assert [t.column_names for _, t in found] == [["account_id", "value"]] * 2


def test_an_account_s_links_are_read_from_the_row_groups_that_hold_it(monkeypatch):
    """A links part is row groups that each know their account range: the rows of some accounts
    come from those groups alone, and are the rows a read of the whole part would give; a part
    written as one group (before there were groups) is read whole, with the same rows."""
    frame = pd.DataFrame({"account_id": [f"A{i // 3:04d}" for i in range(300)], "value": [f"v{i}" for i in range(300)]})
    grouped = parts.encode(frame, ["account_id"], row_group=32)
    whole = parts.encode(frame, ["account_id"])
    assert pq.ParquetFile(pa.BufferReader(grouped)).metadata.num_row_groups == 10
    assert pq.ParquetFile(pa.BufferReader(whole)).metadata.num_row_groups == 1
    wanted = ["A0010", "A0011", "A0050", "A0099", "B0000"]  # A0010 spans two groups (rows 30-32)
    expected = [v for a, v in zip(frame["account_id"], frame["value"]) if a in wanted]
    decoded: list[list[int]] = []
    row_groups = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(
        pq.ParquetFile, "read_row_groups", lambda self, g, **kw: decoded.append(list(g)) or row_groups(self, g, **kw)
    )
    for data in (grouped, whole):
        table = parts.rows_of(data, "account_id", wanted)
        assert table is not None and table.column("value").to_pylist() == expected
    assert decoded == [[0, 1, 4, 9]]  # of the grouped part; the whole one was read whole
    assert parts.rows_of(grouped, "account_id", ["0", "A0200"]) is None
    assert len(decoded) == 1  # no group can hold them: none decoded
    # The parts a load writes for the links are so grouped.
    old = parts.ROW_GROUP_ROWS
    monkeypatch.setattr(parts, "ROW_GROUP_ROWS", {"links": 100})
    (_, _, _, data, _, _), *_ = parts.encoded([("links", 0, lambda: frame)], rows_per_part=1_000)
    assert pq.ParquetFile(pa.BufferReader(data)).metadata.num_row_groups == 3
    assert old["links"] > 1
