"""The SQLite workspace's sweep results, logs and analyst actions: what a sweep writes (rings,
scores, decisions, state, audit, notices) and how the result tables are read back.

A mixin of ``SqliteWorkspace`` (``store.py``, which holds the loaded data tables): it uses the
workspace's connection (``self._db``), ``_transaction``, ``_frame`` and ``_with_ids``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pandas as pd

from fraudgraph.workspace.base import (
    ACTION_ORDER,
    AUDIT_COLUMNS,
    NOTICE_COLUMNS,
    RESULT_COLUMNS as _RESULT_COLUMNS,
    REVIEW_COLUMNS,
    STATE_COLUMNS,
    SWEEP_COLUMNS,
    SweepRecord,
    from_json as _from_json,
    result_filters,
    stored_value,
    to_json as _to_json,
)

_JSON_COLUMNS = {"features", "reasons", "raw_values", "summary", "diff"}


def _decoded_json(df: pd.DataFrame) -> pd.DataFrame:
    """A frame read from SQL with its JSON text columns (``_JSON_COLUMNS``) decoded."""
    for c in df.columns:
        if c in _JSON_COLUMNS:
            df[c] = [_from_json(v) for v in df[c]]
    return df


class SqliteResults:
    """Sweep results, logs and analyst actions of a ``SqliteWorkspace``."""

    _db: Any
    path: Any

    if TYPE_CHECKING:  # provided by SqliteWorkspace

        def _transaction(self, immediate: bool = True) -> AbstractContextManager: ...

        def _frame(self, sql: str, params: Iterable = (), columns: list[str] | None = None) -> pd.DataFrame: ...

        def _with_ids(self, sql: str, column: str, account_ids: list[str] | None, order: str) -> pd.DataFrame: ...

    def next_ring_number(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='next_ring_number'").fetchone()
        return int(row[0]) if row else 1

    def save_sweep(self, record: SweepRecord) -> None:
        with self._transaction():
            for name in _RESULT_COLUMNS:
                df = record.tables.get(name)
                if df is None:
                    continue
                cols = _RESULT_COLUMNS[name]
                self._db.execute(f"DELETE FROM {name}")
                self._insert(name, df, cols)
            self._upsert_state(record.state)
            self._append("audit", record.audit, AUDIT_COLUMNS)
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

    def _insert(self, table: str, df: pd.DataFrame, cols: list[str]) -> None:
        if df is None or df.empty:
            return
        data = [_sql_values(df[c], json_text=c in _JSON_COLUMNS) if c in df.columns else [None] * len(df) for c in cols]
        self._db.executemany(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", zip(*data)
        )

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
        self._db.executemany(
            f"INSERT OR REPLACE INTO account_state ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            zip(*[[stored_value(v) for v in df[c].tolist()] for c in cols]),
        )

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
        return _decoded_json(self._frame(sql, params))

    def top_rings(self, min_score: float | None, limit: int | None, offset: int = 0) -> tuple[pd.DataFrame, int]:
        # From the score index: only the rows shown are read and decoded (a 1M-account workspace
        # has about 100k rings, and decoding their features and reasons took seconds).
        cols, _ = result_filters("rings", {})
        where, params = ("WHERE score >= ?", [float(min_score)]) if min_score is not None else ("", [])
        total = int(self._db.execute(f"SELECT count(*) FROM rings {where}", params).fetchone()[0])
        sql = (
            f"SELECT {', '.join(cols)} FROM rings {where} ORDER BY score DESC, exposure DESC, ring_id LIMIT ? OFFSET ?"
        )
        return _decoded_json(self._frame(sql, [*params, -1 if limit is None else int(limit), int(offset)])), total

    def decision_page(
        self, action: str | None, show_all: bool, limit: int | None, offset: int = 0
    ) -> tuple[pd.DataFrame, int]:
        # In force = the state's action / trigger where there is one (decisions.verdicts.in_force),
        # filtered, ordered and cut in the query: only the rows shown are decoded.
        cols, _ = result_filters("decisions", {})
        shown = [f"COALESCE(s.{c}, d.{c}) AS {c}" if c in ("action", "trigger") else f"d.{c} AS {c}" for c in cols]
        body = "FROM decisions d LEFT JOIN account_state s ON s.account_id = d.account_id"
        params: list[Any] = []
        if action:
            body += " WHERE COALESCE(s.action, d.action) = ?"
            params.append(action)
        elif not show_all:
            body += " WHERE COALESCE(s.action, d.action) IS NOT 'none'"
        total = int(self._db.execute(f"SELECT count(*) {body}", params).fetchone()[0])
        rank = " ".join(f"WHEN '{a}' THEN {i}" for a, i in ACTION_ORDER.items())
        sql = (
            f"SELECT {', '.join(shown)} {body} "
            f"ORDER BY CASE COALESCE(s.action, d.action) {rank} ELSE {len(ACTION_ORDER)} END, "
            "d.score DESC, d.account_id LIMIT ? OFFSET ?"
        )
        return _decoded_json(self._frame(sql, [*params, -1 if limit is None else int(limit), int(offset)])), total

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

    def notices(self, since_sweep: str | None = None) -> pd.DataFrame:
        sql = f"SELECT {', '.join(NOTICE_COLUMNS)} FROM notices"
        params: tuple = ()
        if since_sweep is not None:
            row = self._db.execute("SELECT finished_at FROM sweeps WHERE sweep_id = ?", (since_sweep,)).fetchone()
            if row is None:
                from fraudgraph.errors import NotFoundError

                raise NotFoundError(f"no sweep {since_sweep!r} in {self.path}; see `fraudgraph sweeps`")
            sql += " WHERE sweep_id IN (SELECT sweep_id FROM sweeps WHERE finished_at > ? OR (finished_at = ? AND sweep_id > ?))"
            params = (row[0], row[0], since_sweep)
        return self._frame(sql + " ORDER BY seq", params)

    def reviews(self) -> pd.DataFrame:
        return self._frame(f"SELECT {', '.join(REVIEW_COLUMNS)} FROM reviews ORDER BY review_id")

    # -- analyst actions -------------------------------------------------------------------
    def apply_manual(self, *, state, audit, review=None, label=None) -> None:
        with self._transaction():
            self._upsert_state(state)
            self._append("audit", audit, AUDIT_COLUMNS)
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
        return [None if pd.isna(v) else v.isoformat() for v in col]
    return [stored_value(v) for v in col.tolist()]
