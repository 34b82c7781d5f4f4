"""The one small interface every workspace backend (SQLite, Neo4j) implements.

Backends only store and read back the frames of ``fraudgraph.model.frames``; every decision is
made by pure functions elsewhere (detection, policy, review), so the two backends cannot
drift apart in behaviour. Reason/feature columns travel as Python lists/dicts; each backend
serializes them as it likes (JSON text in SQLite, JSON string properties in Neo4j).

Result tables a sweep replaces as a whole (``save_sweep``):
    rings            ring_id, size, score, exposure, features (dict), reasons (list)
    ring_members     ring_id, account_id
    ring_identifiers ring_id, kind, key, n_members, n_accounts, raw_values (list[str])
    account_scores   account_id, score, ring_id, reasons (list)
    hubs             kind, key, n_accounts, reason
    decisions        account_id, action, trigger, score, ring_id, reasons (list), credit_limit,
                     new_credit_limit, evidence
Account state (one row per account that ever had an action; upserted):
    account_state    account_id, action, trigger, status, credit_limit, original_credit_limit,
                     manual (bool), evidence, updated_at, sweep_id
Append-only logs:
    audit            at, sweep_id, actor, account_id, event, previous_action, new_action,
                     previous_status, new_status, previous_limit, new_limit, score, reasons (JSON
                     text), policy_hash, note
    notices          notice_id, sweep_id, account_id, created_at, category, action, subject, body,
                     customer_actions (JSON text), repayment_plan (JSON text or "")
    reviews          account_id, verdict (confirm_fraud | dismiss), note, actor, at, evidence
    sweeps           sweep_id, started_at, finished_at, as_of, seed, engine, policy_hash,
                     dry_run (bool), summary (dict), diff (dict)

Implied rows. ``account_scores`` and ``decisions`` hold one row per account of the sweep (the
accounts it read), and most of them say nothing: at 1M accounts over half the accounts score 0
with no ring and no reason, and nine in ten decisions are "none". A backend may leave such
*default* rows out of storage, as long as ``table`` (and every other read) gives them back
exactly as they were written (see ``implied_rows``, which says which rows are default):

- an ``account_scores`` row is default when its score is 0.0 (not NaN, not -0.0), its ring_id is
  missing and its reasons are an empty list;
- a ``decisions`` row is default when its action and trigger are "none", its evidence is "", its
  new_credit_limit is missing, and its score, ring_id and reasons are those of the account's
  ``account_scores`` row (the very same reasons list: the policy added nothing). Its
  credit_limit is the account's at the sweep, which a later load may change: a backend that
  implies decisions keeps the credit limits of the sweep's accounts (and so which accounts
  the sweep had: an account loaded after the sweep has no row until the next sweep).

Both workspaces store only the rows that are not default (``sparse_tables`` says which, and
which accounts the sweep had): SQLite in ``sqlite/results.py``, Neo4j in ``neo4j/store.py``.
"""

from __future__ import annotations

import abc
import json
import operator
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from fraudgraph.model.frames import (  # noqa: F401
    ACCOUNT_SCORE_COLUMNS,
    ACTIONS,
    AUDIT_COLUMNS,
    DECISION_COLUMNS,
    HUB_COLUMNS,
    NOTICE_COLUMNS,
    REVIEW_COLUMNS,
    RING_COLUMNS,
    RING_IDENTIFIER_COLUMNS,
    RING_MEMBER_COLUMNS,
    STATE_COLUMNS,
    SWEEP_COLUMNS,
)
from fraudgraph.model.values import NamedRow, is_missing, isin, plain

# The column lists live with the other frames; imported here so backends find them in one place.
from fraudgraph.workspace import search
from fraudgraph.workspace.search import Neighbourhood as Neighbourhood

Progress = Callable[[str], None]

RESULT_TABLES = ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions")
RESULT_COLUMNS = {
    "rings": RING_COLUMNS,
    "ring_members": RING_MEMBER_COLUMNS,
    "ring_identifiers": RING_IDENTIFIER_COLUMNS,
    "account_scores": ACCOUNT_SCORE_COLUMNS,
    "hubs": HUB_COLUMNS,
    "decisions": DECISION_COLUMNS + ["evidence"],
}


