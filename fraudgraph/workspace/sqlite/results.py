"""The SQLite workspace's sweep results, logs and analyst actions: what a sweep writes (rings,
scores, decisions, state, audit, notices) and how the result tables are read back.

Implied rows (``workspace.base``: which rows are default). ``account_scores`` and ``decisions``
store only the rows that are not default; ``swept_accounts`` keeps, in compressed parts of
``_PART`` accounts sorted by id, the ids and credit limits of every account of the last sweep.
A read gives back, for each account of the sweep without a stored row, the row the sweep would
have stored: ``account_scores`` (id, 0.0, NULL, '[]') and ``decisions`` (id, 'none', 'none',
and the account's score, ring and reasons as ``account_scores`` has them, its credit limit at
the sweep, NULL, ''), as SQL returns them, so the frames are the very ones a full table gave.
The meta key ``implied_rows`` says the parts describe the current results (a workspace swept
before implied rows has full tables and no parts: nothing is implied).

A ring's features (some 70 named numbers) are stored as a JSON array, ``[names_id, value, ...]``,
whose names are the row ``names_id`` of ``feature_names``: the names once, not once per ring (at
1M accounts 34 MB of text instead of 200 MB, which the sweep wrote twice, to the log and to the
file). A read gives the same dict back; a ring stored as a JSON object (before) reads as it is.

A mixin of ``SqliteWorkspace`` (``store.py``, which holds the loaded data tables): it uses the
workspace's connection (``self._db``), ``_transaction``, ``_frame`` and ``_with_ids``.
"""

from __future__ import annotations

import bisect
import json
import logging
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from fraudgraph.model.values import NamedRow, is_missing
from fraudgraph.workspace.base import (
    ACTION_ORDER,
    AUDIT_COLUMNS,
    NOTICE_COLUMNS,
    RESULT_COLUMNS as _RESULT_COLUMNS,
    REVIEW_COLUMNS,
    STATE_COLUMNS,
    SWEEP_COLUMNS,
    ColumnFilter,
    SweepRecord,
    from_json as _from_json,
    hold_back,
    implied_rows,
    result_filters,
    sparse_tables,
    stored_value,
    to_json as _to_json,
)
from fraudgraph.workspace.sqlite import changes, staging
from fraudgraph.workspace.sqlite.bulk import insert_columns, insert_head, insert_rows

log = logging.getLogger("fraudgraph")
_JSON_COLUMNS = {"features", "reasons", "raw_values", "summary", "diff"}
_IMPLIED = ("account_scores", "decisions")  # the tables whose default rows are left out
_PART = 2048  # accounts per part of ``swept_accounts``
# The decisions of each action in page order (decision_page reads a page from it, not every row).
_DECISIONS_IN_ORDER = "CREATE INDEX IF NOT EXISTS decisions_in_order ON decisions (action, score DESC, account_id)"
# Created by the first sweep a workspace writes (one made before it had none).
_AUDIT_BY_TIME = "CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at)"
# The accounts whose state holds another action than their decision, or a state and no decision
# row (holds, analysts' actions): few. Kept by every write of either table (``_note_moved``), so a
# page of flagged decisions does not join the 86k states of a 1M sweep with their decisions
# (70-110 ms) to find none. Made by the first write after it was introduced, filled whole: a
# workspace without it is read by the join.
_MOVED_SCHEMA = "CREATE TABLE state_moved (account_id TEXT PRIMARY KEY) WITHOUT ROWID"
_MOVED = (
    "SELECT s.account_id FROM account_state s LEFT JOIN decisions d ON d.account_id = s.account_id "
    "WHERE (d.account_id IS NULL OR (s.action IS NOT NULL AND s.action IS NOT d.action))"
)
_REBUILD_INDEXES_FROM = 50_000  # rows: a result table this big gets its indexes rebuilt, not updated
# The last sweep's components (``Detection.components``): a delta sweep takes whole components
# from it. The table exists only while it describes the last written sweep.
_COMPONENTS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS components (account_id TEXT PRIMARY KEY, component TEXT NOT NULL) WITHOUT ROWID"
)
_FEATURE_NAMES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS feature_names (names_id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE)"
)
_COMPONENTS_INDEX = "CREATE INDEX IF NOT EXISTS components_by_component ON components (component)"
_COMPONENT_COLUMNS = ["account_id", "component"]
# The result tables a big full sweep writes ahead, in a child process (``stage_sweep``).
_STAGED = ("rings", "ring_members", "ring_identifiers", "account_scores")
_SWEPT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS swept_accounts (part INTEGER PRIMARY KEY, first_id TEXT NOT NULL, "
    "n INTEGER NOT NULL, ids BLOB NOT NULL, credit_limits BLOB NOT NULL)"
)


def _decoded_json(df: pd.DataFrame, names: Callable[[], dict[int, list[str]]] | None = None) -> pd.DataFrame:
    """A frame read from SQL with its JSON text columns (``_JSON_COLUMNS``) decoded; a ring's
    features stored as an array take their names from ``names()`` (the ``feature_names`` rows)."""
    for c in df.columns:
        if c in _JSON_COLUMNS:
            df[c] = [[] if v == "[]" else _from_json(v) for v in df[c]]
    if "features" in df.columns and names is not None:
        df["features"] = _named_features(df["features"].tolist(), names)
    return df


def _named_features(values: list, names: Callable[[], dict[int, list[str]]]) -> list:
    """Features decoded from ``[names_id, value, ...]`` arrays as dicts (objects stay as they are)."""
    if not any(isinstance(v, list) and v for v in values):
        return values
    known = names()
    return [dict(zip(known[v[0]], v[1:])) if isinstance(v, list) and v else v for v in values]


def _records(rows: list, cols: list[str]) -> pd.DataFrame:
    """Rows as ``_frame`` makes them (the same dtypes), JSON columns decoded."""
    return _decoded_json(pd.DataFrame.from_records(rows, columns=cols))


