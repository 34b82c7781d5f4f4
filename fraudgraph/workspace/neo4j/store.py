"""The Neo4j workspace: the same frames as the SQLite workspace, stored as a property graph over Bolt.

Every statement is a named file under ``cypher/`` (see ``fraudgraph.workspace.neo4j.queries``); values travel only
as parameters, bulk writes as ``UNWIND $rows`` batches inside one transaction (``load``), or in
batches that each commit (``load_batched``), or read by the server from files (``load_csv``,
``LOAD CSV ... CALL { } IN TRANSACTIONS``). Bulk reads are keyset pages. The driver is created by
the caller (``connect`` for the CLI) and injected.

Graph model::

    (:Account {account_id, created_at, credit_limit, balance, overdue_days, status, label,
               properties, analyst_label, analyst_label_set})
    (:Account)-[:USES {value, first_seen}]->(:Identifier {kind, key, raw_values, n_accounts})
    (:Account)-[:OBSERVED]->(:UnlinkedValue {account_id, kind, value, first_seen})   key is None
    (:Account)-[:PAID {txn_id, account_id, counterparty, counterparty_kind, amount, ts, status}]
        ->(:Account | :Merchant {merchant_id} | :ExternalAccount {account_id})
    (:Account)-[:MEMBER_OF {seq}]->(:Ring {gen, ring_id, seq, size, score, exposure, features, reasons})
    (:Ring)-[:SHARES {seq, n_members, n_accounts, raw_values}]->(:Identifier)
    (:AccountScore {gen, ...}) (:Hub {gen, ...}) (:Decision {gen, ...}) (:SweptPart {gen, part, first_id,
    n, ids, credit_limits}) (:AccountState) (:AuditEntry) (:Notice) (:Review)
    (:Sweep) (:Load) (:Meta {key, value}) (:Lock {name, owner, token, since, expires_at})

Sweep results are generations. Every result row carries the generation (``gen``) of the sweep
that wrote it, and ``(:Meta {key: 'results.<table>'})`` says which generation each table reads
(tables: rings, with their MEMBER_OF and SHARES; account_scores; hubs; decisions; swept, the
accounts of the sweep). A sweep writes its rows in batches, each its own transaction, under a new
generation no read looks at, then switches the pointers in one last small transaction (with the
state, audit, notices and sweep record); the previous generation's rows are deleted after that,
in batches (``results.stale`` lists what is left to delete). A reader sees one sweep or the
other, and a write that fails half-way leaves the previous sweep current.

Implied rows (``workspace.base``): ``account_scores`` and ``decisions`` store only the rows that
are not default; the sweep's accounts and their credit limits at the sweep are kept in
``(:SweptPart)`` nodes of ``_SWEPT_PART`` accounts sorted by id (ids as JSON text, limits as
the base64 of their float64 bytes), and every read gives back the default rows of the accounts
without a stored row, so the frames are those a full table gave.

A value that carries no identity gets its own ``UnlinkedValue`` node per account, so it can
never connect two accounts. Lists and dicts of result rows are JSON text, as in SQLite.
"""

from __future__ import annotations

import base64
import bisect
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fraudgraph.errors import NotFoundError, WorkspaceError
from fraudgraph.model.frames import (
    ACCOUNT_COLUMNS,
    ACTIONS,
    LINK_COLUMNS,
    TRANSACTION_COLUMNS,
)
from fraudgraph.model.merge import merge_links, merge_rows
from fraudgraph.model.values import utc_now_text
from fraudgraph.workspace.base import (
    AUDIT_COLUMNS,
    NOTICE_COLUMNS,
    RESULT_COLUMNS as _RESULT_COLUMNS,
    REVIEW_COLUMNS,
    STATE_COLUMNS,
    SWEEP_COLUMNS,
    CheckLookup,
    ColumnFilter,
    LoadSummary,
    Progress,
    SweepRecord,
    Workspace,
    from_json as _from_json,
    hold_back,
    result_filters,
    sparse_tables,
    stored_value,
    to_json as _to_json,
)
from fraudgraph.workspace.neo4j.lock import native, node_lock
from fraudgraph.workspace.neo4j.queries import QueryLibrary, load_queries

__all__ = ["Neo4jWorkspace", "connect", "SCHEMA_VERSION"]

log = logging.getLogger("fraudgraph")

SCHEMA_VERSION = 2  # 2: result rows in generations (1: one set of rows, unique per account / ring)
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

# Column types of the stored result and log tables, the same affinities as the SQLite tables,
# so both backends hand back equal frames: text, real (float), int, bool, json (text holding
# a list or dict), list (a list of strings kept as a native Neo4j list).
_TYPES: dict[str, dict[str, str]] = {
    "rings": {
        "ring_id": "text",
        "size": "int",
        "score": "real",
        "exposure": "real",
        "features": "json",
        "reasons": "json",
    },
    "ring_members": {"ring_id": "text", "account_id": "text"},
    "ring_identifiers": {
        "ring_id": "text",
        "kind": "text",
        "key": "text",
        "n_members": "int",
        "n_accounts": "int",
        "raw_values": "list",
    },
    "account_scores": {"account_id": "text", "score": "real", "ring_id": "text", "reasons": "json"},
    "hubs": {"kind": "text", "key": "text", "n_accounts": "int", "reason": "text"},
    "decisions": {
        "account_id": "text",
        "action": "text",
        "trigger": "text",
        "score": "real",
        "ring_id": "text",
        "reasons": "json",
        "credit_limit": "real",
        "new_credit_limit": "real",
        "evidence": "text",
    },
    "account_state": {
        "account_id": "text",
        "action": "text",
        "trigger": "text",
        "status": "text",
        "credit_limit": "real",
        "original_credit_limit": "real",
        "manual": "bool",
        "evidence": "text",
        "updated_at": "text",
        "sweep_id": "text",
    },
    "audit": {
        **{c: "text" for c in AUDIT_COLUMNS},
        "previous_limit": "real",
        "new_limit": "real",
        "score": "real",
    },
    "notices": {c: "text" for c in NOTICE_COLUMNS},
    "reviews": {c: "text" for c in REVIEW_COLUMNS},
    "sweeps": {
        "sweep_id": "text",
        "started_at": "text",
        "finished_at": "text",
        "as_of": "text",
        "seed": "int",
        "engine": "text",
        "policy_hash": "text",
        "dry_run": "bool",
        "summary": "json",
        "diff": "json",
    },
}
# Tables whose rows keep the order the sweep wrote them in (a seq property); the others are
# keyed and read back by account_id.
_SEQUENCED = {"rings", "ring_members", "ring_identifiers", "hubs"}
# The tables whose rows are generations (see the module docstring), as Meta results.<key> names
# them; the ring group (rings, ring_members, ring_identifiers) is one: memberships hang off rings.
_GEN_KEYS = ("rings", "account_scores", "hubs", "decisions", "swept")
_RING_GROUP = ("rings", "ring_members", "ring_identifiers")
_NO_GEN = -1  # no generation: no sweep wrote the table yet (no row has it)
_SWEPT_PART = 2048  # accounts per (:SweptPart)
# The values every default row has (workspace.base): a filter they fail implies no row.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "account_scores": {"score": 0.0, "ring_id": None, "reasons": "[]"},
    "decisions": {"action": "none", "trigger": "none", "new_credit_limit": None, "evidence": ""},
}


def _gen_key(name: str) -> str:
    return "rings" if name in _RING_GROUP else name