def json_default(o: Any):
    """What ``json.dumps`` cannot write by itself: numpy scalars and arrays, times, sets."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, (pd.Timestamp, datetime)):
        return o.isoformat()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, NamedRow):
        return dict(o)
    return str(o)


# orjson writes and reads the stored JSON (reasons, features, evidence, summaries) 4-5x faster
# than the standard library: at a million accounts a sweep stores some 700k such texts and a
# reused sweep reads them back. Times go through ``json_default`` (ISO text, nanoseconds kept).
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME
)


def to_json(v: Any) -> str:
    """Reasons, features and summaries as stored text: stable key order, unicode kept, compact;
    a NaN is stored as null (the standard library wrote ``NaN``, which is not JSON)."""
    return orjson.dumps(v, default=json_default, option=_ORJSON_OPTIONS).decode()


def dataset_source(dataset) -> str:
    """Where a loaded data set came from, for the load history: its folder."""
    source = getattr(dataset, "source", None)
    if source:
        return str(source)
    for path in (getattr(dataset, "files", None) or {}).values():
        return str(Path(path).parent)
    return ""


def stored_value(v: Any) -> Any:
    """One value as both backends store it: a plain scalar (``model.values.plain``), with lists,
    tuples, arrays and dicts as JSON text."""
    if isinstance(v, (list, dict, NamedRow, tuple, np.ndarray)):
        return to_json(v.tolist() if isinstance(v, np.ndarray) else v)
    return plain(v)


def from_json(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    try:
        return orjson.loads(v)
    except orjson.JSONDecodeError:  # text an earlier version wrote with NaN or Infinity in it
        return json.loads(v)


# Most severe first: the order decision lists are shown in (ACTIONS runs from the mildest).
ACTION_ORDER = {action: rank for rank, action in enumerate(reversed(ACTIONS))}


@dataclass(frozen=True)
class ColumnFilter:
    """One ``Workspace.table`` filter: the column is one of ``values``, or NULL when ``values`` is None."""

    column: str
    values: tuple[Any, ...] | None


def result_filters(name: str, where: dict[str, Any]) -> tuple[list[str], list[ColumnFilter] | None]:
    """Check a ``Workspace.table`` call and turn its keyword filters into ``ColumnFilter``s, once
    for every backend. Returns the table's columns and the filters; None for the filters when an
    empty list means no row can match."""
    if name not in RESULT_COLUMNS:
        raise ValueError(f"unknown result table {name!r}; expected one of {', '.join(RESULT_COLUMNS)}")
    cols = RESULT_COLUMNS[name]
    filters = []
    for col, val in where.items():
        if col not in cols:
            raise ValueError(f"table {name} has no column {col!r}")
        if isinstance(val, (list, tuple, set, np.ndarray, pd.Series, pd.Index)):
            values = tuple(val)
            if not values:
                return cols, None
            filters.append(ColumnFilter(col, values))
        elif is_missing(val):
            filters.append(ColumnFilter(col, None))
        else:
            filters.append(ColumnFilter(col, (val,)))
    return cols, filters


@dataclass
class LoadSummary:
    """What one load changed. ``unchanged`` is True when the load was a no-op (idempotent reload)."""

    source: str
    accounts_new: int = 0
    accounts_updated: int = 0
    links_new: int = 0
    links_updated: int = 0
    transactions_new: int = 0
    transactions_updated: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    config: dict[str, Any] | None = None  # the workspace configuration the data was read under

    @classmethod
    def of(cls, dataset) -> LoadSummary:
        """An empty summary of a load of ``dataset``: its source, configuration and warnings."""
        summary = cls(source=dataset_source(dataset), config=getattr(dataset, "config", None))
        summary.warnings = list(getattr(dataset, "warnings", []) or [])
        return summary

    def as_dict(self) -> dict[str, Any]:
        """The counts and time (and configuration), as recorded in the workspace's load history."""
        return ({"config": self.config} if self.config else {}) | {
            "accounts_new": self.accounts_new,
            "accounts_updated": self.accounts_updated,
            "links_new": self.links_new,
            "links_updated": self.links_updated,
            "transactions_new": self.transactions_new,
            "transactions_updated": self.transactions_updated,
            "seconds": self.seconds,
        }

    @property
    def unchanged(self) -> bool:
        return not (
            self.accounts_new
            or self.accounts_updated
            or self.links_new
            or self.links_updated
            or self.transactions_new
            or self.transactions_updated
        )