def _matcher(cols: list[str], filters: list[ColumnFilter]):
    """Whether a row passes ``table``'s filters, as SQL's ``IN`` / ``IS NULL`` would."""
    tests = [(cols.index(f.column), None if f.values is None else {stored_value(x) for x in f.values}) for f in filters]

    def matches(row: tuple) -> bool:
        for i, values in tests:
            v = row[i]
            if (v is not None) if values is None else (v is None or v not in values):
                return False
        return True

    return matches


def _state_ids(state: pd.DataFrame | None) -> list[str]:
    """The accounts a frame of state rows writes (none for None)."""
    return [] if state is None or state.empty else state["account_id"].tolist()


def _page_key(row: tuple) -> tuple:
    """decision_page's order: most severe action in force, highest score, account id (NULL last)."""
    score = row[3]
    return (ACTION_ORDER.get(row[1], len(ACTION_ORDER)), float("inf") if score is None else -score, row[0])


class SqliteResults:
    """Sweep results, logs and analyst actions of a ``SqliteWorkspace``."""

    _db: Any
    path: Any

    if TYPE_CHECKING:  # provided by SqliteWorkspace

        def _transaction(self, immediate: bool = True) -> AbstractContextManager: ...

        def _frame(self, sql: str, params: Iterable = (), columns: list[str] | None = None) -> pd.DataFrame: ...

        def _with_ids(self, sql: str, column: str, account_ids: list[str] | None, order: str) -> pd.DataFrame: ...

        def data_version(self) -> str: ...

        def _fill_ids(self, ids: Iterable[str]) -> None: ...

        def _fill_pairs(self, pairs: Iterable[tuple[str, str]]) -> None: ...

    def next_ring_number(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='next_ring_number'").fetchone()
        return int(row[0]) if row else 1

    def save_sweep(self, record: SweepRecord) -> None:
        if record.scope is not None:
            self._save_scoped(record)
            return
        t = time.perf_counter()
        tables, swept = sparse_tables(record)
        log.debug("write: default rows left out (%.1fs)", time.perf_counter() - t)
        staged: set[str] = set()
        try:
            staged = self._staged_tables(record, tables)
            with self._transaction():
                self._hold_back(record)
                for name in _RESULT_COLUMNS:
                    df = tables.get(name)
                    if df is None:
                        continue
                    t = time.perf_counter()
                    if name in staged:
                        self._copy_staged(name)
                    else:
                        self._replace(name, df)
                    log.debug("write: %s, %d rows (%.1fs)", name, len(df), time.perf_counter() - t)
                self._db.execute(_DECISIONS_IN_ORDER)
                if "rings" in record.tables:  # the detection was computed, not the stored one reused
                    self._replace_components(record.components, staged="components" in staged)
                if swept is not None:
                    t = time.perf_counter()
                    self._write_swept(swept, record.data_version)
                    log.debug("write: swept_accounts, %d accounts (%.1fs)", len(swept), time.perf_counter() - t)
                self._save_logs(record)
        finally:
            self._unstage(record, attached=bool(staged))

    def stage_sweep(self, tables: dict[str, pd.DataFrame], components: pd.DataFrame | None) -> Any:
        """Start writing a full sweep's detection tables (rings, ring_members, ring_identifiers,
        account_scores without their default rows) and its components into a staging file, in a
        child process (``staging``), while the caller runs the policy: ``save_sweep`` copies them
        in when ``SweepRecord.staged`` holds what this returns. None for a small sweep, or when
        the machine has no room for the child. The child binds the very values ``save_sweep``
        would (``_compact``, ``_sql_columns``); the feature names it needs are registered now."""
        scores = tables.get("account_scores")
        if scores is None or len(scores) < staging.MIN_ROWS:
            return None
        names = set().union(*(_feature_name_lists(tables.get(name)) for name in _STAGED))
        ids: dict[tuple[str, ...], int] = {}
        if names:
            with self._transaction():  # a sweep that fails after leaves an unused list of names
                ids = {n: self._names_id(n) for n in sorted(names)}
        plan = [(name, self._schema_of(name), df) for name in _STAGED if (df := tables.get(name)) is not None]
        if components is not None:
            plan.append(("components", [_COMPONENTS_SCHEMA, _COMPONENTS_INDEX], components))

        def work(db) -> None:
            for name, statements, df in plan:
                db.execute(statements[0])  # the table, then its rows, then its indexes
                cols = _COMPONENT_COLUMNS if name == "components" else _RESULT_COLUMNS[name]
                if name == "account_scores":
                    df = df[~implied_rows(df, None)[0]]
                elif name == "components":
                    df = df.sort_values("account_id")
                if len(df):
                    insert_columns(db, insert_head(name, cols), _sql_columns(_compact(df, ids.__getitem__), cols))
                for sql in statements[1:]:
                    db.execute(sql)

        staged = staging.start(self.path.parent, work)
        if staged is not None:
            staged.sources = {name: df for name, _, df in plan}
        return staged

    def _schema_of(self, table: str) -> list[str]:
        """A table's CREATE statement, then its indexes'."""
        sql = "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index', name"
        return [r[0] for r in self._db.execute(sql, (table,))]

    def _staged_tables(self, record: SweepRecord, tables: dict[str, pd.DataFrame]) -> set[str]:
        """The tables ``record.staged`` wrote for this very record, its file attached as
        ``staged`` (waiting for the child first); none when it wrote nothing usable."""
        staged = record.staged
        if not isinstance(staged, staging.StagedWrite):
            return set()
        t = time.perf_counter()
        if not staged.ready():
            log.debug("write: the staged tables are not there (%s): written here", staged.failure())
            return set()
        log.debug("write: waited %.1fs for the staged tables", time.perf_counter() - t)
        self._db.execute("ATTACH DATABASE ? AS staged", (str(staged.path),))
        usable = set()
        try:
            for name, frame in staged.sources.items():
                if frame is not (record.components if name == "components" else record.tables.get(name)):
                    continue  # not what this record writes
                if name == "account_scores":
                    n = self._db.execute("SELECT count(*) FROM staged.account_scores").fetchone()[0]
                    if n != len(tables["account_scores"]):
                        continue
                usable.add(name)
        except BaseException:
            self._db.execute("DETACH DATABASE staged")
            raise
        if not usable:
            self._db.execute("DETACH DATABASE staged")
        return usable

    def _copy_staged(self, name: str) -> None:
        """A result table's rows replaced by the staged ones: into the emptied table, SQLite
        copies them and their index entries as they are stored."""
        self._db.execute(f"DELETE FROM main.{name}")
        self._db.execute(f"INSERT INTO main.{name} SELECT * FROM staged.{name}")

    def _unstage(self, record: SweepRecord, *, attached: bool) -> None:
        if attached:
            self._db.execute("DETACH DATABASE staged")
        if isinstance(record.staged, staging.StagedWrite):
            record.staged.discard()

    def _hold_back(self, record: SweepRecord) -> None:
        """The sweep's changes to accounts someone else changed since it read their state
        (``base.hold_back``), taken out. Called first in the sweep's write transaction, which holds
        the write lock: no review or manual change can commit between this look and the write."""
        if record.audit_mark is None:
            return
        hold_back(record, self.acted_after(record.audit_mark))

    def _save_logs(self, record: SweepRecord) -> None:
        """A sweep's state changes, audit rows, notices, history row and ring counter; the change
        log forgets what this sweep took in."""
        t = time.perf_counter()
        changes.prune(self._db, record.data_version)
        self._upsert_state(record.state)
        scope = record.scope
        self._note_moved(None if scope is None else [*scope.decided, *_state_ids(record.state)])
        self._append("audit", record.audit, AUDIT_COLUMNS)
        # What the next delta sweep asks: who acted since this sweep (``accounts_acted_since``).
        self._db.execute(_AUDIT_BY_TIME)
        self._append_notices(record.notices)
        s = dict(record.sweep)
        self._db.execute(
            f"INSERT INTO sweeps ({', '.join(SWEEP_COLUMNS)}) VALUES ({', '.join('?' * len(SWEEP_COLUMNS))})",
            [_to_json(s.get(c)) if c in _JSON_COLUMNS else stored_value(s.get(c)) for c in SWEEP_COLUMNS],
        )
        self._db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('next_ring_number', ?)",
            (str(int(record.next_ring_number)),),
        )
        if record.latest is not None:
            as_of, holders = record.latest
            kept = json.dumps({"as_of": pd.Timestamp(as_of).isoformat(), "accounts": sorted(holders)})
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('latest_holders', ?)", (kept,))
        elif "rings" in record.tables:  # a new detection that did not say: forget the old answer
            self._db.execute("DELETE FROM meta WHERE key = 'latest_holders'")
        log.debug("write: state, audit, notices, sweep (%.1fs)", time.perf_counter() - t)

    def _save_scoped(self, record: SweepRecord) -> None:
        """A delta sweep's write: the rows of its scope replaced, every other row kept; default
        score and decision rows left out as a full sweep leaves them (the accounts they are
        implied for are written again from the accounts table, new ones included)."""
        scope = record.scope
        assert scope is not None
        t = time.perf_counter()
        # Default rows left out as a full sweep leaves them; the accounts that imply them are
        # every account's (below), not the decided ones sparse_tables would list.
        sparse, _ = sparse_tables(record)
        with self._transaction():
            self._hold_back(record)
            self._db.execute(_COMPONENTS_SCHEMA)
            for name, column, keys in (
                ("ring_members", "account_id", scope.accounts),
                ("rings", "ring_id", scope.rings),
                ("ring_identifiers", "ring_id", scope.rings),
                ("account_scores", "account_id", scope.accounts),
                ("decisions", "account_id", scope.decided),
                ("components", "account_id", scope.accounts),
            ):
                new = record.components if name == "components" else sparse[name]
                self._replace_changed(name, (column, keys), new)
            self._fill_pairs(scope.identifiers[["kind", "key"]].itertuples(index=False, name=None))
            self._db.execute("DELETE FROM hubs WHERE (kind, key) IN (SELECT kind, key FROM _pairs)")
            self._insert("hubs", sparse["hubs"], _RESULT_COLUMNS["hubs"])
            self._db.execute(_DECISIONS_IN_ORDER)
            self._write_swept(self._swept_after(scope.accounts), record.data_version)
            self._save_logs(record)
        log.debug("write: delta sweep (%.1fs)", time.perf_counter() - t)

    def _replace_changed(self, name: str, scope: tuple[str, list[str]], df: pd.DataFrame | None) -> None:
        """Replace the rows of ``name`` whose ``column`` is one of ``keys`` (``scope``) by ``df``'s,
        writing only the keys whose rows differ. A delta sweep recomputes whole components, yet
        most of their rows come out as they were; every row rewritten costs a page of each of
        the table's B-trees (the WAL of a 1M-account delta sweep fell from 119 MB)."""
        column, keys = scope
        cols = _COMPONENT_COLUMNS if name == "components" else _RESULT_COLUMNS[name]
        at = cols.index(column)
        new = list(_sql_rows(self._compact_features(df), cols))
        self._fill_ids(set(keys) | {r[at] for r in new})
        where = f"{column} IN (SELECT id FROM _ids)"
        old = self._db.execute(f"SELECT {', '.join(cols)} FROM {name} WHERE {where}").fetchall()
        before, after = _by_key(old, at), _by_key(new, at)
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        self._fill_ids(changed)
        self._db.execute(f"DELETE FROM {name} WHERE {where}")
        self._insert_rows(name, cols, [r for r in new if r[at] in changed])

    def _replace_components(self, components: pd.DataFrame | None, *, staged: bool = False) -> None:
        """The components table of a full sweep: its map, its index built after the rows are in
        (``staged``: both copied from the staging file); none when the sweep made no map (another
        engine clustered)."""
        self._db.execute("DROP TABLE IF EXISTS main.components")  # not the staging file's (attached)
        if components is None:
            return
        self._db.execute(_COMPONENTS_SCHEMA)
        if staged:
            self._db.execute(_COMPONENTS_INDEX)
            self._copy_staged("components")
            return
        self._insert("components", components.sort_values("account_id"), _COMPONENT_COLUMNS)
        self._db.execute(_COMPONENTS_INDEX)

    def components_of(self, account_ids: list[str]) -> pd.DataFrame | None:
        """account_id, component of every account in the last sweep's components of
        ``account_ids`` (an account in none is alone in its own); None when the workspace keeps
        no map of the last sweep's components."""
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'components'").fetchone():
            return None
        self._fill_ids(account_ids)
        return self._frame(
            "SELECT c.account_id, c.component FROM components c WHERE c.component IN "
            "(SELECT component FROM components WHERE account_id IN (SELECT id FROM _ids)) ORDER BY c.account_id",
            columns=["account_id", "component"],
        )

    def _swept_after(self, account_ids: list[str]) -> pd.DataFrame:
        """The accounts of a delta sweep (id, credit limit, by id): the last sweep's, with the rows
        of ``account_ids`` (every account whose row changed since, new ones included) read again."""
        fresh = self._rows("SELECT account_id, credit_limit FROM accounts", account_ids)
        if not self._implies() or not fresh:
            return self._frame("SELECT account_id, credit_limit FROM accounts ORDER BY account_id")
        kept, limits = self._swept_parts(None)
        ids = np.array(kept, dtype=object)
        new_limits = {a: np.nan if v is None else v for a, v in fresh}
        new_ids = np.array(sorted(new_limits), dtype=object)
        at, there = _found_at(ids, new_ids)
        limits[at[there]] = [new_limits[a] for a in new_ids[there]]
        ids = np.insert(ids, at[~there], new_ids[~there])
        limits = np.insert(limits, at[~there], [new_limits[a] for a in new_ids[~there]])
        return pd.DataFrame({"account_id": ids, "credit_limit": limits})

    def _replace(self, name: str, df: pd.DataFrame) -> None:
        """Replace a result table's rows; a big table's secondary indexes are built once after
        the rows are in (a sorted build instead of random B-tree inserts), from their own DDL."""
        indexes = []
        if len(df) > _REBUILD_INDEXES_FROM:
            indexes = self._db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (name,)
            ).fetchall()
        for index, _ in indexes:
            self._db.execute(f"DROP INDEX {index}")
        self._db.execute(f"DELETE FROM {name}")
        self._insert(name, self._compact_features(df), _RESULT_COLUMNS[name])
        for _, sql in indexes:
            self._db.execute(sql)

    def _write_swept(self, swept: pd.DataFrame, data_version: str | None) -> None:
        """The sweep's accounts (sorted ids and credit limits) in compressed parts; marks the
        result tables as holding only the rows that are not default, with the data version the
        sweep read (while it holds, the accounts table says the same as the parts)."""
        self._db.execute(_SWEPT_SCHEMA)
        self._db.execute("DELETE FROM swept_accounts")
        ids = swept["account_id"].tolist()
        limits = pd.to_numeric(swept["credit_limit"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        rows = [
            (
                part,
                ids[start],
                len(ids[start : start + _PART]),
                zlib.compress(orjson.dumps(ids[start : start + _PART]), 1),
                zlib.compress(limits[start : start + _PART].tobytes(), 1),
            )
            for part, start in enumerate(range(0, len(ids), _PART))
        ]
        self._db.executemany("INSERT INTO swept_accounts VALUES (?, ?, ?, ?, ?)", rows)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('implied_rows', ?)", (data_version or "",))

    def _implies(self) -> bool:
        return self._db.execute("SELECT 1 FROM meta WHERE key = 'implied_rows'").fetchone() is not None

    def _accounts_as_swept(self) -> bool:
        """True while no load (nor label) came after the last sweep: its accounts and their credit
        limits are then the accounts table's, read by key instead of from the parts."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'implied_rows'").fetchone()
        return row is not None and bool(row[0]) and row[0] == self.data_version()

    def _swept_parts(self, parts: list[int] | None) -> tuple[list[str], np.ndarray]:
        """The ids and credit limits (NaN: none) of these parts (None: all), in id order."""
        sql = "SELECT ids, credit_limits FROM swept_accounts"
        if parts is None:
            rows = self._db.execute(sql + " ORDER BY part").fetchall()
        else:
            rows = [self._db.execute(sql + " WHERE part = ?", (part,)).fetchone() for part in sorted(parts)]
        ids: list[str] = []
        for blob, _ in rows:
            ids.extend(json.loads(zlib.decompress(blob)))
        limits = [np.frombuffer(zlib.decompress(blob), dtype=np.float64) for _, blob in rows]
        return ids, np.concatenate(limits) if limits else np.empty(0, dtype=np.float64)

    def _swept(self, account_ids: list[str] | None) -> dict[str, float | None]:
        """Account id -> credit limit of the accounts of the last sweep (``account_ids``: only
        these), in account id order; only the parts holding the asked ids are read."""
        if account_ids is not None and self._accounts_as_swept():
            return dict(sorted(self._rows("SELECT account_id, credit_limit FROM accounts", account_ids)))
        if account_ids is None:
            ids, limits = self._swept_parts(None)
        else:
            firsts = [r[0] for r in self._db.execute("SELECT first_id FROM swept_accounts ORDER BY part")]
            asked = np.array(sorted(set(account_ids)), dtype=object)
            parts = sorted({bisect.bisect_right(firsts, a) - 1 for a in asked} - {-1})
            kept, limits = self._swept_parts(parts)
            at, there = _found_at(np.array(kept, dtype=object), asked)
            ids, limits = asked[there].tolist(), limits[at[there]]
        return dict(zip(ids, [None if v != v else v for v in limits.tolist()]))

    def action_counts(self, account_ids: list[str]) -> dict[str, int]:
        """How many of these accounts the last sweep decided each action for (an account of that
        sweep with no stored decision row: 'none'; an account it did not see: not counted)."""
        counts = dict(
            self._rows_where("SELECT action, count(*) FROM decisions", "account_id", account_ids, "GROUP BY action")
        )
        if self._implies():
            implied = len(self._swept(account_ids)) - sum(counts.values())
            counts["none"] = counts.get("none", 0) + implied
        return {a: int(n) for a, n in counts.items() if n}

    def _rows(self, sql: str, account_ids: list[str] | None) -> list[tuple]:
        """Raw rows of ``sql`` (a SELECT with no WHERE), for these account ids only unless None."""
        if account_ids is None:
            return self._db.execute(sql).fetchall()
        return self._rows_where(sql, "account_id", account_ids)

    def _rows_where(self, sql: str, column: str, account_ids: list[str], tail: str = "") -> list[tuple]:
        self._fill_ids(account_ids)
        return self._db.execute(f"{sql} WHERE {column} IN (SELECT id FROM _ids) {tail}").fetchall()

    def _stored_ids(self, name: str, account_ids: list[str] | None) -> set[str]:
        return {r[0] for r in self._rows(f"SELECT account_id FROM {name}", account_ids)}

    def _implied(self, name: str, account_ids: list[str] | None) -> list[tuple]:
        """The rows of ``name`` (account_scores or decisions) left out as default for the sweep's
        accounts ``account_ids`` (None: all), as SQL returns stored rows, by account id."""
        if not self._implies():
            return []
        stored = self._stored_ids(name, account_ids)
        swept = self._swept(None if account_ids is None else [a for a in account_ids if a not in stored])
        missing = [a for a in swept if a not in stored]
        if name == "account_scores":
            return [(a, 0.0, None, "[]") for a in missing]
        sql = "SELECT account_id, score, ring_id, reasons FROM account_scores"
        scores = {r[0]: r[1:] for r in self._rows(sql, None if account_ids is None else missing)}
        default = (0.0, None, "[]")
        return [(a, "none", "none", *scores.get(a, default), swept[a], None, "") for a in missing]

    def _compact_features(self, df: pd.DataFrame | None) -> pd.DataFrame | None:
        """``df`` with its ``features`` dicts (when it has them) as ``[names_id, value, ...]`` JSON
        text, each distinct list of names registered once in ``feature_names``."""
        return _compact(df, self._names_id)

    def _names_id(self, names: tuple[str, ...]) -> int:
        """The ``feature_names`` row of this list of names, added when new."""
        self._db.execute(_FEATURE_NAMES_SCHEMA)
        text = orjson.dumps(list(names)).decode()
        self._db.execute("INSERT OR IGNORE INTO feature_names (names) VALUES (?)", (text,))
        return int(self._db.execute("SELECT names_id FROM feature_names WHERE names = ?", (text,)).fetchone()[0])

    def _feature_names(self) -> dict[int, list[str]]:
        """Every stored list of feature names by id (a handful: one per set of features a sweep wrote)."""
        return {int(i): orjson.loads(n) for i, n in self._db.execute("SELECT names_id, names FROM feature_names")}

    def _insert(self, table: str, df: pd.DataFrame, cols: list[str]) -> None:
        if df is not None and not df.empty:
            insert_columns(self._db, insert_head(table, cols), _sql_columns(df, cols))

    def _insert_rows(self, table: str, cols: list[str], rows: Iterable[tuple]) -> None:
        insert_rows(self._db, insert_head(table, cols), len(cols), rows)

    def _append(self, table: str, df: pd.DataFrame, cols: list[str]) -> None:
        self._insert(table, df, cols)

    def _append_notices(self, df: pd.DataFrame) -> None:
        if df is None or df.empty:
            return
        seq0 = self._db.execute("SELECT coalesce(max(seq), 0) FROM notices").fetchone()[0]
        df = df.copy()
        df["seq"] = range(seq0 + 1, seq0 + 1 + len(df))
        self._insert("notices", df, NOTICE_COLUMNS + ["seq"])

    def _upsert_state(self, df: pd.DataFrame) -> None:
        if df is None or df.empty:
            return
        cols = STATE_COLUMNS
        # Column by column (86k changed accounts at 1M: 1.2 -> 0.3 s), many rows to a statement.
        insert_columns(self._db, insert_head("account_state", cols, "INSERT OR REPLACE"), _sql_columns(df, cols))

    def _note_moved(self, account_ids: list[str] | None) -> None:
        """``state_moved`` after a write of these accounts' states or decisions (None: of any)."""
        made = self._has_moved()
        if not made:
            self._db.execute(_MOVED_SCHEMA)
        if account_ids is None or not made:
            self._db.execute("DELETE FROM state_moved")
            self._db.execute(f"INSERT INTO state_moved {_MOVED}")
            return
        self._fill_ids(account_ids)
        self._db.execute("DELETE FROM state_moved WHERE account_id IN (SELECT id FROM _ids)")
        self._db.execute(f"INSERT INTO state_moved {_MOVED} AND s.account_id IN (SELECT id FROM _ids)")

    def _has_moved(self) -> bool:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state_moved'"
        return self._db.execute(sql).fetchone() is not None

    def _moved_states(self) -> str:
        """FROM the account states ``state_moved`` can hold: its own, or all where it is not kept."""
        if self._has_moved():
            return "state_moved m JOIN account_state s ON s.account_id = m.account_id"
        return "account_state s"

    def sweeps(self) -> pd.DataFrame:
        df = self._frame(f"SELECT {', '.join(SWEEP_COLUMNS)} FROM sweeps ORDER BY finished_at DESC, sweep_id DESC")
        for c in ("summary", "diff"):
            df[c] = [_from_json(v) for v in df[c]]
        df["dry_run"] = df["dry_run"].astype(bool)
        return df

    # -- current results ---------------------------------------------------------------------
    def table(self, name: str, **where: Any) -> pd.DataFrame:
        cols, filters = result_filters(name, where)
        if filters is None:
            return pd.DataFrame(columns=cols)
        clauses: list[str] = []
        params: list[Any] = []
        for f in filters:
            if f.values is None:
                clauses.append(f"{f.column} IS NULL")
            else:
                clauses.append(f"{f.column} IN ({', '.join('?' * len(f.values))})")
                params.extend(stored_value(v) for v in f.values)
        sql = f"SELECT {', '.join(cols)} FROM {name}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if name not in _IMPLIED:
            return _decoded_json(self._frame(sql, params), self._feature_names)
        rows = self._db.execute(sql + " ORDER BY account_id", params).fetchall()  # as the full table had them
        by_id = next((f for f in filters if f.column == "account_id"), None)
        ids: list[str] | None = None
        if by_id is not None:
            if by_id.values is None:
                return _records(rows, cols)  # account_id IS NULL: no account
            ids = [str(stored_value(v)) for v in by_id.values if not is_missing(v)]
        matches = _matcher(cols, [f for f in filters if f.column != "account_id"])
        implied = [r for r in self._implied(name, ids) if matches(r)]
        if implied:
            rows = sorted(rows + implied, key=lambda r: r[0])  # the order of the full table
        return _records(rows, cols)

    def top_rings(self, min_score: float | None, limit: int | None, offset: int = 0) -> tuple[pd.DataFrame, int]:
        # From the score index: only the rows shown are read and decoded (a 1M-account workspace
        # has about 100k rings, and decoding their features and reasons took seconds).
        cols, _ = result_filters("rings", {})
        where, params = ("WHERE score >= ?", [float(min_score)]) if min_score is not None else ("", [])
        total = int(self._db.execute(f"SELECT count(*) FROM rings {where}", params).fetchone()[0])
        sql = (
            f"SELECT {', '.join(cols)} FROM rings {where} ORDER BY score DESC, exposure DESC, ring_id LIMIT ? OFFSET ?"
        )
        frame = self._frame(sql, [*params, -1 if limit is None else int(limit), int(offset)])
        return _decoded_json(frame, self._feature_names), total

    def decision_page(
        self, action: str | None, show_all: bool, limit: int | None, offset: int = 0
    ) -> tuple[pd.DataFrame, int]:
        # In force = the state's action / trigger where there is one (decisions.verdicts.in_force),
        # filtered, ordered and cut in the query: only the rows shown are decoded. The implied
        # decisions ("none", see the module docstring) are only read when the page reaches them.
        cols, _ = result_filters("decisions", {})
        end = None if limit is None else offset + int(limit)
        if action and action != "none" or not (action or show_all):
            rows, total = self._flagged(cols, action, end)
        elif not self._implies():
            rows, total = self._in_force(cols, action, end, flagged=False)
        else:
            rows, total = self._flagged_then_none(cols, action, end)
        cut = rows[offset:] if end is None else rows[offset:end]
        return _records(cut, cols), total

    def _in_force(
        self, cols: list[str], action: str | None, end: int | None, *, flagged: bool = True, held: bool = True
    ) -> tuple[list[tuple], int]:
        """Stored decisions in force (action ``action``, else all but "none" when ``flagged``), the
        first ``end`` in page order, and how many there are; with the accounts whose state holds
        an action over an implied decision (unless not ``held``)."""
        shown = [f"COALESCE(s.{c}, d.{c}) AS {c}" if c in ("action", "trigger") else f"d.{c} AS {c}" for c in cols]
        body = "FROM decisions d LEFT JOIN account_state s ON s.account_id = d.account_id"
        params: list[Any] = []
        if action:
            body += " WHERE COALESCE(s.action, d.action) = ?"
            params.append(action)
        elif flagged:
            body += " WHERE COALESCE(s.action, d.action) IS NOT 'none'"
        total = int(self._db.execute(f"SELECT count(*) {body}", params).fetchone()[0])
        rank = " ".join(f"WHEN '{a}' THEN {i}" for a, i in ACTION_ORDER.items())
        order = f"ORDER BY CASE COALESCE(s.action, d.action) {rank} ELSE {len(ACTION_ORDER)} END, d.score DESC, d.account_id"
        if end is None:
            rows = self._db.execute(f"SELECT {', '.join(shown)} {body} {order}", params).fetchall()
        else:  # the page's accounts from the keys alone, then only their rows (reasons and all)
            page = f"SELECT d.account_id {body} {order} LIMIT ?"
            sql = (
                f"SELECT {', '.join(shown)} FROM decisions d LEFT JOIN account_state s ON s.account_id = d.account_id "
                f"WHERE d.account_id IN ({page}) {order}"
            )
            rows = self._db.execute(sql, [*params, end]).fetchall()
        if not self._implies() or not held:
            return rows, total
        # Accounts whose decision is implied ("none") but whose state holds an action: in force.
        state = self._db.execute(
            "SELECT s.account_id, COALESCE(s.action, 'none'), COALESCE(s.trigger, 'none') "
            f"FROM {self._moved_states()} WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.account_id = s.account_id)"
        ).fetchall()
        force = {
            a: (act, trig) for a, act, trig in state if (act == action if action else act != "none" or not flagged)
        }
        extra = [(r[0], *force[r[0]], *r[3:]) for r in self._implied("decisions", list(force))]
        rows = sorted(rows + extra, key=_page_key)
        return rows[:end] if end is not None else rows, total + len(extra)

    def _flagged(self, cols: list[str], action: str | None, end: int | None) -> tuple[list[tuple], int]:
        """``_in_force`` for the flagged actions (or one action but "none"), from the index of
        decisions by action and score: the accounts whose state holds another action than their
        decision (few: holds, analysts' actions) are the only ones looked at one by one."""
        # How many decisions of each action: from an index of them by action, in one pass.
        per_action = dict(self._db.execute("SELECT action, count(*) FROM decisions GROUP BY action").fetchall())
        if not self._implies() or set(per_action) - set(ACTION_ORDER):  # another kind: the general query
            return self._in_force(cols, action, end)
        acts = [action] if action else [a for a in ACTION_ORDER if a != "none"]
        total = sum(per_action.get(a, 0) for a in acts)
        moved = self._db.execute(
            "SELECT s.account_id, COALESCE(s.action, 'none'), COALESCE(s.trigger, 'none'), d.action, d.score "
            f"FROM {self._moved_states()} LEFT JOIN decisions d ON d.account_id = s.account_id "
            "WHERE d.account_id IS NULL OR (s.action IS NOT NULL AND s.action IS NOT d.action)"
        ).fetchall()
        total -= sum(1 for m in moved if m[3] in acts)
        changed = {m[0]: m for m in moved if m[3] is not None and m[1] in acts}
        held = {m[0]: m for m in moved if m[3] is None and m[1] in acts}
        extra = [(r[0], *held[r[0]][1:3], *r[3:]) for r in self._implied("decisions", list(held))]
        keys = [_page_key((a, m[1], None, m[4])) for a, m in changed.items()] + [_page_key(r) for r in extra]
        skip = {m[0] for m in moved}
        for act in acts:  # each action's decisions in page order, from the index
            walk = "SELECT account_id, score FROM decisions WHERE action = ? ORDER BY score DESC, account_id"
            limit = sum(1 for m in moved if m[3] == act) + (end or 0)
            found = self._db.execute(walk + " LIMIT ?", [act, -1 if end is None else limit])
            keys += [_page_key((a, act, None, score)) for a, score in found if a not in skip][: end or None]
        keys.sort()
        page = [k[2] for k in (keys if end is None else keys[:end])]
        shown = [f"COALESCE(s.{c}, d.{c}) AS {c}" if c in ("action", "trigger") else f"d.{c} AS {c}" for c in cols]
        stored = self._rows_where(
            f"SELECT {', '.join(shown)} FROM decisions d LEFT JOIN account_state s ON s.account_id = d.account_id",
            "d.account_id",
            [a for a in page if a not in held],
        )
        shown_ids = set(page)
        rows = sorted(stored + [r for r in extra if r[0] in shown_ids], key=_page_key)
        return rows, total + len(changed) + len(extra)

    def _flagged_then_none(self, cols: list[str], action: str | None, end: int | None):
        """The page of ``decisions --all`` (``action`` None) or ``--action none``: the flagged
        decisions first, then those whose action in force is "none", stored or implied."""
        n_swept = int(self._db.execute("SELECT coalesce(sum(n), 0) FROM swept_accounts").fetchone()[0])
        if action is None and end is not None:
            rows, flagged = self._flagged(cols, None, end)
            if flagged >= end:  # the page holds flagged decisions only
                return rows, n_swept
        stored, _ = self._in_force(cols, action, None, flagged=False, held=False)
        state = {
            a: (act, trig)
            for a, act, trig in self._db.execute(
                "SELECT account_id, COALESCE(action, 'none'), COALESCE(trigger, 'none') FROM account_state"
            )
        }
        implied = [(r[0], *state.get(r[0], r[1:3]), *r[3:]) for r in self._implied("decisions", None)]
        rows = sorted(stored + [r for r in implied if not action or r[1] == action], key=_page_key)
        return (rows if end is None else rows[:end]), len(rows)

    def account_state(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        df = self._with_ids(
            f"SELECT {', '.join(STATE_COLUMNS)} FROM account_state",
            "account_id",
            account_ids,
            "ORDER BY account_id",
        )
        if df.empty:
            df = pd.DataFrame(columns=STATE_COLUMNS)
        df["manual"] = df["manual"].fillna(0).astype(bool)
        for c in ("credit_limit", "original_credit_limit"):
            df[c] = df[c].astype("float64")
        return df

    # -- logs --------------------------------------------------------------------------------
    def audit(self, account_id: str | None = None) -> pd.DataFrame:
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit"
        params: tuple = ()
        if account_id is not None:
            sql += " WHERE account_id = ?"
            params = (account_id,)
        return self._frame(sql + " ORDER BY audit_id", params)

    def audit_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM audit").fetchone()[0])

    def audit_mark(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(audit_id), 0) FROM audit").fetchone()[0])

    def acted_after(self, mark: int) -> list[str]:
        sql = "SELECT DISTINCT account_id FROM audit WHERE audit_id > ? ORDER BY account_id"
        return [r[0] for r in self._db.execute(sql, (int(mark),))]

    def accounts_acted_since(self, at: str, sweep_id: str) -> list[str]:
        """Accounts with an audit row at or after ``at`` (ISO time) not written by sweep ``sweep_id``:
        what analysts and applied checks changed since that sweep started."""
        rows = self._db.execute(
            "SELECT DISTINCT account_id FROM audit WHERE at >= ? AND coalesce(sweep_id, '') != ?",
            (str(pd.Timestamp(at).isoformat()), str(sweep_id)),
        ).fetchall()
        return sorted(r[0] for r in rows)

    def notices(self, since_sweep: str | None = None) -> pd.DataFrame:
        sql = f"SELECT {', '.join(NOTICE_COLUMNS)} FROM notices"
        params: tuple = ()
        if since_sweep is not None:
            row = self._db.execute("SELECT finished_at FROM sweeps WHERE sweep_id = ?", (since_sweep,)).fetchone()
            if row is None:
                from fraudgraph.errors import NotFoundError

                raise NotFoundError(f"no sweep {since_sweep!r} in {self.path}; see `fraudgraph sweeps`")
            sql += (
                " WHERE sweep_id IN (SELECT sweep_id FROM sweeps WHERE finished_at > ? OR (finished_at = ? AND sweep_id > ?))"
                " OR (sweep_id IS NULL AND created_at > ?)"
            )
            params = (row[0], row[0], since_sweep, row[0])
        return self._frame(sql + " ORDER BY seq", params)

    def reviews(self) -> pd.DataFrame:
        return self._frame(f"SELECT {', '.join(REVIEW_COLUMNS)} FROM reviews ORDER BY review_id")

    # -- analyst actions -------------------------------------------------------------------
    def apply_manual(self, *, state, audit, review=None, label=None, notices=None) -> None:
        with self._transaction():
            self._upsert_state(state)
            if ids := _state_ids(state):
                self._note_moved(ids)
            self._append("audit", audit, AUDIT_COLUMNS)
            self._append_notices(notices)
            if review is not None:
                self._db.execute(
                    f"INSERT INTO reviews ({', '.join(REVIEW_COLUMNS)}) VALUES ({', '.join('?' * len(REVIEW_COLUMNS))})",
                    [stored_value(review.get(c)) for c in REVIEW_COLUMNS],
                )
            if label is not None:
                self._db.execute(
                    "UPDATE accounts SET analyst_label = ?, analyst_label_set = 1 WHERE account_id = ?",
                    (label[1], label[0]),
                )
                # A label is data detection reads: the next sweep must not reuse the last detection.
                self._db.execute(
                    "INSERT INTO meta VALUES ('labels_version', '1') ON CONFLICT(key) "
                    "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                version = self._db.execute("SELECT value FROM meta WHERE key = 'labels_version'").fetchone()[0]
                changes.record(self._db, "label", int(version), [label[0]], [])


def _found_at(held: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``wanted`` is or would go in the sorted ``held`` (``np.searchsorted``), and
    whether it is there."""
    at = np.searchsorted(held, wanted)
    if not len(held):
        return at, np.zeros(len(wanted), dtype=bool)
    return at, (at < len(held)) & (held[np.minimum(at, len(held) - 1)] == wanted)


def _named(features: Any) -> tuple[tuple[str, ...], list | tuple] | None:
    """A ring's features as (names, values) when ``_compact`` stores them by their names' row:
    a detection's row (``NamedRow``) or a non-empty dict; None for anything else."""
    if isinstance(features, NamedRow) and features.names:
        return features.names, features.cells
    if isinstance(features, dict) and features:
        return tuple(features), list(features.values())
    return None


def _compact(df: pd.DataFrame | None, names_id: Callable[[tuple[str, ...]], int]) -> pd.DataFrame | None:
    """``df`` with its ``features`` (when it has them) as ``[names_id, value, ...]`` JSON text,
    ``names_id`` giving each distinct list of names its ``feature_names`` row."""
    if df is None or "features" not in df.columns or df.empty:
        return df
    ids: dict[tuple[str, ...], int] = {}
    texts = []
    for features in df["features"].tolist():
        named = _named(features)
        if named is None:
            texts.append(features if isinstance(features, str) else _to_json(features))
            continue
        names, values = named
        at = ids.get(names)
        if at is None:
            at = ids[names] = names_id(names)
        texts.append(_to_json([at, *values]))
    return df.assign(features=texts)


def _feature_name_lists(df: pd.DataFrame | None) -> set[tuple[str, ...]]:
    """The distinct lists of feature names ``_compact`` registers for ``df``."""
    if df is None or "features" not in df.columns:
        return set()
    return {named[0] for f in df["features"].tolist() if (named := _named(f)) is not None}


def _sql_columns(df: pd.DataFrame, cols: list[str]) -> list[list]:
    """``df``'s columns ``cols`` as lists of sqlite3 values (a column ``df`` lacks is NULLs)."""
    return [_sql_values(df[c], json_text=c in _JSON_COLUMNS) if c in df.columns else [None] * len(df) for c in cols]


def _sql_rows(df: pd.DataFrame | None, cols: list[str]) -> Iterator[tuple]:
    """``df``'s rows as sqlite3 values in the order of ``cols`` (a column ``df`` lacks is NULL)."""
    if df is None or df.empty:
        return iter(())
    return zip(*_sql_columns(df, cols))


def _by_key(rows: list[tuple], at: int) -> dict[Any, Counter]:
    """Rows grouped by their value at ``at``, each group as a multiset (rows may hold NULLs)."""
    groups: dict[Any, Counter] = {}
    for row in rows:
        groups.setdefault(row[at], Counter())[row] += 1
    return groups


def _sql_values(col: pd.Series, *, json_text: bool = False) -> list:
    """A column as plain Python values for sqlite3, vectorized where the dtype allows."""
    if json_text:
        # Most accounts have no reasons: an empty list is the same text every time.
        return [
            v if isinstance(v, str) else ("[]" if isinstance(v, list) and not v else _to_json(v)) for v in col.tolist()
        ]
    if pd.api.types.is_bool_dtype(col):
        return col.astype("int64").tolist()
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(object).where(col.notna(), None).tolist()
    if pd.api.types.is_datetime64_any_dtype(col):
        # Each distinct time spelled once: a sweep's state, audit and notice rows all carry its
        # one time (217k rows at 1M accounts: 0.9 s of Timestamps made and spelled one by one).
        codes, distinct = pd.factorize(col)  # NaT: code -1, the None at the end
        return np.array([v.isoformat() for v in distinct] + [None], dtype=object)[codes].tolist()
    if pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        # Ids and codes: text as it is, missing as NULL (what stored_value gives, without a call per value).
        return sql_texts(col)
    return [stored_value(v) for v in col.tolist()]


def sql_texts(col: pd.Series) -> list:
    """A text column as Python strings, missing -> None (NULL); straight from its Arrow strings
    when it has them (pandas' ``str``), without the object array ``tolist`` goes through first.
    The load's text columns and the sweep's result columns both go to SQLite through it."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        return pa.array(col.array).to_pylist()
    return col.astype(object).where(col.notna(), None).tolist()