def _swept_rows(swept: pd.DataFrame) -> list[dict[str, Any]]:
    """The sweep's accounts (by id) as (:SweptPart) rows."""
    ids = swept["account_id"].astype(str).tolist()
    limits = pd.to_numeric(swept["credit_limit"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    return [
        {
            "part": part,
            "first_id": ids[start],
            "n": len(ids[start : start + _SWEPT_PART]),
            "ids": _to_json(ids[start : start + _SWEPT_PART]),
            "credit_limits": base64.b64encode(limits[start : start + _SWEPT_PART].tobytes()).decode(),
        }
        for part, start in enumerate(range(0, len(ids), _SWEPT_PART))
    ]


def _swept_part(row: dict[str, Any]) -> tuple[list[str], list[float | None]]:
    values = np.frombuffer(base64.b64decode(row["credit_limits"]), dtype=np.float64)
    return json.loads(row["ids"]), [None if v != v else v for v in values.tolist()]


def _matcher(filters: list[ColumnFilter], types: dict[str, str]):
    """Whether a row (a dict as a read returns it) passes ``table``'s filters, as the query would."""
    tests = [(f.column, None if f.values is None else [_coerce(v, types[f.column]) for v in f.values]) for f in filters]

    def matches(row: dict[str, Any]) -> bool:
        for column, values in tests:
            v = row[column]
            if (v is not None) if values is None else (v is None or v not in values):
                return False
        return True

    return matches


# -- value conversion ------------------------------------------------------------------------
def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, (float, np.floating)) and math.isnan(v)


def _coerce(v: Any, kind: str) -> Any:
    """One stored value, in the type its column holds (the SQLite column's affinity)."""
    if kind == "json":
        if isinstance(v, str):
            return v
        return None if _is_missing(v) and not isinstance(v, (list, dict)) else _to_json(v)
    if kind == "list":
        if isinstance(v, str):
            v = json.loads(v)
        if v is None or (not isinstance(v, (list, tuple, np.ndarray)) and _is_missing(v)):
            return None
        return [str(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    v = stored_value(v)
    if v is None:
        return None
    if kind == "real":
        return float(v) if isinstance(v, (int, float)) else v
    if kind == "int":
        return int(v) if isinstance(v, (bool, int)) or (isinstance(v, float) and v.is_integer()) else v
    if kind == "bool":
        return bool(v)
    if kind == "text":
        return v if isinstance(v, str) else str(int(v) if isinstance(v, bool) else v)
    raise ValueError(f"unknown column type {kind!r}")


def _rows(df: pd.DataFrame | None, types: dict[str, str], columns: Sequence[str]) -> list[dict]:
    """A frame as Neo4j parameter rows: one dict per row, only the given columns, typed."""
    if df is None or len(df) == 0:
        return []
    data = {}
    for c in columns:
        values = df[c].tolist() if c in df.columns else [None] * len(df)
        kind = types[c]
        data[c] = [_coerce(v, kind) for v in values]
    return [dict(zip(data, vals)) for vals in zip(*data.values())]


def _naive_us(s: pd.Series) -> np.ndarray:
    """A datetime column as naive UTC datetime64[ns] at microseconds: what the driver stores."""
    values = pd.to_datetime(s)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]").dt.floor("us").to_numpy()


def _py_datetimes(s: pd.Series) -> list:
    """datetime64 column -> naive Python datetimes (microseconds) or None, for the driver."""
    if len(s) == 0:
        return []
    return _naive_us(s).astype("datetime64[us]").astype(object).tolist()


def _datetimes(values: Iterable) -> pd.Series:
    """Temporal values from the driver (neo4j.time.DateTime / datetime / None) -> datetime64[ns]."""
    times = [native(v) for v in values]
    return pd.Series(pd.to_datetime(times), dtype="datetime64[ns]") if times else pd.Series([], dtype="datetime64[ns]")


def _floats(values: Iterable) -> pd.Series:
    return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Frame rows as parameter dicts of plain Python values: datetimes (microseconds) for times,
    None for NaN / NaT / NA, never numpy or pandas scalars the driver may not know."""
    columns = {}
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            columns[c] = _py_datetimes(df[c])
        else:
            columns[c] = [
                None
                if _is_missing(v)
                else stored_value(v)
                if isinstance(v, np.generic)
                else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
                for v in df[c].tolist()
            ]
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _batches(rows: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def _account_rows(acc: pd.DataFrame) -> pd.DataFrame:
    """The extract's accounts as the (:Account) properties a load stores."""
    return pd.DataFrame(
        {
            "account_id": acc["account_id"].astype(str).to_numpy(),
            "created_at": _naive_us(acc["created_at"]),
            "credit_limit": acc["credit_limit"].astype("float64").to_numpy(),
            "balance": acc["balance"].astype("float64").to_numpy(),
            "overdue_days": acc["overdue_days"].fillna(0).astype("int64").to_numpy(),
            "status": acc["status"].astype(object).to_numpy(),
            "label": [None if (_is_missing(v) or v == "") else v for v in acc["label"].tolist()],
            "properties": acc["properties"].to_numpy() if "properties" in acc else ["{}"] * len(acc),
        },
        columns=ACCOUNT_COLUMNS,
    )


def _observations(links: pd.DataFrame) -> pd.DataFrame:
    """The extract's link observations, one per (account_id, kind, value) with its earliest sighting."""
    new = links[LINK_COLUMNS].copy()
    new["key"] = [None if _is_missing(k) else k for k in new["key"].tolist()]
    new["first_seen"] = pd.to_datetime(new["first_seen"]).astype("datetime64[ns]").dt.floor("us")
    # The same observation twice in one extract: keep its earliest sighting.
    new = (
        new.groupby(["account_id", "kind", "value"], sort=False, dropna=False)
        .agg(key=("key", "last"), first_seen=("first_seen", "min"))
        .reset_index()
    )
    new["key"] = new["key"].astype(object).where(new["key"].notna(), None)
    return new


def _payment_rows(txns: pd.DataFrame) -> pd.DataFrame:
    """The extract's transactions as PAID properties, one per txn_id (the last row wins)."""
    new = pd.DataFrame(
        {
            "txn_id": txns["txn_id"].astype(str).to_numpy(),
            "account_id": txns["account_id"].astype(str).to_numpy(),
            "counterparty": txns["counterparty"].astype(str).to_numpy(),
            "counterparty_kind": txns["counterparty_kind"].astype(object).to_numpy(),
            "amount": txns["amount"].astype("float64").to_numpy(),
            "ts": _naive_us(txns["timestamp"]),
            "status": txns["status"].astype(object).to_numpy(),
        }
    )
    return new.drop_duplicates("txn_id", keep="last").reset_index(drop=True)


# A first load through server-read files: each statement and the file it reads, in order.
_CSV_STEPS = (
    ("load/csv_accounts", "accounts.csv"),
    ("load/csv_identifiers", "identifiers.csv"),
    ("load/csv_uses", "uses.csv"),
    ("load/csv_unlinked_values", "unlinked.csv"),
    ("load/csv_refresh_identifiers", "identifiers.csv"),
    ("load/csv_payments_to_accounts", "payments_accounts.csv"),
    ("load/csv_payments_to_merchants", "payments_merchants.csv"),
    ("load/csv_payments_to_external_accounts", "payments_external_accounts.csv"),
)


def _csv(df: pd.DataFrame, path: Path) -> int:
    """Write ``df`` as a load-ready CSV: times as ISO local date-times to the microsecond, a
    missing value as an empty field, floats as their shortest exact text."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    out.to_csv(path, index=False, encoding="utf-8")
    return len(out)


def _write_load_csvs(dataset, folder: Path, summary: LoadSummary) -> dict[str, int]:
    """The extract as the files ``_CSV_STEPS`` read; rows per file. Fills in the summary's counts
    (a first load: every row is new)."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts = _account_rows(dataset.accounts)
    obs = _observations(dataset.links) if len(dataset.links) else _empty([*LINK_COLUMNS])
    keyed, unlinked = obs[obs["key"].notna()], obs[obs["key"].isna()]
    txns = getattr(dataset, "transactions", None)
    pay = _payment_rows(txns) if txns is not None and len(txns) else _payment_rows(_empty(TRANSACTION_COLUMNS))
    to_account = (pay["counterparty_kind"] == "account").to_numpy()
    known = to_account & pay["counterparty"].isin(set(accounts["account_id"])).to_numpy()
    files = {
        "accounts.csv": _csv(accounts, folder / "accounts.csv"),
        "identifiers.csv": _csv(keyed[["kind", "key"]].drop_duplicates(), folder / "identifiers.csv"),
        "uses.csv": _csv(keyed[["account_id", "kind", "key", "value", "first_seen"]], folder / "uses.csv"),
        "unlinked.csv": _csv(unlinked[["account_id", "kind", "value", "first_seen"]], folder / "unlinked.csv"),
        "payments_accounts.csv": _csv(pay[known], folder / "payments_accounts.csv"),
        "payments_merchants.csv": _csv(pay[~to_account], folder / "payments_merchants.csv"),
        "payments_external_accounts.csv": _csv(pay[to_account & ~known], folder / "payments_external_accounts.csv"),
    }
    summary.accounts_new, summary.links_new, summary.transactions_new = len(accounts), len(obs), len(pay)
    return files


def _cuts(keys: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Row ranges of about ``size`` rows over sorted ``keys``, never splitting a run of equal keys."""
    out: list[tuple[int, int]] = []
    start, n = 0, len(keys)
    while start < n:
        end = min(start + size, n)
        if end < n:
            end = int(np.searchsorted(keys, keys[end - 1], side="right"))
        out.append((start, end))
        start = end
    return out


def _by_account(df: pd.DataFrame, size: int, phase: str) -> list[tuple[str, pd.DataFrame]]:
    """Batches of about ``size`` rows of ``df``, all rows of one account_id in the same batch."""
    df = df.sort_values("account_id", kind="stable").reset_index(drop=True)
    keys = df["account_id"].astype(str).to_numpy()
    return [(phase, df.iloc[a:b]) for a, b in _cuts(keys, size)]


def _batch_plan(
    accounts: pd.DataFrame, links: pd.DataFrame, txns: pd.DataFrame, size: int
) -> list[tuple[str, pd.DataFrame]]:
    """A batched load's batches, in order: accounts, then links and transactions by account.

    Transactions are deduplicated by txn_id over the whole extract first (the last row wins,
    as in a one-transaction load), so no id is in two batches."""
    plan = [("accounts", accounts.iloc[a : a + size]) for a in range(0, len(accounts), size)]
    plan += _by_account(links, size, "links")
    if len(txns):
        plan += _by_account(txns.drop_duplicates("txn_id", keep="last"), size, "transactions")
    return plan


_COUNTS = (
    "accounts_new",
    "accounts_updated",
    "links_new",
    "links_updated",
    "transactions_new",
    "transactions_updated",
)


def _added(total: LoadSummary, part: LoadSummary, *, into: bool = False) -> LoadSummary:
    """``total`` plus the counts of ``part``: a copy, or ``total`` itself with ``into``."""
    out = total if into else LoadSummary(source=total.source, config=total.config, seconds=total.seconds)
    for name in _COUNTS:
        setattr(out, name, getattr(total, name) + getattr(part, name))
    return out


def _batched_summary(summary: LoadSummary, batches: int, done: int, *, complete: bool = False) -> str:
    """A batched load's record: its counts so far and how many of its batches committed."""
    return _to_json(summary.as_dict() | {"batched": {"batches": batches, "committed": done, "complete": complete}})


class Neo4jWorkspace(Workspace):
    """A workspace in a Neo4j 5 database (or any server speaking Bolt and Neo4j 5 Cypher).

    Parameters
    ----------
    driver : a ``neo4j.Driver`` created by the caller (the workspace never creates one).
    database : the database to use; None for the server's default.
    batch_size : rows per ``UNWIND $rows`` statement, and accounts per page when reading.
    lock_ttl : seconds a sweep lock lives without a heartbeat; a crashed sweep's lock is taken
        over after it expires. The holder renews it every third of that.
    location : how messages name the workspace (``connect`` passes "URI, database D").
    """

    backend = "neo4j"

    def __init__(
        self,
        driver,
        database: str | None = None,
        *,
        batch_size: int = 5000,
        lock_ttl: float = 600.0,
        location: str | None = None,
        queries: QueryLibrary | None = None,
        _owns_driver: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if lock_ttl <= 0:
            raise ValueError(f"lock_ttl must be > 0 seconds, got {lock_ttl!r}")
        self._driver = driver
        self.database = database
        self.batch_size = int(batch_size)
        self.lock_ttl = float(lock_ttl)
        self.location = location or f"Neo4j database {database or '(default)'}"
        self._queries = queries if queries is not None else load_queries()
        self._owns_driver = _owns_driver
        self._ensure_schema()

    # -- running named queries -------------------------------------------------------------
    def _query(self, name: str, params: dict[str, Any]):
        query = self._queries[name]
        return query, query.check(params)

    def _fail(self, name: str, error: Exception) -> WorkspaceError:
        import neo4j.exceptions as nx

        if isinstance(error, nx.AuthError):
            return WorkspaceError(f"{self.location}: the server refused our credentials ({error.message})")
        if isinstance(error, (nx.ServiceUnavailable, nx.SessionExpired)):
            return WorkspaceError(f"{self.location}: lost the connection to the server while running {name}: {error}")
        if isinstance(error, nx.Neo4jError):
            return WorkspaceError(f"{self.location}: query {name} failed: {error.code}: {error.message}")
        return WorkspaceError(f"{self.location}: query {name} failed: {error}")

    def run_query(self, name: str, /, *, write: bool = False, **params: Any) -> list[dict[str, Any]]:
        """Run one named query in its own transaction; its rows as dicts.

        Used by ``fraudgraph.workspace.neo4j.gds`` for the GDS calls; the workspace methods use it too.
        """
        import neo4j
        import neo4j.exceptions as nx

        query, checked = self._query(name, params)
        try:
            result = self._driver.execute_query(
                query.text,
                parameters_=checked,
                database_=self.database,
                routing_=neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ,
            )
        except (nx.Neo4jError, nx.DriverError) as e:
            raise self._fail(name, e) from e
        return [dict(zip(result.keys, record.values())) for record in result.records]

    def _frame(self, name: str, columns: Sequence[str] | None = None, /, **params: Any) -> pd.DataFrame:
        return self._frame_of(self.run_query(name, **params), columns)

    def _paged(self, name: str, key: str, /, **params: Any) -> list[dict[str, Any]]:
        """Every row of a keyset-paged read (``WHERE key > $after ... ORDER BY key LIMIT $limit``),
        ``batch_size`` rows a statement, so no result holds a whole table."""
        rows: list[dict[str, Any]] = []
        after: Any = -1 if key == "seq" else ""
        while True:
            page = self.run_query(name, after=after, limit=self.batch_size, **params)
            rows.extend(page)
            if len(page) < self.batch_size:
                return rows
            after = page[-1][key]

    @staticmethod
    def _frame_of(rows: list[dict[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
        if not rows:
            return _empty(columns or [])
        df = pd.DataFrame.from_records([tuple(r.values()) for r in rows], columns=list(rows[0]))
        return df if columns is None else df[list(columns)]

    @contextmanager
    def _transaction(self):
        """One explicit write transaction: every statement in it lands, or none does."""
        import neo4j.exceptions as nx

        session = self._driver.session(database=self.database)
        tx = None
        current = ["begin"]
        try:
            tx = session.begin_transaction()

            def run(name: str, /, **params: Any) -> list[dict[str, Any]]:
                current[0] = name
                query, checked = self._query(name, params)
                result = tx.run(query.text, checked)
                keys = list(result.keys())
                return [dict(zip(keys, record.values())) for record in result]

            yield run
            current[0] = "commit"
            tx.commit()
        except (nx.Neo4jError, nx.DriverError) as e:
            self._rollback(tx)
            raise self._fail(current[0], e) from e
        except BaseException:
            self._rollback(tx)
            raise
        finally:
            session.close()

    @staticmethod
    def _rollback(tx) -> None:
        if tx is None:
            return
        try:
            if not tx.closed():
                tx.rollback()
        except Exception:  # the connection may be gone; the server rolls back on its own
            log.debug("rollback failed", exc_info=True)

    # -- lifecycle ---------------------------------------------------------------------------
    def server_agent(self) -> str | None:
        """What the server calls itself ("Neo4j/5.26.0", ...), for messages; None if it does not say."""
        try:
            return self._driver.get_server_info().agent
        except Exception:  # only decorates messages: never fail because of it
            return None

    def close(self) -> None:
        if self._owns_driver:
            self._driver.close()

    def _ensure_schema(self) -> None:
        rows = self.run_query("read/meta_value", key="schema_version")
        if rows:
            found = rows[0]["value"]
            if int(found) == 1:
                self._migrate_from_1()
                return
            if int(found) != SCHEMA_VERSION:
                raise WorkspaceError(
                    f"{self.location} has fraudgraph schema version {found}, this fraudgraph expects {SCHEMA_VERSION}"
                )
            return
        # Constraints and indexes are schema commands: each runs in its own transaction. A
        # database emptied of its nodes keeps its schema: schema 1's constraints go first.
        for name in self._queries:
            if name.startswith(("migrate/drop_", "schema/")):
                self.run_query(name, write=True)
        self.run_query("write/meta_value", write=True, key="schema_version", value=SCHEMA_VERSION)

    def _migrate_from_1(self) -> None:
        """Schema 1 -> 2: the per-account and per-ring constraints go (two generations of results
        coexist while a sweep writes), the stored results become generation 0 (every row stored:
        nothing implied), and the new indexes are made."""
        log.info("%s: upgrading the fraudgraph schema from version 1 to %d", self.location, SCHEMA_VERSION)
        for name in self._queries:
            if name.startswith("migrate/drop_"):
                self.run_query(name, write=True)
        for name in self._queries:
            if name.startswith("schema/"):
                self.run_query(name, write=True)
        for key in ("rings", "account_scores", "hubs", "decisions"):
            while (
                int(self.run_query(f"migrate/gen_{key}", write=True, limit=self.batch_size)[0]["updated"])
                == self.batch_size
            ):
                pass
        keys = ["rings", "account_scores", "hubs", "decisions"]
        self.run_query("write/switch_results", write=True, keys=keys, gen=0, stale="[]")
        self.run_query("write/meta_value", write=True, key="schema_version", value=SCHEMA_VERSION)

    # -- loading -----------------------------------------------------------------------------
    def load(self, dataset, *, progress: Progress | None = None) -> LoadSummary:
        """Store a validated dataset in one transaction (all of it lands, or none of it).

        Only what differs from the stored graph is written, so a reload of the same extract
        writes nothing and reports ``unchanged``.
        """
        say = progress or (lambda msg: None)
        t0 = time.perf_counter()
        summary = LoadSummary.of(dataset)
        accounts = dataset.accounts
        links = dataset.links
        transactions = getattr(dataset, "transactions", None)
        if transactions is None:
            transactions = _empty(TRANSACTION_COLUMNS)
        try:
            with self._transaction() as run:
                # Taking the load's sequence number first write-locks its (:Meta) node, so a second
                # load at the same time waits for this one (Neo4j) or fails at commit (optimistic
                # servers) instead of interleaving with it: loads have a single writer.
                seq = self._reserve(run, "seq.load", 1)
                self._load_accounts(run, accounts, summary, say)
                self._load_links(run, links, summary, say)
                self._load_transactions(run, transactions, set(accounts["account_id"]), summary, say)
                summary.seconds = round(time.perf_counter() - t0, 3)
                run(
                    "load/record_load",
                    seq=seq,
                    at=utc_now_text(),
                    source=summary.source,
                    summary=_to_json(summary.as_dict()),
                )
                # Finishing the folder an interrupted batched load was loading completes it.
                run("load/clear_incomplete_load", source=summary.source)
        except WorkspaceError as e:
            if "OutOfMemory" in str(e) or "MemoryLimit" in str(e):
                raise WorkspaceError(
                    f"{e}; the server could not hold the whole load in one transaction: "
                    "load it in batches with `fraudgraph load --batched`"
                ) from e
            raise
        return summary

    def load_batched(
        self,
        dataset,
        *,
        progress: Progress | None = None,
        batch_rows: int = 20_000,
        owner: str = "fraudgraph load",
    ) -> LoadSummary:
        """Store a validated dataset in batches of about ``batch_rows`` rows, each batch its own
        write transaction, for first loads too big for one transaction.

        The stored graph is the one ``load`` gives. Accounts go first, then links (all of an
        account's in one batch, with the identifiers they touch refreshed in that batch), then
        transactions (by payer). Each batch reads what is stored and writes only the rest, so a
        load interrupted anywhere is finished by running it again. Until a load of the same
        source finishes, the workspace is marked incomplete and sweeps refuse to run. Batched
        loads hold the ``(:Lock {name: 'load'})`` node: one at a time.
        """
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows!r}")
        say = progress or (lambda msg: None)
        t0 = time.perf_counter()
        summary = LoadSummary.of(dataset)
        transactions = getattr(dataset, "transactions", None)
        plan = _batch_plan(
            dataset.accounts,
            dataset.links,
            _empty(TRANSACTION_COLUMNS) if transactions is None else transactions,
            batch_rows,
        )
        loaded = set(dataset.accounts["account_id"])
        with node_lock(
            self.run_query, owner, ttl=self.lock_ttl, location=self.location, name="load", what="batched load"
        ):
            seq, stored_before = self._begin_batched(summary, len(plan))
            for i, (phase, part) in enumerate(plan, 1):
                self._load_batch(seq, phase, part, loaded, stored_before, summary, (i, len(plan)))
                say(f"batch {i:,} / {len(plan):,} ({phase}, {len(part):,} rows) committed")
            self._finish_batched(seq, summary, len(plan), t0)
        say(
            f"accounts: {summary.accounts_new:,} new, {summary.accounts_updated:,} updated; "
            f"links: {summary.links_new:,} new, {summary.links_updated:,} updated; "
            f"transactions: {summary.transactions_new:,} new, {summary.transactions_updated:,} updated"
        )
        return summary

    def _finish_batched(self, seq: int, summary: LoadSummary, batches: int, t0: float) -> None:
        """Mark a batched load (``seq``, started at ``t0``) complete with its final counts, and
        drop the record of an earlier unfinished attempt of the same source, in one transaction."""
        summary.seconds = round(time.perf_counter() - t0, 3)
        with self._transaction() as run:
            done = _batched_summary(summary, batches, batches, complete=True)
            run("load/finish_batched_load", seq=seq, summary=done)
            run("load/clear_incomplete_load", source=summary.source)

    def _begin_batched(self, summary: LoadSummary, batches: int) -> tuple[int, bool]:
        """Record the load as started (incomplete); its sequence number, and whether transactions
        were stored before this source's first attempt (then a transaction not found through
        its payer may be stored under another payer, and is looked up by id)."""
        unfinished = self.incomplete_load()
        if unfinished is not None and unfinished["source"] != summary.source:
            log.warning(
                "%s: the batched load of %s did not finish; loading %s now (sweeps stay refused until %s is loaded)",
                self.location,
                unfinished["source"],
                summary.source,
                unfinished["source"],
            )
        with self._transaction() as run:
            seq = self._reserve(run, "seq.load", 1)
            before = int(run("read/transaction_count")[0]["n"])
            run(
                "load/begin_batched_load",
                seq=seq,
                at=utc_now_text(),
                source=summary.source,
                summary=_batched_summary(summary, batches, 0),
                batches=batches,
                transactions_before=before,
            )
            rows = run("read/incomplete_load")
        return seq, int(rows[0]["transactions_before"] or 0) > 0

    def _load_batch(self, seq, phase, part, loaded, stored_before, summary, position) -> None:
        """One batch of a batched load, in its own transaction, with its progress record."""
        counts = LoadSummary(source=summary.source)
        quiet: Progress = lambda msg: None  # noqa: E731
        with self._transaction() as run:
            if phase == "accounts":
                self._load_accounts(run, part, counts, quiet)
            elif phase == "links":
                self._load_links(run, part, counts, quiet)
            else:
                self._load_transactions(run, part, loaded, counts, quiet, by_txn_id=stored_before)
            total = _added(summary, counts)
            run(
                "load/batch_done",
                seq=seq,
                batches_done=position[0],
                summary=_batched_summary(total, position[1], position[0]),
            )
        _added(summary, counts, into=True)

    def load_csv(
        self,
        dataset,
        folder,
        *,
        url: str | None = None,
        batch_rows: int = 20_000,
        progress: Progress | None = None,
        owner: str = "fraudgraph load",
    ) -> LoadSummary:
        """A first load into an empty workspace through files the server reads: the extract is
        written to ``folder`` as load-ready CSV files, and the server reads them itself with
        ``LOAD CSV ... CALL { ... } IN TRANSACTIONS OF batch_rows ROWS`` (``cypher/load/csv_*``).

        ``url`` is how the server names ``folder`` (default its ``file://`` URL; on Neo4j a URL
        under its import directory, e.g. ``file:///fraudgraph``). The stored graph is the one
        ``load`` gives. Every statement MERGEs, so an interrupted load is finished by running it
        again; until then the workspace is marked incomplete and sweeps refuse to run.
        """
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows!r}")
        say = progress or (lambda msg: None)
        t0 = time.perf_counter()
        summary = LoadSummary.of(dataset)
        base = (url or Path(folder).resolve().as_uri()).rstrip("/")
        with node_lock(
            self.run_query, owner, ttl=self.lock_ttl, location=self.location, name="load", what="batched load"
        ):
            self._refuse_unless_first_load(summary.source)
            files = _write_load_csvs(dataset, Path(folder), summary)
            say(f"wrote {sum(files.values()):,} rows to {folder} for the server to read")
            seq, _ = self._begin_batched(summary, len(_CSV_STEPS))
            for i, (name, file) in enumerate(_CSV_STEPS, 1):
                if files[file]:
                    self._run_in_transactions(name, url=f"{base}/{file}", batch=int(batch_rows))
                done = _batched_summary(summary, len(_CSV_STEPS), i)
                self.run_query("load/batch_done", write=True, seq=seq, batches_done=i, summary=done)
                say(f"step {i} / {len(_CSV_STEPS)} ({name}, {files[file]:,} rows) committed")
            self._finish_batched(seq, summary, len(_CSV_STEPS), t0)
        return summary

    def _refuse_unless_first_load(self, source: str) -> None:
        unfinished = self.incomplete_load()
        if unfinished is not None and unfinished["source"] == source:
            return  # finishing an interrupted load of the same folder
        if int(self.run_query("read/account_count")[0]["n"]) > 0:
            raise WorkspaceError(
                f"{self.location} already holds accounts: a load through server-read files is only for a first "
                "load into an empty workspace; load later extracts with `fraudgraph load` (or --batched)"
            )

    def _run_in_transactions(self, name: str, /, **params: Any) -> None:
        """Run one ``CALL { ... } IN TRANSACTIONS`` statement: it needs an auto-commit transaction."""
        import neo4j.exceptions as nx

        query, checked = self._query(name, params)
        try:
            with self._driver.session(database=self.database) as session:
                session.run(query.text, checked).consume()
        except (nx.Neo4jError, nx.DriverError) as e:
            raise self._fail(name, e) from e

    def incomplete_load(self) -> dict[str, Any] | None:
        """The batched load that has not finished (source, started_at, batches, batches_done), or None."""
        rows = self.run_query("read/incomplete_load")
        if not rows:
            return None
        row = rows[0]
        return {
            "source": row["source"],
            "started_at": row["started_at"],
            "batches": int(row["batches"] or 0),
            "batches_done": int(row["batches_done"] or 0),
        }

    def _reserve(self, run, key: str, count: int) -> int:
        """The first of ``count`` new sequence numbers of a log."""
        rows = run("write/next_sequence", key=key, count=int(count))
        return int(rows[0]["last_used"]) + 1

    def _fetch(self, run, name: str, column: str, keys: list, **params: Any) -> list[dict]:
        out: list[dict] = []
        for chunk in _batches(keys, self.batch_size):
            out.extend(run(name, **{column: list(chunk)}, **params))
        return out

    def _write(self, run, name: str, rows: list[dict], say: Progress | None = None, what: str = "") -> None:
        for i, chunk in enumerate(_batches(rows, self.batch_size)):
            run(name, rows=list(chunk))
            if say is not None and len(rows) > self.batch_size:
                say(f"{what}: {min((i + 1) * self.batch_size, len(rows)):,} / {len(rows):,}")

    def _load_accounts(self, run, acc: pd.DataFrame, summary: LoadSummary, say: Progress) -> None:
        new = _account_rows(acc)
        existing = self._fetch(run, "read/loaded_fields_by_id", "account_ids", new["account_id"].tolist())
        stored = pd.DataFrame.from_records(
            [tuple(r[c] for c in ACCOUNT_COLUMNS) for r in existing], columns=ACCOUNT_COLUMNS
        )
        stored["created_at"] = _datetimes(stored["created_at"]).to_numpy()
        for c in ("credit_limit", "balance"):
            stored[c] = _floats(stored[c]).to_numpy()
        plan = merge_rows(new, stored, "account_id", ACCOUNT_COLUMNS[1:])
        is_new, changed = plan.is_new, plan.changed
        summary.accounts_new, summary.accounts_updated = plan.counts
        self._write(run, "load/accounts", _records(new[is_new | changed]), say, "accounts")
        if summary.accounts_new:
            # Payments received before the account was loaded pointed at a stand-in node.
            ids = new.loc[is_new, "account_id"].tolist()
            for chunk in _batches(ids, self.batch_size):
                run("load/adopt_external_payments", account_ids=list(chunk))
                run("load/delete_external_accounts", account_ids=list(chunk))
        say(f"accounts: {summary.accounts_new:,} new, {summary.accounts_updated:,} updated")

    def _stored_links(self, run, account_ids: list[str]) -> pd.DataFrame:
        rows = self._fetch(run, "read/links_by_account", "account_ids", account_ids)
        rows += self._fetch(run, "read/unlinked_values_by_account", "account_ids", account_ids)
        if not rows:
            return _empty(LINK_COLUMNS)
        df = pd.DataFrame.from_records([tuple(r[c] for c in LINK_COLUMNS) for r in rows], columns=LINK_COLUMNS)
        df["first_seen"] = _datetimes(df["first_seen"]).to_numpy()
        return df

    def _load_links(self, run, links: pd.DataFrame, summary: LoadSummary, say: Progress) -> None:
        if len(links) == 0:
            say("links: 0 new, 0 updated")
            return
        new = _observations(links)
        stored = self._stored_links(run, sorted(set(new["account_id"])))
        plan = merge_links(new, stored)
        merged, is_new, changed = plan.rows, plan.is_new, plan.changed
        summary.links_new, summary.links_updated = plan.counts

        touched: set[tuple[str, str]] = set()
        gone = merged[changed]
        gone_keyed = gone[gone["key_old"].notna()]
        if len(gone_keyed):
            rows = gone_keyed[["account_id", "kind", "value"]].to_dict("records")
            for chunk in _batches(rows, self.batch_size):
                touched.update((r["kind"], r["key"]) for r in run("load/delete_uses", rows=list(chunk)))
        gone_unlinked = gone[gone["key_old"].isna()]
        if len(gone_unlinked):
            self._write(
                run,
                "load/delete_unlinked_values",
                gone_unlinked[["account_id", "kind", "value"]].to_dict("records"),
            )

        write = merged[is_new | changed]
        keyed = write[write["key"].notna()]
        if len(keyed):
            pairs = keyed[["kind", "key"]].drop_duplicates()
            self._write(run, "load/identifiers", pairs.to_dict("records"))
            self._write(
                run,
                "load/uses",
                _records(keyed[["account_id", "kind", "key", "value", "first_seen"]]),
                say,
                "links",
            )
            touched.update(zip(pairs["kind"], pairs["key"]))
        unlinked = write[write["key"].isna()]
        if len(unlinked):
            self._write(run, "load/unlinked_values", _records(unlinked[["account_id", "kind", "value", "first_seen"]]))
        pairs = [{"kind": k, "key": v} for k, v in sorted(touched)]
        for chunk in _batches(pairs, self.batch_size):
            run("load/refresh_identifiers", pairs=list(chunk))
        say(f"links: {summary.links_new:,} new, {summary.links_updated:,} updated")

    def _load_transactions(
        self, run, txns: pd.DataFrame, loaded: set, summary: LoadSummary, say: Progress, by_txn_id: bool | None = None
    ) -> None:
        if len(txns) == 0:
            return
        fields = ["account_id", "counterparty", "counterparty_kind", "amount", "ts", "status"]
        new = _payment_rows(txns)
        existing = self._stored_payments(run, new, by_txn_id)
        stored = pd.DataFrame.from_records(
            [
                (
                    t,
                    r["account_id"],
                    r["counterparty"],
                    r["counterparty_kind"],
                    r["amount"],
                    r["timestamp"],
                    r["status"],
                )
                for t, r in existing.items()
            ],
            columns=["txn_id", *fields],
        )
        stored["amount"] = _floats(stored["amount"]).to_numpy()
        stored["ts"] = _datetimes(stored["ts"]).to_numpy()
        plan = merge_rows(new, stored, "txn_id", fields)
        is_new, changed = plan.is_new, plan.changed
        summary.transactions_new, summary.transactions_updated = plan.counts
        if changed.any():
            ids = new.loc[changed, "txn_id"].tolist()
            for chunk in _batches(ids, self.batch_size):
                run("load/delete_payments", txn_ids=list(chunk))
        write = new[is_new | changed]
        to_account = write["counterparty_kind"] == "account"
        account_ids = set(write.loc[to_account, "counterparty"]) - loaded
        if account_ids:
            found = self._fetch(run, "read/accounts_by_id", "account_ids", sorted(account_ids))
            loaded = loaded | {r["account_id"] for r in found}
        known = to_account & write["counterparty"].isin(loaded)
        rows = lambda mask: _records(write[mask.to_numpy()])  # noqa: E731
        self._write(run, "load/payments_to_accounts", rows(known), say, "transactions to accounts")
        self._write(run, "load/payments_to_merchants", rows(~to_account), say, "transactions to merchants")
        self._write(
            run,
            "load/payments_to_external_accounts",
            rows(to_account & ~known),
            say,
            "transactions to accounts not loaded",
        )
        say(f"transactions: {summary.transactions_new:,} new, {summary.transactions_updated:,} updated")

    def _stored_payments(self, run, new: pd.DataFrame, by_txn_id: bool | None = None) -> dict[str, dict]:
        """The stored transactions with the txn_ids of ``new``, by txn_id.

        Looked up through their payer first (an index seek per account); only ids not found
        there, when transactions are stored at all (or ``by_txn_id`` says so), are looked up by
        txn_id (a payer changed).
        """
        wanted = set(new["txn_id"])
        found = {
            r["txn_id"]: r
            for r in self._fetch(run, "read/payments_by_payer", "account_ids", sorted(set(new["account_id"])))
            if r["txn_id"] in wanted
        }
        missing = sorted(wanted - found.keys())
        if by_txn_id is None:
            by_txn_id = bool(missing) and int(run("read/transaction_count")[0]["n"]) > 0
        if missing and by_txn_id:
            found.update((r["txn_id"], r) for r in self._fetch(run, "read/payments_by_txn_id", "txn_ids", missing))
        return found

    def status(self) -> dict[str, Any]:
        per_kind: dict[str, dict[str, Any]] = {}
        for r in self.run_query("read/links_per_kind"):
            per_kind.setdefault(r["kind"], {"kind": r["kind"], "links": 0, "identifiers": 0, "no_identity": 0})
            per_kind[r["kind"]]["links"] += int(r["links"])
            per_kind[r["kind"]]["identifiers"] += int(r["identifiers"])
        for r in self.run_query("read/unlinked_values_per_kind"):
            per_kind.setdefault(r["kind"], {"kind": r["kind"], "links": 0, "identifiers": 0, "no_identity": 0})
            per_kind[r["kind"]]["links"] += int(r["no_identity"])
            per_kind[r["kind"]]["no_identity"] += int(r["no_identity"])
        kinds = [per_kind[k] for k in sorted(per_kind)]
        last_load = self.run_query("read/last_load")
        last_sweep = self.run_query("read/last_sweep")
        return {
            "workspace": self.location,
            "backend": self.backend,
            "counts": {
                "accounts": int(self.run_query("read/account_count")[0]["n"]),
                "links": sum(k["links"] for k in kinds),
                "transactions": int(self.run_query("read/transaction_count")[0]["n"]),
            },
            "kinds": kinds,
            "distinct_identifiers": sum(k["identifiers"] for k in kinds),
            "rings": int(self.run_query("read/ring_count", gen=self._gens()["rings"])[0]["n"]),
            "last_load": None
            if not last_load
            else {
                "at": last_load[0]["at"],
                "source": last_load[0]["source"],
                **json.loads(last_load[0]["summary"]),
            },
            "last_sweep": None if not last_sweep else dict(last_sweep[0]),
        }

    # -- reading the loaded data ---------------------------------------------------------------
    def _account_id_pages(self) -> Iterator[list[str]]:
        """Every account id, a page at a time (keyset paging: no SKIP, no whole-graph result)."""
        after = ""
        while True:
            page = [
                r["account_id"] for r in self.run_query("read/account_ids_page", after=after, limit=self.batch_size)
            ]
            if not page:
                return
            yield page
            if len(page) < self.batch_size:
                return
            after = page[-1]

    def _id_pages(self, account_ids: list[str] | None) -> Iterator[list[str]]:
        if account_ids is None:
            yield from self._account_id_pages()
        else:
            ids = list(dict.fromkeys(str(a) for a in account_ids))
            for chunk in _batches(ids, self.batch_size):
                yield list(chunk)

    def accounts(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        rows: list[dict] = []
        if account_ids is None:
            after = ""
            while True:
                page = self.run_query("read/accounts_page", after=after, limit=self.batch_size)
                rows.extend(page)
                if len(page) < self.batch_size:
                    break
                after = page[-1]["account_id"]
        else:
            for chunk in self._id_pages(account_ids):
                rows.extend(self.run_query("read/accounts_by_id", account_ids=chunk))
        if not rows:
            df = _empty(ACCOUNT_COLUMNS)
            df["created_at"] = df["created_at"].astype("datetime64[ns]")
            df["credit_limit"] = df["credit_limit"].astype("float64")
            df["balance"] = df["balance"].astype("float64")
            df["overdue_days"] = df["overdue_days"].astype("int64")
            return df
        df = pd.DataFrame.from_records([tuple(r[c] for c in ACCOUNT_COLUMNS) for r in rows], columns=ACCOUNT_COLUMNS)
        df["created_at"] = _datetimes(df["created_at"]).to_numpy()
        df["credit_limit"] = _floats(df["credit_limit"]).to_numpy()
        df["balance"] = _floats(df["balance"]).to_numpy()
        df["overdue_days"] = df["overdue_days"].fillna(0).astype("int64")
        df["label"] = df["label"].astype(object).where(df["label"].notna(), None)
        return df.sort_values("account_id", kind="stable").reset_index(drop=True)[ACCOUNT_COLUMNS]

    def links(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        parts: list[dict] = []
        for page in self._id_pages(account_ids):
            parts.extend(self.run_query("read/links_by_account", account_ids=page))
            parts.extend(self.run_query("read/unlinked_values_by_account", account_ids=page))
        if not parts:
            df = _empty(LINK_COLUMNS)
            df["first_seen"] = df["first_seen"].astype("datetime64[ns]")
            return df
        df = pd.DataFrame.from_records([tuple(r[c] for c in LINK_COLUMNS) for r in parts], columns=LINK_COLUMNS)
        df["first_seen"] = _datetimes(df["first_seen"]).to_numpy()
        df["key"] = df["key"].astype(object).where(df["key"].notna(), None)
        return df.sort_values(["account_id", "kind", "value"], kind="stable").reset_index(drop=True)[LINK_COLUMNS]

    def transactions(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        rows: list[dict] = []
        for page in self._id_pages(account_ids):
            rows.extend(self.run_query("read/payments_by_payer", account_ids=page))
            if account_ids is not None:
                rows.extend(self.run_query("read/payments_to_accounts", account_ids=page))
        if not rows:
            df = _empty(TRANSACTION_COLUMNS)
            df["amount"] = df["amount"].astype("float64")
            df["timestamp"] = df["timestamp"].astype("datetime64[ns]")
            return df
        df = pd.DataFrame.from_records(
            [tuple(r[c] for c in TRANSACTION_COLUMNS) for r in rows], columns=TRANSACTION_COLUMNS
        )
        df = df.drop_duplicates("txn_id")
        df["amount"] = df["amount"].astype("float64")
        df["timestamp"] = _datetimes(df["timestamp"]).to_numpy()
        return df.sort_values("txn_id", kind="stable").reset_index(drop=True)[TRANSACTION_COLUMNS]

    # -- sweeps ------------------------------------------------------------------------------
    def sweep_lock(self, owner: str):
        """Hold the ``(:Lock {name: 'sweep'})`` node (see ``workspace/neo4j/lock.py``).

        Refused while a batched load has not finished: a sweep of part of an extract would
        act on rings and scores of data that is not all there."""
        unfinished = self.incomplete_load()
        if unfinished is not None:
            raise WorkspaceError(
                f"{self.location}: the batched load of {unfinished['source']} (started {unfinished['started_at']}) "
                f"did not finish ({unfinished['batches_done']:,} of {unfinished['batches']:,} batches committed); "
                "run the same load again to finish it, then sweep"
            )
        return node_lock(self.run_query, owner, ttl=self.lock_ttl, location=self.location)

    def data_version(self) -> str:
        versions = []
        for key in ("seq.load", "seq.labels"):
            rows = self.run_query("read/meta_value", key=key)
            versions.append(int(rows[0]["value"]) if rows and rows[0]["value"] is not None else 0)
        return f"{versions[0]}/{versions[1]}"

    def next_ring_number(self) -> int:
        rows = self.run_query("read/meta_value", key="next_ring_number")
        return int(rows[0]["value"]) if rows and rows[0]["value"] is not None else 1

    def save_sweep(self, record: SweepRecord) -> None:
        """Write the sweep's result rows in transactions of ``batch_size`` rows under a new
        generation, then, in one last small transaction, the state, audit, notices, sweep record
        and ring counter, and the switch of the tables it replaced to the new generation; then
        delete the replaced generation in batches (see the module docstring). Only the result
        rows that are not default are written (``base.sparse_tables``). A failure before the switch
        leaves the previous sweep's results current; its rows go now or at the next sweep."""
        if record.scope is not None:  # no change log here, so no delta sweep writes a part of the results
            raise NotImplementedError("a Neo4j workspace writes whole sweeps only (SweepRecord.scope)")
        tables, swept = sparse_tables(record)
        self._drop_stale()
        with self._transaction() as run:
            gen = self._reserve(run, "seq.results", 1)
            # Until the switch, the new generation's rows are stale: a crash leaves them to delete.
            pending = self._stale(run) + [[key, gen] for key in _GEN_KEYS]
            run("write/meta_value", key="results.stale", value=_to_json(pending))
        try:
            keys = self._write_generation(gen, tables, swept)
        except BaseException:
            self._drop_stale(quiet=True)
            raise
        with self._transaction() as run:
            self._hold_back(run, record)
            self._upsert_state(run, record.state)
            self._append(run, "audit", record.audit, AUDIT_COLUMNS)
            self._append(run, "notices", record.notices, NOTICE_COLUMNS)
            sweep = _rows(pd.DataFrame([record.sweep]), _TYPES["sweeps"], SWEEP_COLUMNS)[0]
            run("write/sweep", row={k: v for k, v in sweep.items() if v is not None})
            run("write/meta_value", key="next_ring_number", value=int(record.next_ring_number))
            current = self._gens(run)
            stale = [e for e in self._stale(run) if e[1] != gen]  # nothing else was written under gen
            stale += [[key, current[key]] for key in keys if current.get(key, _NO_GEN) != _NO_GEN]
            run("write/switch_results", keys=list(keys), gen=gen, stale=_to_json(stale))
        self._drop_stale(quiet=True)

    def _hold_back(self, run, record: SweepRecord) -> None:
        """The sweep's changes to accounts someone else changed since it read their state
        (``base.hold_back``), taken out, in the transaction that writes the rest. It first takes
        the audit sequence's write lock (``write/next_sequence``, reserving none), which every
        review and manual change takes to append its audit entry: one that has not committed by
        now waits for this transaction, so none lands between this look and the write."""
        if record.audit_mark is None:
            return
        self._reserve(run, "seq.audit", 0)
        rows = run("read/audit_accounts_after", mark=int(record.audit_mark))
        hold_back(record, [r["account_id"] for r in rows])

    def _write_generation(self, gen: int, tables: dict[str, pd.DataFrame], swept: pd.DataFrame | None) -> list[str]:
        """The result rows of ``tables`` (and the sweep's accounts) under generation ``gen``, each
        batch its own transaction; the result keys (``_GEN_KEYS``) written."""
        keys = []
        if any(name in tables for name in _RING_GROUP):
            for name in _RING_GROUP:  # one of the group left out stays as it is: copied
                df = tables.get(name)
                self._write_rows(name, gen, self.table(name) if df is None else df)
            keys.append("rings")
        for name in ("account_scores", "hubs", "decisions"):
            if name in tables:
                self._write_rows(name, gen, tables[name])
                keys.append(name)
        if swept is not None:
            parts = _swept_rows(swept)
            for chunk in _batches(parts, max(1, self.batch_size // 100)):
                with self._transaction() as run:
                    run("write/swept_parts", rows=list(chunk), gen=gen)
            keys.append("swept")
        return keys

    def _write_rows(self, name: str, gen: int, df: pd.DataFrame) -> None:
        """One result table's rows under generation ``gen``, ``batch_size`` rows a transaction
        (made into parameter rows a batch at a time: never the whole table at once)."""
        for start in range(0, len(df), self.batch_size):
            rows = _rows(df.iloc[start : start + self.batch_size], _TYPES[name], _RESULT_COLUMNS[name])
            if name in _SEQUENCED:
                for i, row in enumerate(rows, start):
                    row["seq"] = i
            with self._transaction() as run:
                run(f"write/{name}", rows=rows, gen=gen)

    def _drop(self, name: str, **params: Any) -> None:
        """Run a delete of at most ``batch_size`` rows (each call its own transaction) until one
        deletes fewer."""
        while True:
            deleted = self.run_query(name, write=True, limit=self.batch_size, **params)
            if not deleted or int(deleted[0]["deleted"]) < self.batch_size:
                return

    def _gens(self, run=None) -> dict[str, int]:
        """The current generation of each result key (``_NO_GEN`` when none yet)."""
        rows = (run or self.run_query)("read/result_gens")
        found = {r["key"]: r["value"] for r in rows if r["key"] in _GEN_KEYS and r["value"] is not None}
        return {key: int(found.get(key, _NO_GEN)) for key in _GEN_KEYS}

    def _stale(self, run=None) -> list[list]:
        """The [key, generation] pairs whose rows are left to delete."""
        rows = (run or self.run_query)("read/meta_value", key="results.stale")
        return [list(e) for e in (_from_json(rows[0]["value"]) or [])] if rows and rows[0]["value"] else []

    def _drop_stale(self, *, quiet: bool = False) -> None:
        """Delete the rows of the stale generations (never a current one), ``batch_size`` rows a
        transaction, and strike them off the list. ``quiet``: a failure is logged, not raised (the
        next sweep deletes what is left)."""
        try:
            stale, current = self._stale(), self._gens()
            for key, gen in stale:
                if current.get(key) == gen:
                    continue
                self._drop(f"write/drop_{key}", gen=gen)
            if stale:
                with self._transaction() as run:
                    left = [e for e in self._stale(run) if e not in stale]
                    run("write/meta_value", key="results.stale", value=_to_json(left))
        except (WorkspaceError, OSError) as e:
            if not quiet:
                raise
            log.warning(
                "%s: could not delete the results of earlier sweeps yet (%s); the next sweep will", self.location, e
            )

    def _upsert_state(self, run, df: pd.DataFrame | None) -> None:
        rows = _rows(df, _TYPES["account_state"], STATE_COLUMNS)
        self._write(run, "write/account_state", rows)

    def _append(self, run, name: str, df: pd.DataFrame | None, columns: list[str]) -> None:
        rows = _rows(df, _TYPES[name], columns)
        if not rows:
            return
        first = self._reserve(run, f"seq.{name}", len(rows))
        for i, row in enumerate(rows):
            row["seq"] = first + i
        self._write(run, f"write/{name}", rows)

    def sweeps(self) -> pd.DataFrame:
        df = self._frame("read/sweeps", SWEEP_COLUMNS)
        for c in ("summary", "diff"):
            df[c] = [_from_json(v) for v in df[c]]
        df["dry_run"] = df["dry_run"].fillna(False).astype(bool)
        return df

    # -- current results ---------------------------------------------------------------------
    def table(self, name: str, **where: Any) -> pd.DataFrame:
        cols, parsed = result_filters(name, where)
        if parsed is None:
            return _empty(cols)
        # Read at the current generations; read again if a sweep switched them meanwhile (the
        # pages read may then miss rows of the generation it deletes).
        for _ in range(3):
            gens = self._gens()
            rows = self._table_rows(name, parsed, gens)
            if self._gens() == gens:
                break
        types = _TYPES[name]
        df = self._frame_of(rows, cols)
        for c in cols:
            if types[c] == "json":
                df[c] = [_from_json(v) for v in df[c]]
            elif types[c] == "list":
                df[c] = [list(v) if v is not None else None for v in df[c]]
        return df

    def _table_rows(self, name: str, parsed: list[ColumnFilter], gens: dict[str, int]) -> list[dict[str, Any]]:
        """The rows of a result table at the generations ``gens``, as the read query returns
        them, with the implied rows of ``account_scores`` and ``decisions`` in their places."""
        types = _TYPES[name]
        filters = [
            {"column": f.column, "values": [], "is_null": True}
            if f.values is None
            else {"column": f.column, "values": [_coerce(v, types[f.column]) for v in f.values], "is_null": False}
            for f in parsed
        ]
        key = "seq" if name in _SEQUENCED else "account_id"
        rows = self._paged(f"read/{name}", key, filters=filters, gen=gens[_gen_key(name)])
        if name not in _DEFAULTS or gens["swept"] == _NO_GEN:
            return rows
        by_id = next((f for f in parsed if f.column == "account_id"), None)
        others = [f for f in parsed if f.column != "account_id"]
        if (by_id is not None and by_id.values is None) or not _matcher(
            [f for f in others if f.column in _DEFAULTS[name]], types
        )(_DEFAULTS[name]):
            return rows  # no account, or a filter no default row passes
        ids = None if by_id is None else [_coerce(v, "text") for v in by_id.values or () if not _is_missing(v)]
        if others:  # the stored rows that did not pass the filters are not implied either
            id_filter = [] if ids is None else [{"column": "account_id", "values": ids, "is_null": False}]
            stored = {r["account_id"] for r in self._paged(f"read/{name}", key, filters=id_filter, gen=gens[name])}
        else:
            stored = {r["account_id"] for r in rows}
        swept = self._swept(gens["swept"], None if ids is None else [a for a in ids if a not in stored])
        implied = [r for r in self._implied(name, gens, swept, stored, ids is None) if _matcher(others, types)(r)]
        return sorted(rows + implied, key=lambda r: r["account_id"]) if implied else rows

    def _swept(self, gen: int, account_ids: list[str] | None) -> dict[str, float | None]:
        """Account id -> credit limit at the sweep of the accounts of the sweep of generation
        ``gen`` (``account_ids``: only these), by id; only the parts holding them are read."""
        firsts = [r["first_id"] for r in self.run_query("read/swept_firsts", gen=gen)]
        wanted: dict[int, list[str] | None] = {}
        if account_ids is None:
            wanted = dict.fromkeys(range(len(firsts)))
        else:
            for a in sorted(set(account_ids)):
                part = bisect.bisect_right(firsts, a) - 1
                if part >= 0:
                    wanted.setdefault(part, []).append(a)  # type: ignore[union-attr]
        out: dict[str, float | None] = {}
        for chunk in _batches(list(wanted), 32):
            for row in self.run_query("read/swept_parts", gen=gen, parts=list(chunk)):
                ids, limits = _swept_part(row)
                asked = wanted[int(row["part"])]
                if asked is None:
                    out.update(zip(ids, limits))
                else:
                    at = {a: i for i, a in enumerate(ids)}
                    out.update((a, limits[at[a]]) for a in asked if a in at)
        return out

    def _implied(
        self, name: str, gens: dict[str, int], swept: dict[str, float | None], stored: set[str], every: bool
    ) -> list[dict[str, Any]]:
        """The default rows of ``name`` for the accounts of ``swept`` without a stored row, as the
        read query returns rows; ``every``: ``swept`` is every account of the sweep."""
        missing = [a for a in swept if a not in stored]
        if name == "account_scores":
            return [{"account_id": a, "score": 0.0, "ring_id": None, "reasons": "[]"} for a in missing]
        if not missing:
            return []
        asked = [] if every else [{"column": "account_id", "values": missing, "is_null": False}]
        found = self._paged("read/account_scores", "account_id", filters=asked, gen=gens["account_scores"])
        scores = {r["account_id"]: r for r in found}
        default = {"score": 0.0, "ring_id": None, "reasons": "[]"}
        return [
            {"account_id": a, "action": "none", "trigger": "none"}
            | {c: scores.get(a, default)[c] for c in ("score", "ring_id", "reasons")}
            | {"credit_limit": swept[a], "new_credit_limit": None, "evidence": ""}
            for a in missing
        ]

    def account_state(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        if account_ids is None:
            df = self._frame_of(self._paged("read/account_state", "account_id"), STATE_COLUMNS)
        else:
            parts = [
                self._frame("read/account_state_by_id", STATE_COLUMNS, account_ids=chunk)
                for chunk in self._id_pages(account_ids)
            ]
            parts = [p for p in parts if len(p)]
            df = (
                pd.concat(parts, ignore_index=True).sort_values("account_id", kind="stable").reset_index(drop=True)
                if parts
                else _empty(STATE_COLUMNS)
            )
        df["manual"] = df["manual"].fillna(False).astype(bool)
        for c in ("credit_limit", "original_credit_limit"):
            df[c] = df[c].astype("float64")
        return df

    # -- logs --------------------------------------------------------------------------------
    def audit(self, account_id: str | None = None) -> pd.DataFrame:
        return self._frame("read/audit", AUDIT_COLUMNS, account_id=account_id)

    def audit_count(self) -> int:
        return int(self.run_query("read/audit_count")[0]["n"])

    def audit_mark(self) -> int:
        rows = self.run_query("read/meta_value", key="seq.audit")
        return int(rows[0]["value"] or 0) if rows else 0

    def acted_after(self, mark: int) -> list[str]:
        return [r["account_id"] for r in self.run_query("read/audit_accounts_after", mark=int(mark))]

    def notices(self, since_sweep: str | None = None) -> pd.DataFrame:
        if since_sweep is None:
            return self._frame("read/notices", NOTICE_COLUMNS)
        rows = self.run_query("read/sweep_by_id", sweep_id=since_sweep)
        if not rows:
            raise NotFoundError(f"no sweep {since_sweep!r} in {self.location}; see `fraudgraph sweeps`")
        return self._frame(
            "read/notices_after_sweep",
            NOTICE_COLUMNS,
            finished_at=rows[0]["finished_at"],
            sweep_id=since_sweep,
        )

    def reviews(self) -> pd.DataFrame:
        return self._frame("read/reviews", REVIEW_COLUMNS)

    # -- analyst actions -------------------------------------------------------------------
    def apply_manual(self, *, state, audit, review=None, label=None, notices=None) -> None:
        with self._transaction() as run:
            self._upsert_state(run, state)
            self._append(run, "audit", audit, AUDIT_COLUMNS)
            self._append(run, "notices", notices, NOTICE_COLUMNS)
            if review is not None:
                self._append(run, "reviews", pd.DataFrame([review]), REVIEW_COLUMNS)
            if label is not None:
                run("write/analyst_label", account_id=label[0], label=label[1])
                # A label is data detection reads: the next sweep must not reuse the last detection.
                self._reserve(run, "seq.labels", 1)

    # -- investigation -----------------------------------------------------------------------
    def hub_keys(self) -> set[tuple[str, str]]:
        return {(r["kind"], r["key"]) for r in self.run_query("read/hub_keys", gen=self._gens()["hubs"])}

    def identifier_counts(self, pairs: pd.DataFrame) -> pd.DataFrame:
        cols = ["kind", "key", "n_accounts", "raw_values"]
        if pairs is None or len(pairs) == 0:
            return _empty(cols)
        unique = pairs[["kind", "key"]].drop_duplicates().to_dict("records")
        rows: list[dict] = []
        for chunk in _batches(unique, self.batch_size):
            rows.extend(self.run_query("read/identifier_counts", pairs=list(chunk)))
        if not rows:
            return _empty(cols)
        df = pd.DataFrame.from_records([tuple(r[c] for c in cols) for r in rows], columns=cols)
        df["n_accounts"] = df["n_accounts"].astype("int64")
        df["raw_values"] = [sorted(v or []) for v in df["raw_values"]]
        return df.sort_values(["kind", "key"], kind="stable").reset_index(drop=True)

    def identifiers_of(self, account_ids: Iterable[str]) -> pd.DataFrame:
        cols = ["account_id", "kind", "key", "first_seen"]
        rows: list[dict] = []
        for chunk in _batches(sorted(account_ids), self.batch_size):
            rows.extend(self.run_query("read/identifiers_of_accounts", account_ids=list(chunk)))
        if not rows:
            df = _empty(cols)
            df["first_seen"] = df["first_seen"].astype("datetime64[ns]")
            return df
        df = pd.DataFrame.from_records([tuple(r[c] for c in cols) for r in rows], columns=cols)
        df["first_seen"] = _datetimes(df["first_seen"]).to_numpy()
        return df.sort_values(["account_id", "kind", "key"], kind="stable").reset_index(drop=True)

    def accounts_of(self, pairs: list[tuple[str, str]], limit: int) -> pd.DataFrame:
        cols = ["account_id", "kind", "key"]
        rows: list[dict] = []
        # One statement per batch_size pairs, in sorted batches so the rows keep the query's order
        # across batches; each batch is asked only for the rows still wanted.
        for chunk in _batches(sorted(set(pairs)), self.batch_size):
            if len(rows) >= limit:
                break
            rows.extend(
                self.run_query(
                    "read/accounts_sharing",
                    pairs=[{"kind": k, "key": v} for k, v in chunk],
                    limit=int(limit - len(rows)),
                )
            )
        if not rows:
            return _empty(cols)
        return pd.DataFrame.from_records([tuple(r[c] for c in cols) for r in rows], columns=cols)

    def paid_between(self, account_ids: list[str]) -> pd.DataFrame:
        cols = ["account_id", "counterparty", "amount", "count", "first_ts", "last_ts"]
        if not account_ids:
            return _empty(cols)
        df = self._frame("read/payments_between", cols, account_ids=account_ids)
        if df.empty:
            return df
        df["amount"] = df["amount"].astype("float64")
        df["count"] = df["count"].astype("int64")
        df["first_ts"] = _datetimes(df["first_ts"]).to_numpy()
        df["last_ts"] = _datetimes(df["last_ts"]).to_numpy()
        return df

    # -- real-time check -------------------------------------------------------------------
    def check_lookup(self, pairs: list[tuple[str, str]], account_ids: list[str], *, limit: int) -> CheckLookup:
        # Four indexed reads (hubs, identifier counts, accounts, rings), each one statement.
        out = CheckLookup()
        gens = self._gens()
        at: dict[str, Any] = {"scores_gen": gens["account_scores"], "decisions_gen": gens["decisions"]}
        wanted = [{"kind": k, "key": v} for k, v in dict.fromkeys(pairs)]
        hubs = (
            {(r["kind"], r["key"]): r for r in self.run_query("read/check_hubs", pairs=wanted, hubs_gen=gens["hubs"])}
            if wanted
            else {}
        )
        rest = [p for p in wanted if (p["kind"], p["key"]) not in hubs]
        counts = self.run_query("read/identifier_counts", pairs=rest) if rest else []
        for p in wanted:
            hub = hubs.get((p["kind"], p["key"]))
            if hub is not None:
                out.identifiers.append({**p, "n_accounts": int(hub["n_accounts"]), "hub_reason": hub["reason"]})
        few = []
        for r in counts:
            out.identifiers.append(
                {"kind": r["kind"], "key": r["key"], "n_accounts": int(r["n_accounts"]), "hub_reason": None}
            )
            if int(r["n_accounts"]) <= limit:
                few.append({"kind": r["kind"], "key": r["key"]})
        rows = self.run_query("read/check_sharing", pairs=few, **at) if few else []
        ids = list(dict.fromkeys(account_ids))
        rows += self.run_query("read/check_accounts", account_ids=ids, **at) if ids else []
        out.accounts = [{**r, "score": 0.0 if r["score"] is None else float(r["score"])} for r in rows]
        ring_ids = list(dict.fromkeys(a["ring_id"] for a in out.accounts if a["ring_id"] is not None))
        for r in (
            self.run_query(
                "read/check_rings", ring_ids=ring_ids, rings_gen=gens["rings"], decisions_gen=gens["decisions"]
            )
            if ring_ids
            else []
        ):
            ranks = [
                ACTIONS.index(action) if action in ACTIONS else 0
                for action, trigger in zip(r["actions"], r["triggers"])
                if trigger not in ("overdue", "utilization")
            ]
            out.rings.append(
                {
                    "ring_id": r["ring_id"],
                    "size": int(r["size"]),
                    "score": float(r["score"]),
                    "codes": [x.get("code") for x in (_from_json(r["reasons"]) or []) if isinstance(x, dict)],
                    "action": ACTIONS[max(ranks, default=0)],
                }
            )
        return out

    def audit_of(self, account_ids: list[str]) -> pd.DataFrame:
        return self._frame("read/audit_of", AUDIT_COLUMNS, account_ids=list(dict.fromkeys(account_ids)))


def connect(
    uri: str,
    user: str,
    password: str,
    database: str | None = None,
    *,
    batch_size: int = 5000,
    lock_ttl: float = 600.0,
) -> Neo4jWorkspace:
    """Open a Neo4j workspace at ``uri`` (bolt:// or neo4j://): create the driver, check the server
    answers and accepts the credentials, and create the schema on first use.

    Every failure is a ``WorkspaceError`` with one line naming the URI and user (never the
    password). The workspace owns this driver: ``close()`` closes it.
    """
    try:
        import neo4j
        import neo4j.exceptions as nx
    except ImportError:
        raise WorkspaceError(
            "the Neo4j workspace needs the neo4j driver, an optional part: pip install 'fraudgraph[neo4j]'"
        ) from None

    where = f"{uri}" + (f", database {database}" if database else "")
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in BOLT_SCHEMES:
        raise WorkspaceError(
            f"invalid Neo4j URI {uri!r}: expected bolt://HOST:PORT or neo4j://HOST:PORT "
            f"(schemes {', '.join(BOLT_SCHEMES)})"
        )
    try:
        driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
    except (ValueError, nx.ConfigurationError) as e:
        raise WorkspaceError(
            f"invalid Neo4j URI {uri!r}: {e}; expected bolt://HOST:PORT or neo4j://HOST:PORT"
        ) from None
    try:
        try:
            driver.verify_connectivity()
        except nx.AuthError:
            raise WorkspaceError(
                f"Neo4j at {uri} refused user {user!r}: wrong user or password "
                "(FRAUDGRAPH_NEO4J_USER / FRAUDGRAPH_NEO4J_PASSWORD)"
            ) from None
        except (nx.ServiceUnavailable, nx.SessionExpired, OSError) as e:
            # The driver's message spans lines; the "reason [...]" part is what a person needs.
            text = " ".join(str(e).split())
            reason = re.search(r"reason (\[[^\]]*\][^)]*)", text)
            raise WorkspaceError(
                f"cannot reach Neo4j at {uri}: {reason.group(1) if reason else text}; is the server running?"
            ) from None
        except nx.Neo4jError as e:
            raise WorkspaceError(f"Neo4j at {uri} refused the connection: {e.code}: {e.message}") from None
        try:
            return Neo4jWorkspace(
                driver, database, batch_size=batch_size, lock_ttl=lock_ttl, location=where, _owns_driver=True
            )
        except WorkspaceError as e:
            if "DatabaseNotFound" in str(e) or "does not exist" in str(e).lower():
                raise WorkspaceError(f"Neo4j at {uri} has no database {database!r}") from None
            raise
    except BaseException:
        driver.close()
        raise