@dataclass
class SweepRecord:
    """Everything one sweep writes (``Workspace.save_sweep``: all of it or none of it)."""

    sweep: dict[str, Any]  # the SWEEP_COLUMNS of this sweep
    tables: dict[str, pd.DataFrame]  # RESULT_TABLES, each replacing the current one (one left out stays)
    state: pd.DataFrame  # STATE_COLUMNS rows to upsert
    audit: pd.DataFrame  # AUDIT_COLUMNS rows to append
    notices: pd.DataFrame  # NOTICE_COLUMNS rows to append
    next_ring_number: int
    # The account scores the decisions were made from, also when ``tables`` leaves them out (a
    # reused detection): what says whether a decision row is default (``implied_rows``).
    account_scores: pd.DataFrame | None = None
    # The ``data_version`` the sweep read its data at (before reading it).
    data_version: str | None = None
    # A delta sweep's: the rows its tables replace (the others stand).
    scope: SweepScope | None = None
    # The detection's components (``Detection.components``; a delta sweep's: of its accounts).
    components: pd.DataFrame | None = None
    # The data's latest timestamp (the sweep's default as_of) and accounts whose rows hold it
    # (some, not necessarily all): a delta sweep's as_of is read from them by key.
    latest: tuple[pd.Timestamp, list[str]] | None = None
    # Where the audit trail stood when the policy read the account states (``Workspace.audit_mark``;
    # None: the sweep changes no state). An account with a later audit row was changed by someone
    # else (a review, a suspend or reinstate by hand, an applied check) while the sweep ran, from a
    # state the sweep did not see: ``save_sweep`` holds back the sweep's changes to it (``hold_back``).
    audit_mark: int | None = None
    # Called by ``hold_back`` with the accounts held back, after their rows left the record: the
    # sweep's summary says so (``fraudgraph.app.sweep``).
    on_hold_back: Callable[[list[str]], None] | None = None
    # A backend's head start on writing the detection's tables (``Workspace.stage_sweep``: what
    # it returned for this record's very tables), or None.
    staged: Any = None


def hold_back(record: SweepRecord, acted: Iterable[str]) -> list[str]:
    """Take out of ``record`` the state changes, audit rows and notices of the accounts in
    ``acted`` (changed by someone else since ``record.audit_mark``; a backend calls it inside the
    write that holds the workspace against such changes, before it writes them). The sweep's
    decision rows stay: what it concluded from the data it read; the account's state is the
    analyst's, and the next sweep decides the account again, seeing it. Returns the accounts
    held back (sorted), those whose rows the sweep would have changed."""
    acted = set(acted)
    if not acted:
        return []
    frames = (record.state, record.audit, record.notices)
    touched = set().union(*(set(f["account_id"]) for f in frames if f is not None and len(f)))
    held = sorted(acted & touched)
    if not held:
        return []
    record.state, record.audit, record.notices = (
        f if f is None or not len(f) else f[~f["account_id"].isin(held)].reset_index(drop=True) for f in frames
    )
    if record.on_hold_back is not None:
        record.on_hold_back(held)
    return held


@dataclass
class SweepScope:
    """The part of the results a delta sweep replaces (``fraudgraph.app.delta``): the rows of
    ``accounts`` in ring_members and account_scores, of ``decided`` in decisions, of ``rings`` in
    rings and ring_identifiers, and of ``identifiers`` (kind, key) in hubs. The record's tables
    hold the new rows of exactly those (account_scores and decisions with their default rows,
    which the backend may leave out as it does for a full sweep); every other row stands."""

    accounts: list[str]
    decided: list[str]
    rings: list[str]
    identifiers: pd.DataFrame


def _empty_reasons(values: Iterable) -> np.ndarray:
    """True where reasons are an empty list (or their stored text, "[]"); anything else is not."""
    return np.fromiter(((r.__class__ is list and not r) or (r.__class__ is str and r == "[]") for r in values), bool)


