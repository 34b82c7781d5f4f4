"""Many rows to an INSERT (workspace.sqlite.bulk): the same table as one row at a time, whatever
the number of rows against the statement and batch sizes, conflicts included."""

from __future__ import annotations

import random
import sqlite3

import pytest

from fraudgraph.workspace.sqlite import bulk
from fraudgraph.workspace.sqlite.bulk import insert_columns, insert_rows

_SCHEMA = "CREATE TABLE t (k TEXT PRIMARY KEY, a INTEGER, b REAL, c TEXT) WITHOUT ROWID"
_HEAD = "INSERT INTO t (k, a, b, c)"
_CONFLICT = (
    " ON CONFLICT (k) DO UPDATE SET a = excluded.a, b = excluded.b, c = excluded.c "
    "WHERE t.a IS NOT excluded.a OR t.b IS NOT excluded.b OR t.c IS NOT excluded.c"
)


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(_SCHEMA)
    return db


def _rows(n: int, seed: int, keys: int | None = None) -> list[tuple]:
    rng = random.Random(seed)
    return [
        (
            f"k{rng.randrange(keys)}" if keys else f"k{i:06d}",
            rng.choice([None, rng.randrange(-5, 10**12)]),
            rng.choice([None, rng.random() * 1e6, float("inf")]),
            rng.choice([None, "", "é — ✓", "x" * rng.randrange(0, 300), "O'Brien; DROP TABLE t"]),
        )
        for i in range(n)
    ]


def _one_at_a_time(rows: list[tuple], tail: str = "") -> list[tuple]:
    db = _db()
    db.executemany(f"{_HEAD} VALUES (?, ?, ?, ?){tail}", rows)
    return db.execute("SELECT * FROM t ORDER BY k").fetchall()


@pytest.fixture
def small_batches(monkeypatch):
    """Statements of 3 rows (12 parameters) and batches of 7 rows' worth: every boundary is met."""
    monkeypatch.setattr(bulk, "_MAX_PARAMS", 12)
    monkeypatch.setattr(bulk, "_ROWS_AT_A_TIME", 7)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 6, 7, 8, 20, 61])
def test_columns_and_rows_write_what_one_row_at_a_time_writes(small_batches, n):
    rows = _rows(n, seed=n)
    expected = _one_at_a_time(rows)
    by_columns, by_rows = _db(), _db()
    insert_columns(by_columns, _HEAD, [list(c) for c in zip(*rows)] if rows else [[], [], [], []])
    insert_rows(by_rows, _HEAD, 4, iter(rows))
    assert by_columns.execute("SELECT * FROM t ORDER BY k").fetchall() == expected
    assert by_rows.execute("SELECT * FROM t ORDER BY k").fetchall() == expected
    assert len(expected) == n


def test_default_sizes_at_a_few_hundred_thousand_rows():
    rows = _rows(120_001, seed=7)
    db = _db()
    insert_columns(db, _HEAD, [list(c) for c in zip(*rows)])
    assert db.execute("SELECT * FROM t ORDER BY k").fetchall() == sorted(rows, key=lambda r: r[0])


def test_a_conflict_inside_one_statement_updates_as_the_rows_come(small_batches):
    """Repeated keys, within one statement and across statements and batches: the last row of a
    key wins, as it does one row at a time; rows equal to the stored one change nothing."""
    rows = _rows(200, seed=3, keys=17)
    expected = _one_at_a_time(rows, _CONFLICT)
    db = _db()
    insert_columns(db, _HEAD, [list(c) for c in zip(*rows)], _CONFLICT)
    assert db.execute("SELECT * FROM t ORDER BY k").fetchall() == expected
    before = db.total_changes
    insert_rows(db, _HEAD, 4, expected, _CONFLICT)
    assert db.total_changes == before  # an identical reload changes nothing


def test_a_duplicate_key_without_a_conflict_clause_fails_whole(small_batches):
    rows = _rows(10, seed=1)
    rows.append(rows[4])
    db = _db()
    db.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError):
        insert_rows(db, _HEAD, 4, rows)
    db.execute("ROLLBACK")
    assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_columns_of_different_lengths_or_short_rows_are_refused():
    db = _db()
    with pytest.raises(ValueError, match="different lengths"):
        insert_columns(db, _HEAD, [["a", "b"], [1], [2.0, 3.0], ["x", "y"]])
    with pytest.raises(ValueError, match="without 4 values"):
        insert_rows(db, _HEAD, 4, [("a", 1, 2.0, "x"), ("b", 1, 2.0)])
    assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)
