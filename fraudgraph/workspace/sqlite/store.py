"""The default workspace: one SQLite file (WAL mode), durable and transactional, no server.

Data tables keep times as integer nanoseconds since the epoch (fast to write and read back as
datetime64 for millions of links); the small result and log tables keep ISO-8601 text so the
file stays readable with the sqlite3 shell. A load or a sweep is one transaction.

A load writes only the rows its plan (``fraudgraph.model.merge``) marks new or changed, in
primary-key order, builds the secondary indexes of empty tables once after the rows are in,
adds its rows to the columnar snapshot as delta parts (rewriting it whole only once the deltas
outgrow a quarter of it), and keeps the counts ``status`` shows.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fraudgraph.detection.keys import key_codes
from fraudgraph.errors import LockedError, WorkspaceError
from fraudgraph.model.frames import (
    ACCOUNT_COLUMNS,
    ACTIONS,
    LINK_COLUMNS,
    TRANSACTION_COLUMNS,
)
from fraudgraph.model.merge import (
    LINK_KEY,
    LinkMerge,
    in_key_order,
    key_order,
    merge_links,
    merge_rows,
    merged_over,
)
from fraudgraph.model.values import isin, utc_now_text
from fraudgraph.workspace.base import (
    AUDIT_COLUMNS,
    CheckLookup,
    LoadSummary,
    Progress,
    Workspace,
    to_json as _to_json,
)
from fraudgraph.workspace.sqlite import changes, holders, linkrows, parts as snapshot_parts, staging
from fraudgraph.workspace.sqlite.bulk import insert_columns, insert_head, insert_rows
from fraudgraph.workspace.sqlite.lock import file_lock
from fraudgraph.workspace.sqlite.results import SqliteResults, sql_texts
from fraudgraph.workspace.sqlite.schema import (
    CHECK_ACCOUNT,
    CHECK_HUB,
    CHECK_RING,
    LINK_TABLES,
    PAGE_SIZE,
    SCHEMA,
    SCHEMA_4,
    SCHEMA_VERSION,
    SECONDARY_INDEXES,
    SNAPSHOT_RANGES,
    upsert_clause,
)
from fraudgraph.workspace.sqlite.writeback import start_writeback

log = logging.getLogger("fraudgraph")

_CHUNK = 200_000
_BUSY_TIMEOUT_S = 30.0  # how long a connection waits for another's lock before it gives up
_CACHE_KB = -262144  # the page cache, in KiB (negative): 256 MB
_SNAPSHOT_ROWS = 1_000_000  # rows per Parquet part (a SQLite blob holds at most 1 GB)
_SNAPSHOT_KEYS = {"accounts": ["account_id"], "links": LINK_KEY, "transactions": ["txn_id"]}
# Snapshot parts from this number on hold small loads' rows, merged over the others when read;
# a load of at most _SMALL_LOAD rows (a `check --apply` event, or a daily delta of some thousand
# accounts with their links and transactions) reads only the stored rows it touches and adds one,
# until the deltas hold a quarter of the snapshot (at least _MAX_DELTA_ROWS rows) and a load
# rewrites it whole (folding them in).
_DELTA_PART = 1_000_000
_UNCAPPED = 1 << 40  # accounts_of: a limit this high asks for every holder
_HOLDERS_IN_PYTHON = 5_000  # accounts_of: holder rows sorted in Python; more go through pandas
_SMALL_LOAD = 100_000
_MAX_DELTA_ROWS = 50_000
_ACCOUNT_CONFLICT = upsert_clause("accounts", "account_id", ACCOUNT_COLUMNS)
_TRANSACTION_CONFLICT = upsert_clause("transactions", "txn_id", TRANSACTION_COLUMNS)


def _load_plans(
    acc: pd.DataFrame, links: pd.DataFrame, txns: pd.DataFrame, old: dict[str, pd.DataFrame | None]
) -> dict[str, Any]:
    """What a load adds and changes per table, by the rules of ``fraudgraph.model.merge``."""
    if old["links"] is None:  # a first load: every observation is new (no merge to pay for)
        n = len(links)
        link_plan = LinkMerge(rows=links[LINK_COLUMNS], is_new=np.ones(n, dtype=bool), changed=np.zeros(n, dtype=bool))
    else:
        link_plan = merge_links(links[LINK_COLUMNS], old["links"])
    return {
        "accounts": merge_rows(acc[ACCOUNT_COLUMNS], old["accounts"], "account_id", ACCOUNT_COLUMNS[1:]),
        "links": link_plan,
        "transactions": merge_rows(txns[TRANSACTION_COLUMNS], old["transactions"], "txn_id", TRANSACTION_COLUMNS[1:]),
    }


def _disk_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL (the database or a temporary file could not grow), or no space for a
    file of ours (the snapshot parts a big load spools)."""
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC
    if not isinstance(error, sqlite3.OperationalError):
        return False
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(error)


def _busy(error: BaseException) -> bool:
    """SQLite's SQLITE_BUSY ("database is locked"): another connection holds a lock this one needs."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(error)


def _sorted(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``frame`` in ``key`` order (rows in primary-key order append to the B-trees); not copied when
    it is already (a data folder's links are: ``read_dataset`` sorts them)."""
    if len(frame) < 2 or in_key_order(frame, key):
        return frame
    return frame.take(key_order(frame, key))


def _touched_identifiers(plan: LinkMerge) -> list[tuple[str, str]]:
    """The distinct (kind, key) a load's written links hold now or held before it."""
    written = plan.to_write
    pairs = set(zip(written["kind"], written["key"])) | set(zip(written["kind"], written["key_old"]))
    return sorted(p for p in pairs if isinstance(p[1], str))


def _changed(frame: pd.DataFrame, plan) -> pd.DataFrame:
    """The rows of ``frame`` its plan marks new or changed (all of them, uncopied, on a first load)."""
    written = plan.is_new | plan.changed
    return frame if written.all() else frame[written]