def _floats(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _aligned(account_scores: pd.DataFrame, decisions: pd.DataFrame) -> np.ndarray:
    """The position in ``account_scores`` of each decision's account (-1: none)."""
    a = account_scores["account_id"].to_numpy(dtype=object)
    b = decisions["account_id"].to_numpy(dtype=object)
    if len(a) == len(b) and bool((a == b).all()):  # the same accounts in the same order: the usual case
        return np.arange(len(b))
    return pd.Index(a).get_indexer(b)


def implied_rows(account_scores: pd.DataFrame | None, decisions: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of a sweep's ``account_scores`` and ``decisions`` are default (see the module
    docstring): boolean masks, True for a row a backend may leave out. A row is only ever called
    default when reading it back from the defaults gives the very same values; when in doubt
    (an unusual type, reasons equal but not the same list) it is not."""
    n_scores = 0 if account_scores is None else len(account_scores)
    scores_default = np.zeros(n_scores, dtype=bool)
    if account_scores is not None:
        score = _floats(account_scores["score"])
        scores_default = (score == 0.0) & ~np.signbit(score) & pd.isna(account_scores["ring_id"]).to_numpy(dtype=bool)
        s_reasons_all = account_scores["reasons"].to_numpy(dtype=object)
        scores_default[scores_default] = _empty_reasons(s_reasons_all[scores_default])
    if decisions is None:
        return scores_default, np.zeros(0, dtype=bool)
    d = decisions
    plain = (
        (d["action"].to_numpy(dtype=object) == "none")
        & (d["trigger"].to_numpy(dtype=object) == "none")
        & (d["evidence"].to_numpy(dtype=object) == "")
        & pd.isna(d["new_credit_limit"]).to_numpy(dtype=bool)
    )
    if account_scores is None:
        return scores_default, np.zeros(len(d), dtype=bool)
    # The decision's score, ring and reasons against the account's score row (or the default one).
    pos = _aligned(account_scores, d)
    has = pos >= 0
    s_score = np.zeros(len(d))
    s_score[has] = score[pos[has]]
    d_score = _floats(d["score"])
    same_score = (d_score == s_score) & (np.signbit(d_score) == np.signbit(s_score))
    s_ring = np.full(len(d), None, dtype=object)
    s_ring[has] = account_scores["ring_id"].to_numpy(dtype=object)[pos[has]]
    d_ring = d["ring_id"].to_numpy(dtype=object)
    same_ring = np.where(pd.isna(d_ring), pd.isna(s_ring), d_ring == s_ring).astype(bool)
    out = plain & same_score & same_ring
    at = np.flatnonzero(out)  # the reasons are compared only where all else is default
    s_reasons = np.empty(len(at), dtype=object)
    s_reasons[has[at]] = s_reasons_all[pos[at][has[at]]]
    s_reasons[~has[at]] = "[]"  # an account without a score row has no reasons
    d_reasons = d["reasons"].to_numpy(dtype=object)[at]
    same = np.fromiter(map(operator.is_, d_reasons, s_reasons), dtype=bool, count=len(at))
    other = np.flatnonzero(~same)  # mostly none: the policy passes the score row's list on
    same[other] = _empty_reasons(d_reasons[other]) & _empty_reasons(s_reasons[other])
    out[at] = same
    return scores_default, out


def sparse_tables(record: SweepRecord) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The record's result tables without their default rows (``implied_rows``), and the sweep's
    accounts (account_id, credit_limit, by id) that imply them; the tables as they are (and None)
    when the record has no per-account decisions to say which accounts it swept."""
    tables = dict(record.tables)
    dec = tables.get("decisions")
    if dec is None or not {"credit_limit", "evidence"} <= set(dec.columns):
        return tables, None
    ids = dec["account_id"].to_numpy(dtype=object)
    if not bool((ids[1:] > ids[:-1]).all()):  # decisions come in account id order: sort only if not
        if dec["account_id"].duplicated().any():
            return tables, None
        dec = dec.sort_values("account_id", kind="stable")
    swept = dec[["account_id", "credit_limit"]]
    scores = tables.get("account_scores")
    basis = record.account_scores if record.account_scores is not None else scores
    if basis is not None:
        scores_default, decision_default = implied_rows(basis, dec)
        tables["decisions"] = dec[~decision_default]
    if scores is not None:
        if scores is not basis:
            scores_default = implied_rows(scores, None)[0]
        a = scores["account_id"].to_numpy(dtype=object)
        if not (len(a) == len(ids) and bool((a == swept["account_id"].to_numpy(dtype=object)).all())):
            scores_default &= isin(scores["account_id"], swept["account_id"])
        tables["account_scores"] = scores[~scores_default]
    return tables, swept


class Workspace(abc.ABC):
    """Storage for loaded data, sweep results, account state and the audit trail."""

    backend: str = "abstract"

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:  # pragma: no cover - trivial default
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- loading ---------------------------------------------------------------------------
    @abc.abstractmethod
    def load(self, dataset, *, progress: Progress | None = None) -> LoadSummary:
        """Store a validated ``contract.Dataset`` atomically and idempotently.

        Accounts are upserted (a newer extract updates fields), link observations are added
        (``first_seen`` keeps the earliest), transactions are upserted by ``txn_id``.
        """

    @abc.abstractmethod
    def data_version(self) -> str:
        """A token that changes whenever the data a detection reads changes: a load (or
        ``check --apply``) or an analyst's label. Equal tokens mean the same accounts, links,
        transactions and labels, so a sweep may reuse the last sweep's detection."""

    @abc.abstractmethod
    def status(self) -> dict[str, Any]:
        """Counts per table and per identifier kind, distinct identifiers, last load, last sweep."""

    def last_load(self) -> dict[str, Any] | None:
        """The last load's record (at, source, counts, config), or None before the first load."""
        return self.status().get("last_load")

    # -- reading the loaded data -----------------------------------------------------------
    @abc.abstractmethod
    def accounts(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        """ACCOUNT_COLUMNS frame (all accounts, or the given ones)."""

    @abc.abstractmethod
    def links(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        """LINK_COLUMNS frame (all links, or those of the given accounts)."""

    @abc.abstractmethod
    def transactions(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        """TRANSACTION_COLUMNS frame; with account_ids, those paid by or to them."""

    # -- sweeps ----------------------------------------------------------------------------
    @abc.abstractmethod
    def sweep_lock(self, owner: str) -> AbstractContextManager:
        """Hold the exclusive sweep lock; raise ``LockedError`` at once if another holds it.

        A lock left by a crashed process is recovered (never blocks forever).
        """

    @abc.abstractmethod
    def next_ring_number(self) -> int:
        """The counter for new stable ring ids (1 on a fresh workspace)."""

    def stage_sweep(self, tables: dict[str, pd.DataFrame], components: pd.DataFrame | None) -> Any:
        """Start writing a full sweep's detection tables ahead of ``save_sweep`` (which takes
        what this returns as ``SweepRecord.staged``; the caller runs the policy meanwhile), or
        None: nothing started, ``save_sweep`` writes everything. Called only by a sweep that will
        save them unchanged; an object returned has ``discard()`` for a sweep that stops before."""
        return None

    @abc.abstractmethod
    def save_sweep(self, record: SweepRecord) -> None:
        """Write a whole sweep (see ``SweepRecord``) so that a reader sees either the previous
        sweep's results or all of this one's, never a mix, and a failed write leaves the previous
        sweep's (SQLite: one transaction; Neo4j: batches, then one small switching transaction)."""

    @abc.abstractmethod
    def sweeps(self) -> pd.DataFrame:
        """SWEEP_COLUMNS, newest first."""

    # -- current results ---------------------------------------------------------------------
    @abc.abstractmethod
    def table(self, name: str, **where: Any) -> pd.DataFrame:
        """A current result table (RESULT_TABLES) filtered by equality on columns.

        ``where`` values may be a scalar or a list (membership). Unknown names raise ValueError.
        """

    def top_rings(self, min_score: float | None, limit: int | None, offset: int = 0) -> tuple[pd.DataFrame, int]:
        """Rings of the last sweep, highest score first (then exposure, then ring id), rows
        ``offset`` .. ``offset + limit`` of those scoring at least ``min_score``; and how many
        there are in all. This reads the whole table; a backend may answer from an index."""
        df = self.table("rings")
        if min_score is not None:
            df = df[df["score"] >= min_score]
        df = df.sort_values(["score", "exposure", "ring_id"], ascending=[False, False, True])
        shown = df.iloc[offset : offset + limit] if limit is not None else df.iloc[offset:]
        return shown.reset_index(drop=True), len(df)

    def decision_page(
        self, action: str | None, show_all: bool, limit: int | None, offset: int = 0
    ) -> tuple[pd.DataFrame, int]:
        """The decisions in force (an analyst's or applied action and trigger over the policy's),
        most severe action first, then highest score, then account id: those with ``action``, or
        every one (``show_all``), or all but "none"; rows ``offset`` .. ``offset + limit`` and how
        many there are in all. This reads the whole table; a backend may do it in its query."""
        from fraudgraph.decisions.verdicts import in_force

        df = in_force(self.table("decisions"), self.account_state(), ("action", "trigger"))
        if action:
            df = df[df["action"] == action]
        elif not show_all:
            df = df[df["action"] != "none"]
        order = df["action"].map(ACTION_ORDER).fillna(len(ACTION_ORDER))
        df = df.assign(_o=order).sort_values(["_o", "score", "account_id"], ascending=[True, False, True])
        df = df.drop(columns="_o")
        shown = df.iloc[offset : offset + limit] if limit is not None else df.iloc[offset:]
        return shown.reset_index(drop=True), len(df)

    @abc.abstractmethod
    def account_state(self, account_ids: list[str] | None = None) -> pd.DataFrame:
        """STATE_COLUMNS frame."""

    # -- logs ------------------------------------------------------------------------------
    @abc.abstractmethod
    def audit(self, account_id: str | None = None) -> pd.DataFrame:
        """AUDIT_COLUMNS, oldest first."""

    def audit_count(self) -> int:
        """How many audit rows there are (every account's), without reading them. Backends
        override it with a count where the rows are."""
        return len(self.audit())

    def audit_mark(self) -> int:
        """Where the audit trail stands now (grows with every row appended): a sweep takes it
        before it reads the account states (``SweepRecord.audit_mark``)."""
        return self.audit_count()

    def acted_after(self, mark: int) -> list[str]:
        """Accounts with an audit row appended after ``mark`` (``audit_mark``)."""
        return sorted({str(a) for a in self.audit()["account_id"].iloc[int(mark) :]})

    @abc.abstractmethod
    def notices(self, since_sweep: str | None = None) -> pd.DataFrame:
        """NOTICE_COLUMNS, oldest first (in the order written).

        A sweep's notice has its ``sweep_id`` and the id ``<sweep_id>:<account_id>``; a notice
        written outside a sweep (``apply_manual``: a real-time check applied, an analyst's suspend,
        reinstate or verdict) has no ``sweep_id`` and the id ``<action>-<n>:<account_id>``, n being
        the account's audit entry it goes with (``check-2``, ``suspend-3``, ``reinstate-4``,
        ``review-5``). ``since_sweep``: only the notices of later sweeps and those written outside a
        sweep after it finished (to its second: one written in that second is included, so a
        messaging system that asks after each sweep may see it twice; the notice_id tells)."""

    @abc.abstractmethod
    def reviews(self) -> pd.DataFrame:
        """REVIEW_COLUMNS, oldest first."""

    # -- analyst actions -------------------------------------------------------------------
    @abc.abstractmethod
    def apply_manual(
        self,
        *,
        state: pd.DataFrame,
        audit: pd.DataFrame,
        review: dict[str, Any] | None = None,
        label: tuple[str, str | None] | None = None,
        notices: pd.DataFrame | None = None,
    ) -> None:
        """In one transaction: upsert state rows, append audit rows, record a review, set a label,
        append customer notices (NOTICE_COLUMNS rows; see ``notices`` for their ids).

        ``label`` is (account_id, "fraud" | "legit" | None) and overrides the loaded label;
        a later load does not undo an analyst's label.
        """

    # -- investigation -----------------------------------------------------------------------
    # The search itself is written once (``fraudgraph.workspace.search``) over the primitives
    # below, which each backend runs where the data is (SQL or Cypher): a hop at a time, never
    # the whole graph.
    def neighbourhood(self, account_ids: list[str], *, hops: int, max_nodes: int, hub_threshold: int) -> Neighbourhood:
        """Accounts within ``hops`` account->identifier->account steps of ``account_ids``.

        Identifiers shared by more than ``hub_threshold`` accounts, or recorded as hubs by the
        last sweep, are shown but not expanded. Stops at ``max_nodes`` (``truncated=True``).
        Raises ``NotFoundError`` for an unknown account.
        """
        return search.neighbourhood(self, account_ids, hops=hops, max_nodes=max_nodes, hub_threshold=hub_threshold)

    def shortest_path(self, a: str, b: str, *, max_hops: int, hub_threshold: int) -> list[dict] | None:
        """The shortest account-identifier-account chain from ``a`` to ``b``, not through hubs.

        Returns alternating node dicts ({"type": "account", "account_id"} / {"type":
        "identifier", "kind", "key", "raw_values"}), or None when none exists within max_hops
        (0 to ``search.MAX_PATH_HOPS``, else ValueError). Raises ``NotFoundError`` for an
        unknown account.
        """
        return search.shortest_path(self, a, b, max_hops=max_hops, hub_threshold=hub_threshold)

    @abc.abstractmethod
    def identifier_counts(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """For (kind, key) pairs: kind, key, n_accounts, raw_values (list of raw spellings)."""

    @abc.abstractmethod
    def identifiers_of(self, account_ids: Iterable[str]) -> pd.DataFrame:
        """Identified links of the accounts: account_id, kind, key, earliest first_seen (datetime64[ns]); sorted."""

    @abc.abstractmethod
    def accounts_of(self, pairs: list[tuple[str, str]], limit: int) -> pd.DataFrame:
        """Distinct account_id, kind, key of accounts using the pairs, by kind, key, account_id; <= ``limit`` rows."""

    @abc.abstractmethod
    def hub_keys(self) -> set[tuple[str, str]]:
        """The (kind, key) of every identifier the last sweep recorded in its ``hubs`` table."""

    @abc.abstractmethod
    def paid_between(self, account_ids: list[str]) -> pd.DataFrame:
        """Payments among the accounts per payer, payee: account_id, counterparty, amount, count, first_ts, last_ts."""

    def account_view(self, account_ids: list[str]) -> pd.DataFrame:
        """These accounts with score, ring_id and effective action/status (built on public reads)."""
        return search.account_view(self, account_ids)

    # -- real-time check -------------------------------------------------------------------
    @abc.abstractmethod
    def check_lookup(self, pairs: list[tuple[str, str]], account_ids: list[str], *, limit: int) -> CheckLookup:
        """What the identifier index and the last sweep say about one event, read through indexes.

        ``pairs``: the event's identifiers as (kind, canonical key). ``account_ids``: accounts asked
        for by id (the event's own account, the accounts it pays or is paid by). Accounts using
        an identifier the last sweep recorded as a hub, or one shared by more than ``limit``
        accounts, are not listed (the identifier's count says how many there are). The work is
        proportional to the event, never to the workspace.
        """

    def audit_of(self, account_ids: list[str]) -> pd.DataFrame:
        """AUDIT_COLUMNS of these accounts in one read, oldest first (each account's rows in the
        order ``audit(account_id)`` gives them). Backends override it with one indexed query."""
        frames = [self.audit(a) for a in dict.fromkeys(account_ids)]
        if not frames:
            return self.audit("")
        return pd.concat(frames, ignore_index=True).sort_values("at", kind="stable").reset_index(drop=True)


@dataclass
class CheckLookup:
    """The answer of ``Workspace.check_lookup``: plain rows, no frames (it runs once per event).

    identifiers: one per pair that some account uses or the last sweep recorded as a hub: kind,
        key, n_accounts (accounts using it now; the sweep's count for a recorded hub), hub_reason
        (why the sweep made it a hub; None for an ordinary identifier).
    accounts: account_id, kind, key (None for an account asked for by id), ring_id, score, action
        and status in force (an applied state wins over the sweep's decision), trigger.
    rings: one per ring of a listed account: ring_id, size, score, codes (the ring's reason codes),
        action (the most severe fraud action its members hold now: a credit trigger such as
        overdue does not make a ring suspended).
    """

    identifiers: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    rings: list[dict[str, Any]] = field(default_factory=list)
