"""Who holds an identifier, kept as small columnar parts instead of a row per link in SQLite.

Each link that carries an identity makes one holder row (h, account_id, value): h the
identifier's 64-bit hash (``linkrows.identifier_hashes``), the account and the raw spelling.
At 1M accounts that is 8.5M rows: inserted into a SQLite table one by one they were the biggest
part of a load's own work (8 s, bound one value at a time, and 435 MB of B-tree). A load that
rewrites the snapshot whole now writes them as the ``holders`` snapshot instead: sorted by hash
in parts of about ``ROWS_PER_PART`` rows, each Arrow IPC (LZ4) and knowing its first and last
hash, a hash never split between two parts; they are encoded in a background thread while SQLite
writes the other tables (about 3 s of one core, 330 MB), and one part is read and decoded in
about 0.15 ms.

The loads in between (a ``check --apply`` event, a daily delta) change a few holders: the rows
they add go into ``identifier_accounts`` and the parts' rows they remove into ``identifier_gone``,
both small SQLite tables emptied by the next whole rewrite. Who holds an identifier is its
parts' rows less the gone ones, with the added ones (``rows``). A workspace of schema 3 has every
holder in ``identifier_accounts`` and no parts: read the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudgraph.workspace.sqlite import linkrows

NAME = "holders"  # the snapshot's name in the ``snapshots`` table
ADDED = linkrows.IDENTIFIER_ACCOUNTS
GONE = "identifier_gone"
COLUMNS = ["h", "account_id", "value"]

# Rows per part (a part runs on to the end of the hash it reaches, so one identifier's holders are
# in one part). 4k rows: a part decodes in about 0.15 ms; 16k rows took 0.4 ms, for the same bytes.
ROWS_PER_PART = 4096

_SCHEMA = pa.schema([("h", pa.int64()), ("account_id", pa.string()), ("value", pa.string())])
_CODEC = "lz4" if pa.Codec.is_available("lz4") else None
_OPTIONS = pa.ipc.IpcWriteOptions(compression=_CODEC)

# The part that can hold a hash: the last one starting at or before it (``snapshot_starts``).
_SEEK = f"SELECT part, last_id FROM snapshots WHERE name = '{NAME}' AND first_id <= ? ORDER BY first_id DESC LIMIT 1"


def hash_text(h: int) -> str:
    """A hash as the text a part's range holds: 16 hex digits of it as unsigned, so that text order
    is number order."""
    return format(int(h) + (1 << 63), "016x")


def encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, _SCHEMA, options=_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode(data: bytes) -> pa.Table:
    with pa.ipc.open_stream(pa.BufferReader(data)) as reader:
        return reader.read_all()


def _part_ends(h: np.ndarray, size: int) -> list[int]:
    """Where each part ends: every ``size`` rows, moved on to the end of the hash it falls in."""
    ends, at = [], 0
    while at < len(h):
        end = min(at + size, len(h))
        if end < len(h) and h[end] == h[end - 1]:
            end = int(np.searchsorted(h, h[end - 1], side="right"))
        ends.append(end)
        at = end
    return ends


@dataclass
class Parts:
    """The ``holders`` parts of every link of ``links`` (its rows with a key), made by ``encoded``
    (in a load's background thread); ``collisions``: the hashes two of its identifiers share,
    known once ``encoded`` has run."""

    links: pd.DataFrame
    lock: Any = field(default_factory=threading.Lock)  # held while every key is hashed and ordered
    collisions: list[int] = field(default_factory=list)

    def encoded(self) -> Iterator[tuple[str, int, int, bytes, str | None, str | None]]:
        with self.lock:
            h, rows = linkrows.index_rows(self.links)
            self.collisions = linkrows.colliding(h, rows, self.links["kind"], self.links["key"])
        account = linkrows.text_array(self.links["account_id"])
        value = linkrows.text_array(self.links["value"])
        start = 0
        for i, end in enumerate(_part_ends(h, ROWS_PER_PART)):
            taken = pa.array(rows[start:end])
            table = pa.table([pa.array(h[start:end]), account.take(taken), value.take(taken)], schema=_SCHEMA)
            yield NAME, i, end - start, encode(table), hash_text(h[start]), hash_text(h[end - 1])
            start = end


def rows(db: sqlite3.Connection, hashes: Sequence[int]) -> pd.DataFrame:
    """Every holder row (h, account_id, value) of the identifiers hashed ``hashes``, unique and
    sorted by h, account, value: their parts' rows less those gone, with those added since. Run
    in a read transaction (the caller's) so the three are of one state."""
    wanted = sorted({int(h) for h in hashes})
    if not wanted:
        return _frame([])
    found: dict[int, None] = {}
    for h in wanted:
        row = db.execute(_SEEK, (hash_text(h),)).fetchone()
        if row is not None and hash_text(h) <= row[1]:
            found[row[0]] = None
    tables = []
    for part in found:
        (data,) = db.execute(f"SELECT data FROM snapshots WHERE name = '{NAME}' AND part = ?", (part,)).fetchone()
        table = decode(data)
        table = table.filter(pc.is_in(table.column("h"), value_set=pa.array(wanted, pa.int64())))
        if table.num_rows:
            tables.append(table)
    base = [tuple(r) for t in tables for r in zip(*(t.column(c).to_pylist() for c in COLUMNS), strict=True)]
    gone = set(_asked(db, GONE, wanted))
    added = _asked(db, ADDED, wanted)
    return _frame(sorted({r for r in base if r not in gone} | set(added)))


def _asked(db: sqlite3.Connection, table: str, wanted: list[int]) -> list[tuple]:
    """The rows of ``table`` (added or gone holders) under the hashes ``wanted``."""
    if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:
        return []
    out: list[tuple] = []
    for at in range(0, len(wanted), 500):  # below SQLite's limit on bound parameters
        chunk = wanted[at : at + 500]
        sql = f"SELECT h, account_id, value FROM {table} WHERE h IN ({', '.join('?' * len(chunk))})"
        out += db.execute(sql, chunk).fetchall()
    return out


def _frame(found: list[tuple]) -> pd.DataFrame:
    if not found:
        return pd.DataFrame(
            {
                "h": np.zeros(0, np.int64),
                "account_id": pd.Series([], dtype=object),
                "value": pd.Series([], dtype=object),
            }
        )
    df = pd.DataFrame(found, columns=COLUMNS)
    df["h"] = df["h"].astype(np.int64)
    return df


def all_rows(db: sqlite3.Connection) -> pd.DataFrame:
    """Every holder row, as ``rows`` gives them (for checks and tests: the whole index)."""
    base = []
    for (data,) in db.execute(f"SELECT data FROM snapshots WHERE name = '{NAME}' ORDER BY part"):
        t = decode(data)
        base += list(zip(*(t.column(c).to_pylist() for c in COLUMNS), strict=True))
    gone = set(db.execute(f"SELECT h, account_id, value FROM {GONE}").fetchall())
    added = db.execute(f"SELECT h, account_id, value FROM {ADDED}").fetchall()
    return _frame(sorted({r for r in base if r not in gone} | set(added)))


def clear(db: sqlite3.Connection) -> None:
    """Before a whole rewrite of the parts: no row added or gone since."""
    db.execute(f"DELETE FROM {ADDED}")
    db.execute(f"DELETE FROM {GONE}")
    db.execute(f"DELETE FROM snapshots WHERE name = '{NAME}'")


def has_parts(db: sqlite3.Connection) -> bool:
    return db.execute(f"SELECT 1 FROM snapshots WHERE name = '{NAME}' LIMIT 1").fetchone() is not None


__all__ = ["ADDED", "COLUMNS", "GONE", "NAME", "Parts", "all_rows", "clear", "decode", "encode", "hash_text", "rows"]