def _load_rows(acc: pd.DataFrame, plans: dict[str, Any], txns: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every row of a load, merged by its plans."""
    links = plans["links"].rows[LINK_COLUMNS]
    return {"accounts": acc[ACCOUNT_COLUMNS], "links": links, "transactions": txns[TRANSACTION_COLUMNS]}


def _written_rows(acc: pd.DataFrame, plans: dict[str, Any], txns: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows a load wrote (new or changed by its plans), as the snapshot keeps them."""
    return {
        "accounts": _changed(acc, plans["accounts"])[ACCOUNT_COLUMNS],
        "links": plans["links"].to_write[LINK_COLUMNS],
        "transactions": _changed(txns, plans["transactions"])[TRANSACTION_COLUMNS],
    }


def _changed_accounts(acc: pd.DataFrame, plans: dict[str, Any], txns: pd.DataFrame) -> set[str]:
    """The accounts whose rows a load wrote: an account row, a link, a transaction (as payer, or
    as the account paid)."""
    out = set(_changed(acc, plans["accounts"])["account_id"].astype(str))
    out |= set(plans["links"].to_write["account_id"].astype(str))
    if len(txns):
        paid = _changed(txns, plans["transactions"])
        out |= set(paid["account_id"].astype(str))
        out |= set(paid.loc[paid["counterparty_kind"] == "account", "counterparty"].astype(str))
    return out


def _without_key_codes(table: pa.Table, columns: list[str] | None) -> pa.Table:
    """A part read whole without the links' ``key_code`` (read only when asked for by name)."""
    if columns is None and "key_code" in table.column_names:
        table = table.drop_columns(["key_code"])
    return table


def _numbered(name: str, rows: Callable[[], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
    """The rows of snapshot ``name`` stored whole; the links with ``_with_key_codes``."""
    return partial(_with_key_codes, rows) if name == "links" else rows


# Held by a load's two threads that hash every link key (the snapshot's key numbers, the
# identifier index), so that their memory peaks come one after the other: at 10M accounts the two
# at once took the load over 21 GB.
_HASHING = threading.Lock()


def _with_key_codes(
    rows: Callable[[], pd.DataFrame], given: Callable[[], np.ndarray | None] | None = None
) -> pd.DataFrame:
    """The links stored whole, with ``key_code``: their keys numbered by first use, as the sweep's
    identity graph numbers them (``detection.keys``). Computed where the snapshot is encoded (a
    big load's background thread, beside SQLite's writes), so the sweep need not hash 8.5M keys at
    1M accounts; the graph checks the numbers fit the keys before it takes them."""
    links = rows()
    codes = None if given is None else given()  # worked out by the holder parts (``holders.numbered``)
    if codes is None:
        with _HASHING:  # not beside the identifier index's hashing: at 10M each holds gigabytes
            codes = key_codes(links["key"])  # factorize_keys' numbers, with a third of its memory
    pa.default_memory_pool().release_unused()  # the hashing's buffers, before the parts are encoded
    return links.assign(key_code=codes)


def _chunks(frame: pd.DataFrame) -> Iterable[pd.DataFrame]:
    return (frame.iloc[start : start + _CHUNK] for start in range(0, len(frame), _CHUNK))


def _to_ns(s: pd.Series) -> list:
    """datetime64 column -> Python ints (ns since epoch) or None, for SQLite."""
    values = pd.to_datetime(s).to_numpy(dtype="datetime64[ns]").astype("int64")
    mask = pd.isna(s).to_numpy()
    if not mask.any():
        return values.tolist()
    out = values.astype(object)
    out[mask] = None
    return out.tolist()


def _from_ns(values: Iterable) -> pd.Series:
    arr = pd.array(list(values) if not isinstance(values, (list, np.ndarray)) else values, dtype="Int64")
    return pd.to_datetime(arr.astype("float64"), unit="ns").astype("datetime64[ns]")


def _nullable(col: pd.Series) -> list:
    """A numeric column as Python floats, missing -> None so SQLite stores NULL (vectorized: a
    test per value took 0.5 s per million)."""
    floats = col.astype("float64")
    return floats.astype(object).where(floats.notna(), None).tolist()


def _account_columns(acc: pd.DataFrame) -> list[list]:
    return [
        sql_texts(acc["account_id"]),
        _to_ns(acc["created_at"]),
        _nullable(acc["credit_limit"]),
        _nullable(acc["balance"]),
        acc["overdue_days"].astype("int64").tolist(),
        sql_texts(acc["status"]),
        [None if (v is None or v == "" or v is pd.NA) else v for v in acc["label"].tolist()],
        sql_texts(acc["properties"]),
    ]


def _transaction_columns(txns: pd.DataFrame) -> list[list]:
    return [
        sql_texts(txns["txn_id"]),
        sql_texts(txns["account_id"]),
        sql_texts(txns["counterparty"]),
        sql_texts(txns["counterparty_kind"]),
        txns["amount"].astype("float64").tolist(),
        _to_ns(txns["timestamp"]),
        sql_texts(txns["status"]),
    ]


# The data tables a load binds from Python: their columns, and how a chunk of rows becomes them.
_DATA_TABLES: dict[str, tuple[list[str], Callable[[pd.DataFrame], list[list]]]] = {
    "accounts": (ACCOUNT_COLUMNS, _account_columns),
    "transactions": (TRANSACTION_COLUMNS, _transaction_columns),
}


def _insert_data(db: sqlite3.Connection, name: str, rows: pd.DataFrame, tail: str) -> None:
    """``rows`` into data table ``name`` (accounts or transactions), a chunk at a time (Python
    values for a chunk, not for millions); ``tail``: the upsert clause, or nothing."""
    columns, values_of = _DATA_TABLES[name]
    for chunk in _chunks(rows):
        insert_columns(db, insert_head(name, columns), values_of(chunk), tail)


class _DataStage:
    """A big load's accounts and transactions made SQLite values and B-trees on the machine's
    other core. Most of their write is Python binding each value (4.6 s of the 2.9M transactions
    at 1M accounts, SQLite's own insert 1.7 s), and in the load it shares the GIL with the threads
    that encode the snapshot, so it took 13.5 s. A forked child (``staging``, as a big sweep's
    write) writes them into a staging file while this process goes on; the load's transaction
    then copies them in, in C (into an empty table, record by record as they are stored; into a
    stored one, through the same upsert as the rows would take). Whatever goes wrong in the
    child, or with no room to fork, the load writes them itself."""

    def __init__(self, ws: SqliteWorkspace) -> None:
        self._ws = ws
        self._staged: staging.StagedWrite | None = None
        self._names: list[str] = []
        self._attached = False

    def start(self, rows: dict[str, pd.DataFrame]) -> None:
        """Stage ``rows`` (table -> the rows to write) when there are many of them."""
        rows = {name: df for name, df in rows.items() if len(df)}
        if sum(len(df) for df in rows.values()) < staging.MIN_ROWS:
            return
        sql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?"
        schema = {name: self._ws._db.execute(sql, (name,)).fetchone()[0] for name in rows}

        def work(db: sqlite3.Connection) -> None:
            for name, df in rows.items():
                db.execute(schema[name])
                _insert_data(db, name, df, "")

        self._staged = staging.start(self._ws.path.parent, work)
        self._names = list(rows) if self._staged is not None else []

    def copy(self, name: str, upsert: str) -> bool:
        """Table ``name``'s staged rows copied into the workspace (``upsert``: the clause its rows
        take into a table that has rows); False when they were not staged, or the child failed."""
        if name not in self._names or self._staged is None:
            return False
        db = self._ws._db
        if not self._attached:
            if not self._staged.ready():
                log.debug("load: the staged rows are not there (%s): written here", self._staged.failure())
                self._names = []
                return False
            db.execute("ATTACH DATABASE ? AS staged_data", (str(self._staged.path),))
            self._attached = True
        if self._ws._is_empty(name):
            db.execute(f"INSERT INTO main.{name} SELECT * FROM staged_data.{name}")
        else:
            columns = ", ".join(_DATA_TABLES[name][0])
            db.execute(
                f"INSERT INTO main.{name} ({columns}) SELECT {columns} FROM staged_data.{name} WHERE true{upsert}"
            )
        return True

    def close(self) -> None:
        """Detach and remove the staging file (outside the load's transaction)."""
        if self._attached:
            self._ws._db.execute("DETACH DATABASE staged_data")
            self._attached = False
        if self._staged is not None:
            self._staged.discard()
            self._staged = None


def kind_counts(links: pd.DataFrame) -> dict[str, list[int]]:
    """Per kind of ``links``: [links, distinct keys, links without a key] (a missing key is no
    identifier; keys compare byte by byte). In Arrow, a kind at a time: at most one kind's keys
    are hashed at once."""
    kinds = _arrow(links["kind"])
    keys = _arrow(links["key"])
    out: dict[str, list[int]] = {}
    for name in pc.unique(kinds).drop_null().to_pylist():
        of_kind = keys.filter(pc.equal(kinds, name))
        if len(of_kind):
            out[name] = [len(of_kind), pc.count_distinct(of_kind).as_py(), of_kind.null_count]
    return out


def _arrow(col: pd.Series) -> pa.ChunkedArray:
    """A column as Arrow (zero-copy when it is Arrow-backed)."""
    found = pa.array(col, from_pandas=True)
    return found if isinstance(found, pa.ChunkedArray) else pa.chunked_array([found])


@dataclass
class _IndexRows:
    """``identifier_accounts`` rows to insert: their hashes and the positions of their links in
    ``links``. The account ids and spellings are gathered in hash order a chunk at a time, as they
    are written: all at once they would be some 0.3 GB at 1M accounts, 3 GB at 10M."""

    h: np.ndarray
    rows: np.ndarray
    links: pd.DataFrame

    def __len__(self) -> int:
        return len(self.h)

    def values(self, size: int = _CHUNK) -> Iterator[list[list]]:
        """The rows as sqlite3 values (a list per column: h, account_id, value), ``size`` at a time."""
        account, value = _arrow(self.links["account_id"]), _arrow(self.links["value"])
        for at in range(0, len(self.h), size):
            taken = pa.array(self.rows[at : at + size])
            yield [self.h[at : at + size].tolist(), account.take(taken).to_pylist(), value.take(taken).to_pylist()]

    def frame(self) -> pd.DataFrame:
        """The rows as a frame (h, account_id, value), for a load that compares them with the stored ones."""
        taken = pa.array(self.rows)
        return pd.DataFrame(
            {
                "h": self.h,
                "account_id": _arrow(self.links["account_id"]).take(taken).to_pylist(),
                "value": _arrow(self.links["value"]).take(taken).to_pylist(),
            }
        )


def _index_rows_of(links: pd.DataFrame) -> _IndexRows:
    h, rows = linkrows.index_rows(links)
    return _IndexRows(h, rows, links)


@dataclass
class _IndexChanges:
    """What a load changes in ``identifier_accounts``: rows to delete (a frame of its columns) and
    rows to insert, the insert's verb, and the hashes two of the load's identifiers share."""

    gone: pd.DataFrame
    new: _IndexRows
    verb: str
    collisions: list[int]
    # kind, key, account_id, value of the links of each hash that comes (``_note_collisions``
    # compares them with the identifier stored under it); None for a first load (nothing stored).
    identities: pd.DataFrame | None = None


def _index_changes(written: pd.DataFrame, old_links: pd.DataFrame | None) -> _IndexChanges:
    """Who holds each identifier after the links ``written`` (new or changed observations): every
    account they touch gets exactly the ``identifier_accounts`` rows its links make after the load
    (its stored ones, ``old_links``, with these merged over them). With nothing stored (a first
    load) every row is new, in key order. No database work: a load computes it in a thread while
    SQLite writes the accounts and transactions."""
    if not len(written):
        return _IndexChanges(_no_index_rows(), _index_rows_of(written.iloc[:0]), "INSERT", [])
    before = None
    after = written
    if old_links is not None and len(old_links):
        touched = written["account_id"].unique()
        before = old_links.loc[isin(old_links["account_id"], touched), LINK_COLUMNS].reset_index(drop=True)
        after = merged_over(written, before, LINK_KEY)
    with _HASHING:  # not beside the snapshot's key numbering (``_with_key_codes``)
        new = _index_rows_of(after)
        collisions = linkrows.colliding(new.h, new.rows, after["kind"], after["key"])
    if old_links is None:  # a first load: nothing stored, the table is empty
        return _IndexChanges(_no_index_rows(), new, "INSERT", collisions)
    gone, came, verb = _no_index_rows(), new.frame(), "INSERT"
    if before is not None and len(before):
        both = came.merge(_index_rows_of(before).frame(), how="outer", on=_INDEX_COLUMNS, indicator=True)
        gone = both.loc[both["_merge"] == "right_only", _INDEX_COLUMNS].reset_index(drop=True)
        came = both.loc[both["_merge"] == "left_only", _INDEX_COLUMNS].reset_index(drop=True)
        verb = "INSERT OR IGNORE"
    # The identifier of each hash that comes: the links of its first new row.
    firsts = came.drop_duplicates("h")[["account_id", "value"]]
    identities = after.merge(firsts, on=["account_id", "value"])[["kind", "key", "account_id", "value"]]
    return _IndexChanges(
        gone, _IndexRows(came["h"].to_numpy(np.int64), np.arange(len(came)), came), verb, collisions, identities
    )


_INDEX_COLUMNS = ["h", "account_id", "value"]


def _no_index_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {"h": np.zeros(0, np.int64), "account_id": pd.Series([], dtype=object), "value": pd.Series([], dtype=object)}
    )


def _links_after(plan: LinkMerge, old: pd.DataFrame | None) -> pd.DataFrame:
    """Every link once a big load has written ``plan``: the stored ones (``old``, the snapshot
    read whole) with the load's merged over them."""
    written = plan.to_write
    return written if old is None else merged_over(written[LINK_COLUMNS], old[LINK_COLUMNS], LINK_KEY)


@dataclass
class _SnapshotUpdate:
    """What a load does to the columnar snapshot (``_snapshot_update``): whether it rewrites it
    ``whole``, the function that stores it, and (rewritten whole by a big load) the holder parts
    made beside it, whose ordered hashes also number the links' keys (``holders.Parts``)."""

    whole: bool
    store: Callable[[], None]
    holders: holders.Parts | None = None


@contextmanager
def _holders_aside(parts: holders.Parts | None):
    """The ``holders`` parts (``parts``: of every link after the load) encoded in a background
    thread while SQLite writes, for a load that rewrites the snapshot whole; yields the spool for
    ``_store_holders``, or None without ``parts``."""
    if parts is None:
        yield None
        return
    with snapshot_parts.Spooled([], 0, produce=parts.encoded, thread="fraudgraph-holders") as spool:
        yield spool


@contextmanager
def _counted_aside(links: pd.DataFrame | None, parts: holders.Parts | None = None):
    """``kind_counts(links)`` in a background thread (Arrow's hashing lets go of the GIL, so on two
    cores it runs beside SQLite's writes); yields the function that waits for the counts (None
    without ``links``). Leaving waits for the thread, whatever happened."""
    if parts is not None:  # counted off the holders' ordered hashes (counted here if it cannot be)
        yield lambda: parts.kind_counts() or kind_counts(parts.links)
        return
    if links is None:
        yield lambda: None
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-counts")
    try:
        future = pool.submit(kind_counts, links)
        yield future.result
    finally:
        pool.shutdown(wait=True)


def build_indexes(db: sqlite3.Connection, statements: list[str]) -> None:
    """Build secondary indexes over tables already full. SQLite sorts the keys in runs as big as
    the page cache: the load's 256 MB cache makes few big runs, sorted on one core, cache-unfriendly.
    A small cache (8 MB runs) sorted by worker threads and merged builds the links' index in
    about half the time (8.5M links: 13.1 s -> 6.4 s, ``benchmarks/bench_settings.py index``), with
    less memory. The cache is set back after."""
    db.execute("PRAGMA cache_size=-8192")
    db.execute(f"PRAGMA threads={min(4, os.cpu_count() or 1)}")
    try:
        for sql in statements:
            db.execute(sql)
    finally:
        db.execute("PRAGMA threads=0")
        db.execute(f"PRAGMA cache_size={_CACHE_KB}")


class SqliteWorkspace(SqliteResults, Workspace):
    """A workspace in one SQLite file. Safe for many readers while one sweep writes."""

    backend = "sqlite"

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = Path(path)
        # The snapshot's generation when the links were last read without their values
        # (``detection_links(values=False)``): ``link_values`` reads them by position in it.
        self._lean_generation: int | None = None
        if not create and not self.path.exists():
            raise WorkspaceError(f"workspace {self.path} does not exist; load data first (fraudgraph load DIR)")
        if self.path.parent and not self.path.parent.exists():
            raise WorkspaceError(f"cannot create workspace {self.path}: folder {self.path.parent} does not exist")
        if not self.path.exists():
            # Created private (0600): a workspace holds personal data. SQLite gives its -wal and
            # -shm files the main file's mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
            self._holder_parts = holders.PartCache()  # decoded holder parts, kept between reads
            self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's only: set before its first write
            self._in_wal_mode()
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA temp_store=MEMORY")
            self._db.execute(f"PRAGMA cache_size={_CACHE_KB}")  # 256 MB page cache for big loads
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise WorkspaceError(f"cannot open workspace {self.path}: {e}") from None

    def _in_wal_mode(self) -> None:
        """Put the workspace in write-ahead-log mode (readers go on while one process writes). It
        fails only while a first load writes without the log (``_first_load_unlogged``): a
        ``LockedError``, so that schedulers retry."""
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as e:
            if not _busy(e):
                raise
            self._db.close()
            raise LockedError(  # a temporary failure (exit 75), as when another sweep holds the lock
                f"workspace {self.path} is taking its first load, which nobody can read until it is "
                "written whole; try again when the load has finished"
            ) from None

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        row = None
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError:
            pass
        if row is not None and int(row[0]) == 2:
            self._links_from_v2()
            return
        if row is not None and int(row[0]) == 3:
            self._holders_from_v3()
            return
        if row is not None and int(row[0]) != SCHEMA_VERSION:
            raise WorkspaceError(
                f"workspace {self.path} has schema version {row[0]}, this fraudgraph expects {SCHEMA_VERSION}"
            )
        if row is None:
            # executescript commits whatever is pending, so the schema is its own script-level transaction.
            self._db.executescript(
                "BEGIN IMMEDIATE;"
                + SCHEMA
                + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
            )

    def _links_from_v2(self) -> None:
        """Schema 2 kept a text row per link and an index on (kind, key); schema 3 keeps the links in
        the columnar snapshot only, in small parts that know their first and last account, and who
        holds an identifier in ``identifier_accounts`` (``linkrows``). Rewritten once, in one
        transaction, when a newer fraudgraph first opens the workspace."""
        with self._transaction():
            version = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
            if int(version) != 2:  # another process did it while this one waited
                return
            log.warning("workspace %s: rewriting its links for schema %d (once)", self.path, SCHEMA_VERSION)
            self._db.execute(LINK_TABLES)
            self._db.execute("ALTER TABLE snapshots ADD COLUMN first_id TEXT")
            self._db.execute("ALTER TABLE snapshots ADD COLUMN last_id TEXT")
            self._db.execute(SNAPSHOT_RANGES)
            for statement in SCHEMA_4.split(";"):
                self._db.execute(statement)
            links = self._read_snapshot("links")  # its delta parts folded in
            if links is None:  # loaded before there was a snapshot: the table's rows become it
                links = self._frame(
                    "SELECT account_id, kind, value, key, first_seen FROM links ORDER BY account_id, kind, value"
                )
                links = links if len(links) else pd.DataFrame(columns=LINK_COLUMNS)
                links["first_seen"] = _from_ns(links["first_seen"].tolist())
            links = links[LINK_COLUMNS]
            self._db.execute("DELETE FROM snapshots WHERE name = 'links'")
            generation = self._meta_int("snapshot_generation") + 1  # the links' positions moved
            for name, part, _, data, first, last in snapshot_parts.encoded(
                [("links", 0, _numbered("links", lambda: links))], _SNAPSHOT_ROWS
            ):
                self._db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", (name, part, data, first, last))
            self._set_meta("snapshot_generation", generation)
            self._set_meta("snapshot_key_codes", generation)
            if len(links):
                self._write_links(_index_changes(links, None), lambda message: None)
            self._db.execute("DROP INDEX IF EXISTS links_by_identifier")
            self._db.execute("DROP TABLE links")
            self._set_meta("schema_version", SCHEMA_VERSION)

    def _holders_from_v3(self) -> None:
        """Schema 3 kept every holder in ``identifier_accounts``; schema 4 keeps them as the
        ``holders`` snapshot's parts, with the holders added and gone since (``holders``). A
        workspace of schema 3 is one with no parts and everything added: it needs only the new
        table and index (its next whole rewrite moves the holders into parts)."""
        with self._transaction():
            for statement in SCHEMA_4.split(";"):
                self._db.execute(statement)
            self._set_meta("schema_version", SCHEMA_VERSION)

    @contextmanager
    def _reading(self):
        """Several reads that must see one state of the workspace (a load may commit between two
        statements): a read transaction, unless one is open already."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")

    @contextmanager
    def _transaction(self, immediate: bool = True):
        """One write transaction: committed whole or rolled back whole. A full disk (the
        workspace's, or the temporary folder's where a big load sorts) is a one-line error
        that says nothing was written, not an internal error."""
        self._db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if _disk_full(e):
                raise WorkspaceError(
                    f"no space left on the disk of workspace {self.path} ({e}): nothing of this change was "
                    "written; free some space there (a big load needs room for about as much again as it "
                    "adds, until it commits) and run it again"
                ) from None
            raise

    def _is_empty(self, table: str) -> bool:
        return self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None

    def _count(self, table: str) -> int:
        return self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def _frame(self, sql: str, params: Iterable = (), columns: list[str] | None = None) -> pd.DataFrame:
        cur = self._db.execute(sql, tuple(params))
        names = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names)

    # -- loading -----------------------------------------------------------------------------
    def load(self, dataset, *, progress: Progress | None = None) -> LoadSummary:
        say = progress or (lambda msg: None)
        t0 = time.perf_counter()
        summary = LoadSummary.of(dataset)
        # Rows in primary-key order append to the B-trees instead of splitting pages at random.
        acc = _sorted(dataset.accounts, ["account_id"])
        links = _sorted(dataset.links, LINK_KEY)
        txns = _sorted(dataset.transactions, ["txn_id"])
        big = len(acc) + len(links) + len(txns) > _SMALL_LOAD
        with self._sorts_on_disk(big), self._first_load_unlogged(big), self._data_stage() as stage, self._transaction():
            # Into empty tables, build the secondary indexes once after the rows are in: a sorted
            # build instead of millions of random B-tree inserts (5x faster at 8M links).
            deferred = [(name, sql) for name, table, sql in SECONDARY_INDEXES if self._is_empty(table)]
            for name, _ in deferred:
                self._db.execute(f"DROP INDEX IF EXISTS {name}")
            # One plan decides what is new and what changed (model.merge, as on Neo4j), against the
            # columnar snapshot; only those rows are written, and the counts are the plan's.
            # A small load (one `check --apply` event) reads only the stored rows it touches, by
            # key, and adds its rows to the snapshot as a delta part: its work follows its size.
            small = self._small_load(len(acc) + len(links) + len(txns))
            old = self._stored_rows(acc, links, txns) if small else {n: self._read_snapshot(n) for n in _SNAPSHOT_KEYS}
            plans = _load_plans(acc, links, txns, old)
            written = {"accounts": _changed(acc, plans["accounts"])}
            if len(txns):
                written["transactions"] = _changed(txns, plans["transactions"])
            stage.start(written)  # before the load's threads start: a child is forked
            touched = _touched_identifiers(plans["links"]) if small else []
            present = self._identifiers_present(touched)
            # A big load takes the counts status shows off the links in hand (all of them, after the
            # load), in a background thread while SQLite writes; a small one moves them by its rows.
            all_links = None if small else _links_after(plans["links"], old["links"])
            with (
                self._snapshot_update(acc, plans, txns, old, small, all_links) as snapshot,
                _holders_aside(snapshot.holders) as holder_spool,
                _counted_aside(None if snapshot.holders else all_links, snapshot.holders) as counted,
            ):
                self._write_rows(written, stage, plans, old["links"], summary, say, whole=snapshot.whole)
                pa.default_memory_pool().release_unused()  # what Arrow freed, back before the index sorts
                self._written_back(big)
                if deferred:
                    say("indexing")
                    self._build_indexes([sql for _, sql in deferred])
                    self._written_back(big)
                if not summary.unchanged:
                    say("updating the columnar snapshot")
                    if holder_spool is not None and snapshot.holders is not None:  # first: ready first
                        self._store_holders(holder_spool, snapshot.holders)
                    snapshot.store()
                    self._written_back(big)
                if not small:
                    say("counting identifiers")
                # After the snapshot: who holds a touched identifier now is read from its links there.
                self._count_loaded(
                    summary, plans["links"], small, (present, self._identifiers_present(touched)), counted()
                )
            summary.seconds = round(time.perf_counter() - t0, 3)
            cursor = self._db.execute(
                "INSERT INTO loads (at, source, summary) VALUES (?, ?, ?)",
                (utc_now_text(), summary.source, _to_json(summary.as_dict())),
            )
            if small:  # what a delta sweep recomputes (a big load leaves it to a full one)
                changes.record(
                    self._db, "load", int(cursor.lastrowid or 0), _changed_accounts(acc, plans, txns), touched
                )
        return summary

    def _written_back(self, big: bool) -> None:
        """A big load's pages written so far on their way to the disk (``writeback``), so that its
        commit waits for the last of them only."""
        if big:
            start_writeback(self.path, f"{self.path}-wal", f"{self.path}-journal")

    def _build_indexes(self, statements: list[str]) -> None:
        build_indexes(self._db, statements)

    @contextmanager
    def _first_load_unlogged(self, big: bool):
        """A big first load into an empty workspace writes its pages once, straight into the file,
        with a rollback journal instead of the write-ahead log. In WAL mode every page goes into the
        log and again into the file at the checkpoint that follows the commit: 2 GB twice at 1M
        accounts, whose load took 57.3 s that way and 53.7 s this way (two runs of each, alternating,
        ``benchmarks/bench_settings.py journal``; system CPU 14.5 -> 11.8 s).
        An empty workspace has nothing to read, so while it loads nobody may open it (they are told
        why, by ``_in_wal_mode``); a failed or killed load leaves it empty, as in WAL mode (the
        journal rolls it back). Only when this is the workspace's one connection (else the switch
        is refused and the load runs in WAL mode, as every other load does). WAL mode comes back
        after, for the sweeps and readers that follow."""
        data_tables = ("accounts", linkrows.IDENTIFIER_ACCOUNTS, "transactions")
        if not big or not all(self._is_empty(t) for t in data_tables):
            yield
            return
        try:
            mode = self._db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError:  # another connection is open: "database is locked"
            mode = "wal"
        if mode != "delete":
            yield
            return
        self._db.execute("PRAGMA synchronous=FULL")  # a power cut cannot leave half a load
        try:
            yield
        finally:
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._back_to_wal()

    def _back_to_wal(self) -> None:
        """WAL mode again after ``_first_load_unlogged``. Someone who tried to open the workspace
        in the meantime may hold a lock for a moment: retried for the connection's busy timeout; if
        it is still refused, the next process that opens the workspace sets it."""
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as e:
                if not _busy(e) or time.monotonic() > deadline:
                    log.warning("workspace %s: WAL mode not restored after its first load (%s)", self.path, e)
                    return
                time.sleep(0.05)

    @contextmanager
    def _data_stage(self) -> Iterator[_DataStage]:
        """A ``_DataStage`` for one load, its staging file detached and removed after the load's
        transaction (SQLite detaches a database only outside one)."""
        stage = _DataStage(self)
        try:
            yield stage
        finally:
            stage.close()

    @contextmanager
    def _sorts_on_disk(self, big: bool):
        """A big load's index builds and its count of distinct identifiers sort millions of keys:
        SQLite's sorter spills those to temporary files instead of memory (``temp_store=MEMORY``
        would hold them all: about 0.3 GB per million accounts at the load's peak). Set outside
        the load's transaction: SQLite refuses the change inside one once temporary tables exist."""
        if not big:
            yield
            return
        self._db.execute("PRAGMA temp_store=FILE")
        try:
            yield
        finally:
            self._db.execute("PRAGMA temp_store=MEMORY")

    def _write_rows(
        self,
        written: dict[str, pd.DataFrame],
        stage: _DataStage,
        plans: dict[str, Any],
        old_links,
        summary: LoadSummary,
        say: Callable[[str], None],
        *,
        whole: bool = False,
    ) -> None:
        """The rows the plans mark new or changed into the data tables: ``written``, the accounts
        and transactions of them (copied in from ``stage`` when it staged them), and the links
        (``old_links``: the stored links the load read, at least those of every account it writes
        links of). Who holds which identifier is worked out in a thread meanwhile and written
        last, once SQLite has written the accounts and transactions: the holders the load adds and
        removes, or nothing when the snapshot is rewritten ``whole`` (its holder parts are made
        beside it: ``_holders_aside``)."""
        link_plan = plans["links"]
        with ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-index") as pool:
            index = None if whole else pool.submit(_index_changes, link_plan.to_write[LINK_COLUMNS], old_links)
            summary.accounts_new, summary.accounts_updated = plans["accounts"].counts
            if not stage.copy("accounts", _ACCOUNT_CONFLICT):
                self._upsert_accounts(written["accounts"])
            say(f"accounts: {summary.accounts_new:,} new, {summary.accounts_updated:,} updated")
            if "transactions" in written:
                summary.transactions_new, summary.transactions_updated = plans["transactions"].counts
                if not stage.copy("transactions", _TRANSACTION_CONFLICT):
                    self._upsert_transactions(written["transactions"])
                say(f"transactions: {summary.transactions_new:,} new, {summary.transactions_updated:,} updated")
            summary.links_new, summary.links_updated = link_plan.counts
            if index is not None:
                self._write_links(index.result(), say)
        say(f"links: {summary.links_new:,} new, {summary.links_updated:,} updated")

    # -- the counts status shows, kept by each load ----------------------------------------------
    def _identifiers_present(self, pairs: list[tuple[str, str]]) -> dict[str, int]:
        """Of the distinct (kind, key) ``pairs``, how many of each kind some link holds now."""
        out: dict[str, int] = {}
        if not pairs:
            return out
        held = self._holders(pairs)[["kind", "key"]].drop_duplicates()
        for kind in held["kind"]:
            out[kind] = out.get(kind, 0) + 1
        return out

    def _stored_counts(self) -> dict[str, Any]:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'status_counts'").fetchone()
        return json.loads(row[0]) if row else {"accounts": 0, "links": 0, "transactions": 0, "kinds": {}}

    def _count_loaded(
        self,
        summary: LoadSummary,
        plan: LinkMerge,
        small: bool,
        present: tuple[dict, dict],
        counted: dict[str, list[int]] | None = None,
    ) -> None:
        """The counts ``status`` shows after this load. A big load ``counted`` the links per kind
        (``kind_counts`` of every link after it); a small one moves the stored counts by its rows,
        and by the identifiers it touched that gained their first link or lost their last."""
        counts = self._stored_counts()
        counts["accounts"] += summary.accounts_new
        counts["links"] += summary.links_new
        counts["transactions"] += summary.transactions_new
        if counted is not None:
            kinds = counted
        else:
            kinds = counts["kinds"]
            written = plan.to_write
            for kind, new, key, key_old in zip(
                written["kind"], plan.is_new[plan.is_new | plan.changed], written["key"], written["key_old"]
            ):
                n_links, ids, none = kinds.get(kind, [0, 0, 0])
                none += int(not isinstance(key, str)) - int(not new and not isinstance(key_old, str))
                kinds[kind] = [n_links + int(new), ids, none]
            before, after = present
            for kind in set(before) | set(after):
                kinds[kind][1] += after.get(kind, 0) - before.get(kind, 0)
        counts["kinds"] = kinds
        self._set_meta("status_counts", json.dumps(counts))

    def _upsert_accounts(self, accounts: pd.DataFrame) -> None:
        _insert_data(self._db, "accounts", accounts, _ACCOUNT_CONFLICT)

    def _write_links(self, changes: _IndexChanges, say: Callable[[str], None]) -> None:
        """Who holds each identifier after the load (``_index_changes``): the rows that go, then
        those that come, and the hashes found shared (``_note_collisions``). The links themselves go
        into the columnar snapshot only."""
        self._note_collisions(changes)
        where = " AND ".join(f"{c} = ?" for c in _INDEX_COLUMNS)
        gone = changes.gone
        gone_rows = list(zip(gone["h"].tolist(), gone["account_id"].tolist(), gone["value"].tolist(), strict=True))
        self._db.executemany(f"DELETE FROM {holders.ADDED} WHERE {where}", gone_rows)
        if gone_rows and holders.has_parts(self._db):  # rows of the parts, gone until they are rewritten
            insert_rows(self._db, insert_head(holders.GONE, _INDEX_COLUMNS, "INSERT OR IGNORE"), 3, gone_rows)
        head = insert_head(holders.ADDED, _INDEX_COLUMNS, changes.verb)
        forget = f"DELETE FROM {holders.GONE} WHERE {where}"
        for values in changes.new.values():  # Python values for a chunk at a time, not for millions
            insert_columns(self._db, head, values)
            if not self._is_empty(holders.GONE):  # a holder gone earlier that comes back
                self._db.executemany(forget, zip(*values, strict=True))
        say(f"links: {len(changes.new):,} identifier holders indexed")

    def _store_holders(self, spool: snapshot_parts.Spooled, parts: holders.Parts) -> None:
        """The ``holders`` parts of a snapshot rewritten whole (``_holders_aside``), in place of the
        holders stored before, added or gone since; and the hashes found shared among them."""
        holders.clear(self._db)
        for name, part, _, data, first, last in spool.parts():
            self._db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", (name, part, data, first, last))
        found = set(parts.collisions)
        known = self._collisions()
        if found - known:
            self._set_meta("identifier_collisions", json.dumps(sorted(found | known)))

    def _note_collisions(self, changes: _IndexChanges) -> None:
        """Remember every hash two identifiers share (meta ``identifier_collisions``): those among
        the load's own, and those where a new holder's identifier is not the one already stored
        under its hash (one stored holder of each such hash is read back from the snapshot, which
        still holds the links as they were before this load)."""
        found = set(changes.collisions)
        came = changes.identities
        if came is not None and len(came):
            hashes = linkrows.identifier_hashes(came["kind"], came["key"]).tolist()
            held = holders.rows(self._db, hashes, self._holder_parts).drop_duplicates("h")
            stored = {h: (a, v) for h, a, v in zip(held["h"].tolist(), held["account_id"], held["value"], strict=True)}
            if stored:
                links = self.links(sorted({a for a, _ in stored.values()}))
                identity: dict[tuple[str, str], set] = {}
                for a, v, kind, key in zip(
                    links["account_id"], links["value"], links["kind"], links["key"], strict=True
                ):
                    identity.setdefault((a, v), set()).add((kind, key))
                for h, kind, key in zip(hashes, came["kind"], came["key"], strict=True):
                    if h in stored and (kind, key) not in identity.get(stored[h], set()):
                        found.add(int(h))
        known = self._collisions()
        if found - known:
            self._set_meta("identifier_collisions", json.dumps(sorted(found | known)))

    def _collisions(self) -> set[int]:
        """The identifier hashes two identifiers share (``_note_collisions``): almost always none."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'identifier_collisions'").fetchone()
        return set(json.loads(row[0])) if row else set()

    def _upsert_transactions(self, transactions: pd.DataFrame) -> None:
        _insert_data(self._db, "transactions", transactions, _TRANSACTION_CONFLICT)

    # -- the columnar snapshot -----------------------------------------------------------------
    def _read_snapshot(
        self, name: str, columns: list[str] | None = None, categories: list[str] | None = None
    ) -> pd.DataFrame | None:
        """Snapshot ``name`` with its delta parts merged in; only ``columns`` (all when None) of a
        snapshot without delta parts (a merge needs the key columns). The links' ``key_code``
        (``_with_key_codes``) is read only when asked for by name: it numbers the keys of the
        stored links as a whole, and holds for nothing merged with them. ``categories``: columns
        of a few repeating values made categorical straight from the parts' dictionaries (and
        without delta parts; else left as text), their categories sorted as pandas sorts them."""
        with self._reading():  # the part numbers and the parts, as one load left them
            sql = "SELECT part FROM snapshots WHERE name = ? ORDER BY part"
            numbers = [r[0] for r in self._db.execute(sql, (name,))]
            if not numbers:
                return None
            if numbers[-1] >= _DELTA_PART:
                columns = categories = None
            whole, deltas = [], []
            # A few parts at a time (their bytes dropped once decoded), into one chunk per column:
            # the 517 small parts of the 1M links as a few big arrays, as the sweep used to get them.
            sql = "SELECT part, data FROM snapshots WHERE name = ? ORDER BY part"
            blobs = self._db.execute(sql, (name,))
            tables: Iterator[tuple[int, pa.Table]]
            if len(numbers) <= 2:  # big parts (the accounts): Arrow's threads decode each one
                tables = (
                    (part, snapshot_parts.read(data, columns, threads=True, dictionary=categories))
                    for part, data in blobs
                )
            else:
                tables = snapshot_parts.decoded(blobs, lambda part: columns if part < _DELTA_PART else None, categories)
            for part, table in tables:
                if part < _DELTA_PART:
                    whole.append(_without_key_codes(table, columns))
                else:
                    deltas.append(_without_key_codes(table, None).to_pandas())
        table = pa.concat_tables(whole)
        if categories:  # each part has its own dictionary: one for all (a handful of values)
            table = table.unify_dictionaries()
        if len(whole) > 1:
            table = table.combine_chunks()
            del whole
            pa.default_memory_pool().release_unused()
        df = table.to_pandas()
        del table
        for column in categories or ():
            if column in df.columns:  # as ``astype("category")`` orders them
                df[column] = df[column].cat.reorder_categories(sorted(df[column].cat.categories))
        if deltas:  # small loads' rows, oldest first: merged over the rest as their load merged them
            key = _SNAPSHOT_KEYS[name]
            new = pd.concat(deltas, ignore_index=True).drop_duplicates(key, keep="last")
            df = merged_over(new[list(df.columns)], df, key).reset_index(drop=True)
        return df

    def _small_load(self, rows: int) -> bool:
        """Whether a load of ``rows`` rows reads only the stored rows it touches (by key) and updates
        the snapshot by a delta part: a snapshot exists, the load is small, and the deltas so far
        stay small (else it reads the snapshot whole, and may rewrite it)."""
        if rows > _SMALL_LOAD:
            return False
        has_snapshot = self._db.execute("SELECT 1 FROM snapshots WHERE name = 'links' LIMIT 1").fetchone()
        return has_snapshot is not None and self._meta_int("snapshot_delta_rows") + rows <= self._delta_room()

    def _delta_room(self) -> int:
        """How many rows the snapshot's delta parts may hold before a load rewrites it whole: a
        quarter of the snapshot, or _MAX_DELTA_ROWS, whichever is more."""
        return max(_MAX_DELTA_ROWS, self._meta_int("snapshot_base_rows") // 4)

    def _stored_rows(self, acc: pd.DataFrame, links: pd.DataFrame, txns: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """The stored rows with the keys of a small load, as the snapshot holds them (the source's
        label, not an analyst's)."""
        ids = sorted(set(acc["account_id"]) | set(links["account_id"]))
        accounts = self._with_ids(f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts", "account_id", ids, "")
        accounts = accounts if len(accounts) else pd.DataFrame(columns=ACCOUNT_COLUMNS)
        accounts["created_at"] = _from_ns(accounts["created_at"].tolist())
        base = "SELECT txn_id, account_id, counterparty, counterparty_kind, amount, timestamp, status FROM transactions"
        stored_txns = self._with_ids(base, "txn_id", sorted(txns["txn_id"]), "")
        stored_txns = stored_txns if len(stored_txns) else pd.DataFrame(columns=TRANSACTION_COLUMNS)
        stored_txns["amount"] = stored_txns["amount"].astype("float64")
        stored_txns["timestamp"] = _from_ns(stored_txns["timestamp"].tolist())
        return {"accounts": _account_frame(accounts), "links": self.links(ids), "transactions": stored_txns}

    def _meta_int(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: object) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(value))
        )

    @contextmanager
    def _snapshot_update(
        self,
        acc,
        plans: dict[str, Any],
        txns,
        old: dict[str, pd.DataFrame | None],
        small: bool,
        all_links: pd.DataFrame | None = None,
    ):
        """What the load changes in the columnar snapshot; yields a ``_SnapshotUpdate``.

        A load adds its written rows as delta parts, merged over the rest when read, so it writes what
        it changed, not the whole snapshot again. Once the deltas would hold more than a quarter of
        the snapshot (or _MAX_DELTA_ROWS, whichever is more) the load rewrites it whole, folding them
        in: reads stay fast, and the rewrites' cost is spread over many loads. A big load's parts are
        encoded in a background thread while SQLite writes and indexes its rows (``parts.Spooled``);
        rewritten whole, its links are ``all_links`` (every link after the load), whose holder parts
        are made too (``holders.Parts``, encoded by ``_holders_aside``) and number their keys."""
        # A small load's rows go in whole (a few); a big one's only where its plan wrote.
        written = _load_rows(acc, plans, txns) if small else _written_rows(acc, plans, txns)
        rows = sum(len(df) for df in written.values())
        has_snapshot = self._db.execute("SELECT 1 FROM snapshots WHERE name = 'accounts' LIMIT 1").fetchone()
        whole = not small and (
            has_snapshot is None or self._meta_int("snapshot_delta_rows") + rows > self._delta_room()
        )
        parts = holders.Parts(all_links, lock=_HASHING) if whole and rows and all_links is not None else None
        jobs = self._snapshot_jobs(written, old, whole, parts)
        if small or not rows:
            yield _SnapshotUpdate(
                whole, lambda: self._store_snapshot(snapshot_parts.encoded(jobs, _SNAPSHOT_ROWS), whole, rows)
            )
            return
        with snapshot_parts.Spooled(jobs, _SNAPSHOT_ROWS) as spool:
            yield _SnapshotUpdate(whole, lambda: self._store_snapshot(spool.parts(), whole, rows), parts)

    def _snapshot_jobs(
        self,
        written: dict[str, pd.DataFrame],
        old: dict[str, pd.DataFrame | None],
        whole: bool,
        parts: holders.Parts | None = None,
    ) -> list[snapshot_parts.Job]:
        """The snapshot parts to encode. Rewritten whole: the stored rows (deltas folded in) with the
        load's merged over them, exactly as the plan merged them into the tables (a first load's rows
        as they are: sorted by key, unique, since the contract merges repeated observations); the
        links those of the holder ``parts`` when there are (merged once, numbered by them). Else
        the load's rows, as more parts of each snapshot after the others."""
        if whole:
            jobs: list[snapshot_parts.Job] = []
            # The links last: their key numbers come from the holder parts' thread meanwhile.
            for name in ("accounts", "transactions", "links"):
                key = _SNAPSHOT_KEYS[name]
                if name == "links" and parts is not None:
                    every = partial(parts.links.__getitem__, LINK_COLUMNS)
                    jobs.append((name, 0, partial(_with_key_codes, every, parts.key_codes)))
                else:
                    jobs.append((name, 0, _numbered(name, partial(merged_over, written[name], old[name], key))))
            return jobs
        jobs = []
        for name, df in written.items():
            if len(df):
                last = self._db.execute("SELECT max(part) FROM snapshots WHERE name = ?", (name,)).fetchone()[0]
                jobs.append((name, max(_DELTA_PART, (last or 0) + 1), partial(merged_over, df, None, [])))
        return jobs

    def _store_snapshot(self, encoded: Iterable[snapshot_parts.Part], whole: bool, written_rows: int) -> None:
        """Insert the encoded parts: after deleting the old ones when the snapshot is rewritten whole."""
        if whole:  # the holder parts are rewritten whole beside it (``_store_holders``)
            self._db.execute("DELETE FROM snapshots WHERE name != ?", (holders.NAME,))
            # Positions in the snapshot hold until it is rewritten (``link_values`` checks this).
            self._set_meta("snapshot_generation", self._meta_int("snapshot_generation") + 1)
        total, numbered = 0, True
        for name, part, n_rows, data, first, last in encoded:
            self._db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", (name, part, data, first, last))
            total += n_rows
            if whole and name == "links":
                numbered = numbered and "key_code" in pq.read_schema(pa.BufferReader(data)).names
        if whole:
            # Which generation's links carry ``key_code`` (``_key_codes_stored``).
            self._set_meta("snapshot_key_codes", self._meta_int("snapshot_generation") if numbered else 0)
            self._set_meta("snapshot_delta_rows", 0)
            self._set_meta("snapshot_base_rows", total)
        else:
            self._set_meta("snapshot_delta_rows", self._meta_int("snapshot_delta_rows") + written_rows)

    def changes_since(self, data_version: str) -> tuple[set[str], set[tuple[str, str]]] | None:
        """The accounts and identifiers whose data changed since ``data_version`` (``changes``);
        None when that is not known (a big load since)."""
        return changes.since(self._db, data_version, self.data_version())

    def latest_timestamp(self) -> pd.Timestamp | None:
        """The latest created_at, first_seen or transaction timestamp (a sweep's default as_of)."""
        columns = dict.fromkeys((table, column) for table, column, _ in self._LATEST_ROWS)
        values = [self._db.execute(f"SELECT max({column}) FROM {table}").fetchone()[0] for table, column in columns]
        found = [int(v) for v in values if v is not None]
        seen = self._latest_first_seen()
        found += [] if seen is None else [seen]
        return pd.Timestamp(max(found)) if found else None

    def _latest_first_seen(self) -> int | None:
        """The latest first_seen of any link (ns), off the snapshot's first_seen column."""
        snap = self._read_snapshot("links", ["first_seen"])
        if snap is None:
            return None
        seen = pd.to_datetime(snap["first_seen"]).astype("datetime64[ns]").dropna()
        return None if seen.empty else int(seen.max().value)

    # The tables that hold times, besides the links: (table, time column, account column).
    _LATEST_ROWS = (
        ("accounts", "created_at", "account_id"),
        ("transactions", "timestamp", "account_id"),
        ("transactions", "timestamp", "counterparty"),
    )
    # Which rows of each of them are an account's: as the account paid, only a payment to an account.
    _LATEST_OF = (
        "account_id IN (SELECT id FROM _ids)",
        "account_id IN (SELECT id FROM _ids)",
        "counterparty IN (SELECT id FROM _ids) AND counterparty_kind = 'account'",
    )

    def latest_timestamp_of(self, account_ids: list[str]) -> tuple[pd.Timestamp | None, list[str]]:
        """The latest created_at, first_seen or transaction timestamp among these accounts' rows
        (their transactions as payer or as the account paid), and which of them hold it; by key."""
        self._fill_ids(account_ids)
        rows = list(zip(self._LATEST_ROWS, self._LATEST_OF, strict=True))
        found = [
            self._db.execute(f"SELECT max({column}) FROM {table} WHERE {where}").fetchone()[0]
            for (table, column, _), where in rows
        ]
        values = [int(v) for v in found if v is not None]
        links = self.links(account_ids)
        first_seen = links["first_seen"].to_numpy(dtype="datetime64[ns]")
        seen, known = first_seen.view(np.int64), ~np.isnat(first_seen)
        if known.any():
            values.append(int(seen[known].max()))
        if not values:
            return None, []
        latest = max(values)
        holding: set[str] = set(links.loc[known & (seen == latest), "account_id"])
        for (table, column, key), where in rows:
            sql = f"SELECT DISTINCT {key} FROM {table} WHERE {where} AND {column} = ?"
            holding |= {r[0] for r in self._db.execute(sql, (latest,))}
        return pd.Timestamp(latest), sorted(holding)

    def latest_holders(self) -> tuple[pd.Timestamp, list[str]] | None:
        """Accounts whose rows held the latest timestamp at the last written sweep, and that
        timestamp (``SweepRecord.latest``); None when the sweep did not say."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'latest_holders'").fetchone()
        if row is None:
            return None
        kept = json.loads(row[0])
        return pd.Timestamp(kept["as_of"]), list(kept["accounts"])

    def data_version(self) -> str:
        load = self._db.execute("SELECT coalesce(max(load_id), 0) FROM loads").fetchone()[0]
        labels = self._db.execute("SELECT value FROM meta WHERE key='labels_version'").fetchone()
        return f"{int(load)}/{int(labels[0]) if labels else 0}"

    def last_load(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT at, source, summary FROM loads ORDER BY load_id DESC LIMIT 1").fetchone()
        return None if row is None else {"at": row[0], "source": row[1], **json.loads(row[2])}

    def status(self) -> dict[str, Any]:
        # Counted by the loads (meta 'status_counts'): constant time, not a scan of millions of links.
        counts = self._stored_counts()
        kinds = [
            {"kind": kind, "links": n, "identifiers": ids, "no_identity": none}
            for kind, (n, ids, none) in sorted(counts["kinds"].items())
            if n
        ]
        last_load = self._db.execute("SELECT at, source, summary FROM loads ORDER BY load_id DESC LIMIT 1").fetchone()
        last_sweep = self._db.execute(
            "SELECT sweep_id, finished_at, as_of, dry_run FROM sweeps WHERE dry_run = 0 "
            "ORDER BY finished_at DESC, sweep_id DESC LIMIT 1"
        ).fetchone()
        return {
            "workspace": str(self.path),
            "backend": self.backend,
            "counts": {t: int(counts[t]) for t in ("accounts", "links", "transactions")},
            "kinds": kinds,
            "distinct_identifiers": sum(k["identifiers"] for k in kinds),
            "rings": self._count("rings"),
            "last_load": None
            if last_load is None
            else {"at": last_load[0], "source": last_load[1], **json.loads(last_load[2])},
            "last_sweep": None
            if last_sweep is None
            else {"sweep_id": last_sweep[0], "at": last_sweep[1], "as_of": last_sweep[2]},
        }

    # -- reading the loaded data ---------------------------------------------------------------
    def _fill_ids(self, ids: Iterable[str]) -> None:
        """The temporary table ``_ids`` (id) holds exactly ``ids``: a query filters by joining it."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS _ids (id TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM _ids")
        insert_columns(self._db, insert_head("_ids", ["id"], "INSERT OR IGNORE"), [list(ids)])

    def _fill_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """The temporary table ``_pairs`` (kind, key) holds exactly ``pairs``."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS _pairs (kind TEXT, key TEXT, PRIMARY KEY (kind, key))")
        self._db.execute("DELETE FROM _pairs")
        insert_rows(self._db, insert_head("_pairs", ["kind", "key"], "INSERT OR IGNORE"), 2, pairs)

    def _with_ids(self, sql: str, column: str, account_ids: list[str] | None, order: str) -> pd.DataFrame:
        if account_ids is None:
            return self._frame(f"{sql} {order}")
        self._fill_ids(account_ids)
        where = " AND " if " WHERE " in sql else " WHERE "
        return self._frame(f"{sql}{where}{column} IN (SELECT id FROM _ids) {order}")

    def accounts(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        if account_ids is None:
            snap = self._read_snapshot("accounts")
            if snap is not None:
                overrides = self._db.execute(
                    "SELECT account_id, analyst_label FROM accounts WHERE analyst_label_set"
                ).fetchall()
                if overrides:
                    label_of = dict(overrides)
                    hit = snap["account_id"].isin(label_of)
                    snap["label"] = snap["label"].astype(object)
                    snap.loc[hit, "label"] = snap.loc[hit, "account_id"].map(label_of)
                return _account_frame(snap)
        df = self._with_ids(
            """SELECT account_id, created_at, credit_limit, balance, overdue_days, status,
                      CASE WHEN analyst_label_set THEN analyst_label ELSE label END AS label, properties
               FROM accounts""",
            "account_id",
            account_ids,
            "ORDER BY account_id",
        )
        if df.empty:
            df = pd.DataFrame(columns=ACCOUNT_COLUMNS)
        df["created_at"] = _from_ns(df["created_at"].tolist())
        return _account_frame(df)

    def links(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        if account_ids is None:
            snap = self._read_snapshot("links")
            if snap is not None:
                snap["first_seen"] = snap["first_seen"].astype("datetime64[ns]")
                snap["key"] = snap["key"].astype(object).where(snap["key"].notna(), None)
                return snap[LINK_COLUMNS]
        if account_ids is None:
            return _link_frame(_LINK_SCHEMA.empty_table())
        return _link_frame(self._snapshot_rows_of("links", account_ids))

    def _parts_holding(
        self, name: str, ids: np.ndarray, columns: list[str] | None = None
    ) -> list[tuple[int, pa.Table]]:
        """(part, its rows of ``ids``) for every part of snapshot ``name`` whose account range holds
        one of ``ids`` (sorted) and that has rows of them; only ``columns`` of them (all when None,
        and whenever delta parts are there: their merge reads the whole rows)."""
        ranges = self._db.execute(
            "SELECT part, first_id, last_id FROM snapshots WHERE name = ? ORDER BY part", (name,)
        ).fetchall()
        if ranges and ranges[-1][0] >= _DELTA_PART:
            columns = None
        wanted = snapshot_parts.holding(ranges, ids)
        listed = ids.tolist()
        found = []
        for at in range(0, len(wanted), 500):  # below SQLite's limit on bound parameters
            chunk = wanted[at : at + 500]
            sql = f"SELECT part, data FROM snapshots WHERE name = ? AND part IN ({', '.join('?' * len(chunk))})"
            found += snapshot_parts.rows_of_parts(
                self._db.execute(sql, (name, *chunk)).fetchall(), "account_id", listed, columns
            )
        return found

    def _snapshot_rows_of(self, name: str, account_ids: Iterable[str], columns: list[str] | None = None) -> pa.Table:
        """The rows of snapshot ``name`` (its parts sorted by account, each knowing its first and last
        one) of ``account_ids``, with its delta parts merged in: only the parts whose account range
        holds one of them are read. As Arrow: an investigation's frames are made from it (3-4x
        faster than pandas on an account page's hundred rows); only a delta's merge goes through
        pandas. ``columns``: at least these (all when None; all of them too under delta parts)."""
        ids = np.array(sorted(set(account_ids)), dtype=object)
        found: list[tuple[int, pa.Table]] = []
        if len(ids):
            with self._reading():  # the parts' ranges and their data as one load left them
                found = self._parts_holding(name, ids, columns)
        found.sort(key=lambda p: p[0])
        base = [t for part, t in found if part < _DELTA_PART]
        deltas = [t for part, t in found if part >= _DELTA_PART]
        if not deltas:
            return pa.concat_tables(base, promote_options="permissive") if base else _LINK_SCHEMA.empty_table()
        df = pa.concat_tables(base, promote_options="permissive").to_pandas() if base else None
        # Small loads' rows, oldest first: merged over the rest as their load merged them.
        new = pd.concat([t.to_pandas() for t in deltas], ignore_index=True)
        new = new.drop_duplicates(_SNAPSHOT_KEYS[name], keep="last")
        if df is not None:
            columns = [c for c in df.columns if c in new.columns]
            new = merged_over(new[columns], df[columns], _SNAPSHOT_KEYS[name])
        return pa.Table.from_pandas(new, preserve_index=False)

    def _holders(self, pairs: Iterable[tuple[str, str]]) -> pd.DataFrame:
        """account_id, kind, key, value of every link that holds one of the identifiers ``pairs``
        (kind, key), read off the holders (``holders.rows``) by the pairs' hashes. Under a hash two
        identifiers share (``_collisions``), each holder is checked against its links."""
        pairs = list(dict.fromkeys((str(k), str(v)) for k, v in pairs))
        columns = ["account_id", "kind", "key", "value"]
        if not pairs:
            return pd.DataFrame(columns=columns)
        with self._reading():  # the index and, under a shared hash, the links it is checked against
            return self._holders_read(pairs, columns)

    def _holders_read(self, pairs: list[tuple[str, str]], columns: list[str]) -> pd.DataFrame:
        hashes = linkrows.pair_hashes(pairs)
        found = holders.table(self._db, hashes.tolist(), self._holder_parts)
        held = _holder_frame(pairs, hashes, found)[[*columns, "h"]]
        shared = self._collisions()
        doubtful = held["h"].isin(shared).to_numpy(dtype=bool) if shared and len(held) else None
        if doubtful is not None and doubtful.any():  # checked against the holders' own links
            check = held[doubtful]
            links = self.links(sorted(set(check["account_id"])))
            real = set(zip(links["account_id"], links["kind"], links["key"], links["value"], strict=True))
            keep = [
                row in real
                for row in zip(check["account_id"], check["kind"], check["key"], check["value"], strict=True)
            ]
            held = pd.concat([held[~doubtful], check[keep]], ignore_index=True)
        return held[columns].reset_index(drop=True)

    def detection_links(self, *, values: bool = True) -> pd.DataFrame:
        """Every link, as a sweep reads them: ``links()`` of the snapshot, but a missing key is NaN
        and every key keeps its Arrow-backed string (``links()`` makes a Python string of each, and
        None of a missing one: about 0.6 GB at 1M accounts that detection does not need), and the
        kind is categorical. ``values=False``: without the raw ``value`` column when the snapshot
        has no delta parts (``link_values`` reads it later, for the rows wanted)."""
        with self._transaction(immediate=False):  # the parts and their generation as one load left them
            lean = not values and self._delta_parts("links") == 0
            columns = None
            if lean:  # as the load stored them, with its numbering of their keys when it made one
                columns = [c for c in LINK_COLUMNS if c != "value"] + (["key_code"] if self._key_codes_stored() else [])
            snap = self._read_snapshot("links", columns, ["kind"])
            if lean:
                self._lean_generation = self._meta_int("snapshot_generation")
        if snap is None:
            return self.links()
        snap["first_seen"] = snap["first_seen"].astype("datetime64[ns]")
        snap["kind"] = snap["kind"].astype("category")  # a handful of kinds over millions of links
        return snap[[c for c in [*LINK_COLUMNS, "key_code"] if c in snap.columns]]

    def _key_codes_stored(self) -> bool:
        """Whether every base part of the links snapshot holds ``key_code``, as the load that
        stored them noted (a snapshot stored before there was one has none)."""
        generation = self._meta_int("snapshot_generation")
        return generation > 0 and self._meta_int("snapshot_key_codes") == generation

    def link_values(self, rows: np.ndarray) -> pd.Series:
        """The raw ``value`` of the links at positions ``rows`` (ascending) of ``detection_links``,
        read one snapshot part at a time (only the rows wanted are kept)."""
        rows = np.asarray(rows, dtype=np.int64)
        found, start = [], 0
        with self._transaction(immediate=False):
            # A load since the lean read may have added delta parts (``check --apply``, a small
            # delta): the base parts, where those positions point, are as they were. One that
            # rewrote the snapshot moved every position: the spellings can no longer be told.
            lean = self._lean_generation
            if lean is not None and lean != self._meta_int("snapshot_generation"):
                raise WorkspaceError(
                    f"a load rewrote the data of workspace {self.path} while this sweep ran; "
                    "nothing of the sweep was written: run it again"
                )
            blobs = self._db.execute(
                "SELECT part, data FROM snapshots WHERE name = 'links' AND part < ? ORDER BY part", (_DELTA_PART,)
            )
            for _, table in snapshot_parts.decoded(blobs, lambda part: ["value"]):
                column = table.column("value")
                lo, hi = np.searchsorted(rows, [start, start + len(column)])
                found.extend(column.take(pa.array(rows[lo:hi] - start)).chunks)
                start += len(column)
        values = pa.chunked_array(found, type=found[0].type) if found else pa.chunked_array([], pa.string())
        return values.to_pandas().reset_index(drop=True)

    def _delta_parts(self, name: str) -> int:
        """How many delta parts (small loads' rows) snapshot ``name`` has."""
        sql = "SELECT count(*) FROM snapshots WHERE name = ? AND part >= ?"
        return int(self._db.execute(sql, (name, _DELTA_PART)).fetchone()[0])

    def transactions(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        base = "SELECT txn_id, account_id, counterparty, counterparty_kind, amount, timestamp, status FROM transactions"
        if account_ids is None:
            snap = self._read_snapshot("transactions")
            if snap is not None:
                snap["timestamp"] = snap["timestamp"].astype("datetime64[ns]")
                snap["amount"] = snap["amount"].astype("float64")
                return snap[TRANSACTION_COLUMNS].reset_index(drop=True)
            df = self._frame(base + " ORDER BY txn_id")
        else:
            a = self._with_ids(base, "account_id", account_ids, "")
            b = self._with_ids(f"{base} WHERE counterparty_kind = 'account'", "counterparty", account_ids, "")
            df = pd.concat([a, b]).drop_duplicates("txn_id").sort_values("txn_id")
        if df.empty:
            df = pd.DataFrame(columns=TRANSACTION_COLUMNS)
        df["amount"] = df["amount"].astype("float64")
        df["timestamp"] = _from_ns(df["timestamp"].tolist())
        return df[TRANSACTION_COLUMNS].reset_index(drop=True)

    # -- sweeps ------------------------------------------------------------------------------
    def sweep_lock(self, owner: str):
        return file_lock(self.path.with_name(self.path.name + ".lock"), owner, what=str(self.path))

    # -- investigation -----------------------------------------------------------------------
    def hub_keys(self) -> set[tuple[str, str]]:
        return set(self._db.execute("SELECT kind, key FROM hubs").fetchall())

    def identifier_counts(self, pairs: pd.DataFrame) -> pd.DataFrame:
        cols = ["kind", "key", "n_accounts", "raw_values"]
        if pairs is None or len(pairs) == 0:
            return pd.DataFrame(columns=cols)
        counted = self._counted_holders(pairs, spellings=True)
        return pd.DataFrame(counted, columns=cols) if counted else pd.DataFrame(columns=cols)

    def identifier_account_counts(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """kind, key, n_accounts of the identifiers ``pairs`` (kind, key) some link holds: the
        accounts using each, counted on the identifier index (no raw values)."""
        cols = ["kind", "key", "n_accounts"]
        counted = self._counted_holders(pairs, spellings=False) if len(pairs) else []
        return pd.DataFrame(counted, columns=cols) if counted else pd.DataFrame(columns=cols)

    def _counted_holders(self, pairs: pd.DataFrame, *, spellings: bool) -> list[tuple]:
        """(kind, key, accounts holding it[, its spellings, sorted]) of each identifier of ``pairs``
        some link holds, sorted by kind and key: counted off the holders alone, in Arrow and numpy
        (``holders.counted``), not pandas nor a Python loop: a hub-like identifier of a
        neighbourhood has tens of thousands of holders (1M accounts: 66k holder rows under the 100
        identifiers of an account's page, 40 ms in pandas, 6 ms with Arrow's group_by, 1 ms so).
        Python values out, as the other backends' frames are made."""
        asked = list(dict.fromkeys((str(k), str(v)) for k, v in pairs[["kind", "key"]].itertuples(index=False)))
        hashes = linkrows.pair_hashes(asked)
        held = self._unshared_holders(hashes)
        if held is None:
            return self._counted_checked(asked, spellings)
        found_hashes, n_accounts, spelled = holders.counted(held, spellings)
        pair_of = dict(zip(hashes.tolist(), asked, strict=True))
        found = []
        for i, h in enumerate(found_hashes):
            kind, key = pair_of[h]
            found.append((kind, key, n_accounts[i], spelled[i]) if spelled is not None else (kind, key, n_accounts[i]))
        return sorted(found, key=lambda row: (row[0], row[1]))

    def _unshared_holders(self, hashes: np.ndarray) -> pa.Table | None:
        """``holders.table`` of the identifiers hashed ``hashes``, in one read; None when one of
        them is a hash two identifiers share: each holder must then be checked against its links
        (``_holders``)."""
        with self._reading():
            shared = self._collisions()
            if shared and shared & set(hashes.tolist()):
                return None
            return holders.table(self._db, hashes.tolist(), self._holder_parts)

    def _counted_checked(self, asked: list[tuple[str, str]], spellings: bool) -> list[tuple]:
        """``_counted_holders`` where a hash two identifiers share is asked for: from ``_holders``."""
        held = self._holders(asked)
        counted = held.groupby(["kind", "key"], sort=True)["account_id"].nunique()
        values = held.groupby(["kind", "key"], sort=True)["value"].agg(lambda v: sorted(set(v)))
        return [
            (kind, key, int(n), values[(kind, key)]) if spellings else (kind, key, int(n))
            for (kind, key), n in counted.items()
        ]

    def identifiers_of(self, account_ids: Iterable[str]) -> pd.DataFrame:
        # Without the raw spellings and key numbers, which it does not show: the parts of a
        # neighbourhood's dozen accounts decode in 15-16 ms instead of 20.
        return _uses_of_table(self._snapshot_rows_of("links", account_ids, _USE_READ))

    def accounts_of(self, pairs: list[tuple[str, str]], limit: int) -> pd.DataFrame:
        cols = ["account_id", "kind", "key"]
        if not pairs:
            return pd.DataFrame(columns=cols)
        asked = list(dict.fromkeys((str(k), str(v)) for k, v in pairs))
        hashes = linkrows.pair_hashes(asked)
        held = self._unshared_holders(hashes)
        if held is not None and 0 < held.num_rows <= _HOLDERS_IN_PYTHON:
            # Straight from the holder rows, not a frame of them merged with the pairs asked (100
            # identifiers of a neighbourhood at 1M accounts: 10.9 -> 5.9 ms). Ordered as below.
            # A hub's tens of thousands go through the frame: 82 ms for 96k, 225 ms this way.
            pair_of = dict(zip(hashes.tolist(), asked, strict=True))
            found_rows = zip(held.column("h").to_pylist(), held.column("account_id").to_pylist(), strict=True)
            rows = sorted({(*pair_of[h], account) for h, account in found_rows})
            rows = rows[:limit] if limit < _UNCAPPED else rows
            if rows:
                kinds, keys, accounts = zip(*rows, strict=True)
                text = {"account_id": accounts, "kind": kinds, "key": keys}
                return pd.DataFrame({c: pd.Series(text[c], dtype="str") for c in cols})
        # The holder rows in hand, as ``_holders`` makes them; read again only to be checked.
        found = (self._holders(asked) if held is None else _holder_frame(asked, hashes, held))[cols].drop_duplicates()
        # Ordered as the Neo4j query is, so a capped neighbourhood keeps the same accounts on both.
        found = found.sort_values(["kind", "key", "account_id"], kind="stable")
        return found.head(limit).reset_index(drop=True) if limit < _UNCAPPED else found.reset_index(drop=True)

    def paid_between(self, account_ids: list[str]) -> pd.DataFrame:
        cols = ["account_id", "counterparty", "amount", "count", "first_ts", "last_ts"]
        if not account_ids:
            return pd.DataFrame(columns=cols)
        self._fill_ids(account_ids)
        df = self._frame(
            """SELECT account_id, counterparty, sum(amount) AS amount, count(*) AS count,
                      min(timestamp) AS first_ts, max(timestamp) AS last_ts
               FROM transactions
               WHERE counterparty_kind = 'account'
                 AND account_id IN (SELECT id FROM _ids) AND counterparty IN (SELECT id FROM _ids)
               GROUP BY account_id, counterparty ORDER BY account_id, counterparty"""
        )
        if df.empty:
            return pd.DataFrame(columns=cols)
        df["first_ts"] = _from_ns(df["first_ts"].tolist())
        df["last_ts"] = _from_ns(df["last_ts"].tolist())
        return df[cols]

    # -- real-time check -------------------------------------------------------------------
    def check_lookup(self, pairs: list[tuple[str, str]], account_ids: list[str], *, limit: int) -> CheckLookup:
        # A handful of indexed point queries, compiled once per connection (sqlite3 caches
        # statements by text), in one read transaction so a sweep committing meanwhile is seen
        # whole or not at all.
        out = CheckLookup()
        db = self._db
        wanted = list(dict.fromkeys(pairs))
        hashes = linkrows.pair_hashes(wanted).tolist() if wanted else []  # at once: 0.2 ms a call
        db.execute("BEGIN")
        try:
            shared = self._collisions() if wanted else set()
            hubs = [db.execute(CHECK_HUB, pair).fetchone() for pair in wanted]
            # The holders of every identifier that is no hub, in one read of the holder parts.
            sure = [h for h, hub in zip(hashes, hubs, strict=True) if hub is None and h not in shared]
            by_hash: dict[int, list[str]] = {}
            if sure:  # grouped in Python: a few holders each (a hub's are never read here)
                found = holders.table(db, sure, self._holder_parts)
                for h, account_id in zip(found.column("h").to_pylist(), found.column("account_id").to_pylist()):
                    held_by = by_hash.setdefault(h, [])
                    if not held_by or held_by[-1] != account_id:  # sorted by hash, then account
                        held_by.append(account_id)
            for (kind, key), h, hub in zip(wanted, hashes, hubs, strict=True):
                if hub is not None:
                    out.identifiers.append({"kind": kind, "key": key, "n_accounts": int(hub[0]), "hub_reason": hub[1]})
                    continue
                if h in shared:  # two identifiers share the hash: holders checked one by one
                    held = sorted(set(self._holders([(kind, key)])["account_id"]))
                else:
                    held = by_hash.get(h, [])
                n = len(held)
                if n:
                    out.identifiers.append({"kind": kind, "key": key, "n_accounts": int(n), "hub_reason": None})
                if 0 < n <= limit:
                    for account_id in held:
                        out.accounts += [_check_account(r, kind, key) for r in db.execute(CHECK_ACCOUNT, (account_id,))]
            for account_id in dict.fromkeys(account_ids):
                out.accounts += [_check_account(r, None, None) for r in db.execute(CHECK_ACCOUNT, (account_id,))]
            for ring_id in dict.fromkeys(a["ring_id"] for a in out.accounts if a["ring_id"] is not None):
                row = db.execute(CHECK_RING, (ring_id,)).fetchone()
                if row is not None:
                    out.rings.append(
                        {
                            "ring_id": row[0],
                            "size": int(row[1]),
                            "score": float(row[2]),
                            "codes": [c for c in json.loads(row[3] or "[]") if c],
                            "action": ACTIONS[int(row[4] or 0)],
                        }
                    )
        finally:
            db.execute("COMMIT")
        return out

    def audit_of(self, account_ids: list[str]) -> pd.DataFrame:
        ids = list(dict.fromkeys(account_ids))
        frames = []
        for start in range(0, len(ids), 500):  # below SQLite's limit on bound parameters
            chunk = ids[start : start + 500]
            sql = f"SELECT audit_id, {', '.join(AUDIT_COLUMNS)} FROM audit WHERE account_id IN ({', '.join('?' * len(chunk))})"
            frames.append(self._frame(sql, chunk))
        if not frames:
            return self.audit("")
        return pd.concat(frames).sort_values("audit_id")[AUDIT_COLUMNS].reset_index(drop=True)


def _holder_frame(pairs: list[tuple[str, str]], hashes: np.ndarray, found: pa.Table) -> pd.DataFrame:
    """The holder rows ``found`` (``holders.table``) of the identifiers ``pairs`` (hashed ``hashes``)
    with the kind and key of each: h, kind, key, account_id, value."""
    asked = pd.DataFrame({"h": hashes, "kind": [p[0] for p in pairs], "key": [p[1] for p in pairs]})
    return asked.merge(holders.as_frame(found), on="h")


# What ``identifiers_of`` reads of the links' parts.
_USE_READ = ["account_id", "kind", "key", "first_seen"]
# The links' columns as ``_snapshot_rows_of`` gives them when no part holds a row.
_LINK_SCHEMA = pa.schema(
    [(c, pa.string()) for c in ("account_id", "kind", "value", "key")] + [("first_seen", pa.timestamp("ns"))]
)


def _link_frame(table: pa.Table) -> pd.DataFrame:
    """Links (``_snapshot_rows_of``) as ``links()`` gives them: LINK_COLUMNS in key order, Python
    strings, a missing key None, first_seen datetime64[ns]."""
    table = table.sort_by([(c, "ascending") for c in LINK_KEY])
    out = pd.DataFrame(
        {c: pd.Series(table.column(c).to_pylist(), dtype=object) for c in ("account_id", "kind", "value", "key")}
    )
    out["first_seen"] = table.column("first_seen").cast(pa.timestamp("ns")).to_numpy()
    return out[LINK_COLUMNS]


def _uses_of_table(table: pa.Table) -> pd.DataFrame:
    """``identifiers_of`` the links (``_snapshot_rows_of``): each account's identifiers (its links
    with a key), first seen on the earliest of its links to one, sorted."""
    keyed = table.filter(pc.is_valid(table.column("key")))
    uses = keyed.group_by(["account_id", "kind", "key"]).aggregate([("first_seen", "min")])
    uses = uses.sort_by([(c, "ascending") for c in ("account_id", "kind", "key")])
    # pandas' own text type, as the other backends' frames (and a pandas groupby) have it.
    out = pd.DataFrame({c: pd.Series(uses.column(c).to_pylist(), dtype="str") for c in ("account_id", "kind", "key")})
    out["first_seen"] = uses.column("first_seen_min").cast(pa.timestamp("ns")).to_numpy()
    return out


def _account_frame(df: pd.DataFrame) -> pd.DataFrame:
    df["created_at"] = df["created_at"].astype("datetime64[ns]")
    df["credit_limit"] = df["credit_limit"].astype("float64")
    df["balance"] = df["balance"].astype("float64")
    df["overdue_days"] = df["overdue_days"].fillna(0).astype("int64")
    df["label"] = df["label"].astype(object).where(df["label"].notna() & (df["label"] != ""), None)
    return df[ACCOUNT_COLUMNS].reset_index(drop=True)


def _check_account(row: tuple, kind: str | None, key: str | None) -> dict[str, Any]:
    account_id, ring_id, score, action, status, trigger = row
    return {
        "account_id": account_id,
        "kind": kind,
        "key": key,
        "ring_id": ring_id,
        "score": 0.0 if score is None else float(score),
        "action": action,
        "status": status,
        "trigger": trigger,
    }
