"""Transactions in SQLite rows, or only in the columnar snapshot: the two side by side.

    python benchmarks/bench_txn_store.py --db DIR/1000000/bench.db [--repeat 3]

A big load writes every transaction twice: into the columnar snapshot the sweep reads whole, and
into SQLite rows with two indexes (by payer, and by payee for payments to an account). The rows
are what everything that asks for some accounts' transactions reads: an account page and an
export (who paid whom among the accounts shown), a delta sweep (the transactions of the accounts
it reaches), an analyst's verdict (the evidence snapshot it stores) and a small load's lookup by
``txn_id``. At 1M accounts they cost the load its staging child's binding of 2.9M x 7 values,
their copy and the two index builds. This measures, on a loaded workspace (read only; the files
it writes are temporary, beside it):

- ``write_rows``: what the load pays for the rows, as the load does it: the staging child's insert
  (``store._insert_data`` into an empty file, the child's settings), the copy into a file set up
  as a first load's (rollback journal, full sync, its page cache), and the two index builds (the
  load's small cache and sorter threads);
- ``write_view``: what the alternative would pay instead: a *holder view* of the transactions,
  each under its payer and, when an account was paid, again under the payee, sorted by holder and
  cut into snapshot parts as the links are (``parts.ROWS_PER_PART``, row groups of
  ``parts.ROW_GROUP_ROWS`` with their holder range, encoded by ``parts.encode``),
  then stored as blobs with their ranges;
- the reads, for the accounts of a real account page (the neighbourhood ``account`` shows: the
  top ring's first member, two hops, the CLI's node cap and hub threshold): the payments among
  them (``paid_between``: what the page reads) and their transactions as payer or payee
  (``transactions(ids)``: what a delta sweep or a verdict reads), from the indexed rows, and from
  the view's parts whose holder range holds one of them (found by their ranges, fetched, decoded
  two at a time as the links' are), in pandas.

Both answers are compared first (every column of the transactions; the payments' pairs, counts,
sums and first and last times), and the benchmark stops if they differ or are empty. Times are
wall seconds with the process's CPU seconds beside them (SQLite's sorter and Arrow use threads).

Measured at 1M accounts (2.9M transactions, 2026-12-07) in the README and benchmarks/HISTORY.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_investigate import _pick

from fraudgraph.app.investigate import DEFAULT_HUB_THRESHOLD, DEFAULT_MAX_NODES
from fraudgraph.workspace.sqlite import parts as snapshot_parts, staging, store
from fraudgraph.workspace.sqlite.schema import PAGE_SIZE, SECONDARY_INDEXES

# The view's parts and row groups, as the links' (module attributes, so a test can make them small).
_PART = snapshot_parts.ROWS_PER_PART["links"]
_GROUP = snapshot_parts.ROW_GROUP_ROWS["links"]
_VIEW_DICTIONARY = ["account_id", "payer", "counterparty", "counterparty_kind", "status"]
COLUMNS = ["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp", "status"]
_CENT = 0.005


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """``work()``, its wall seconds and the process's CPU seconds (all threads) meanwhile."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = work()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _db(path: Path, *, staged: bool) -> sqlite3.Connection:
    """A file with the workspace's pages: a staging child's (``staging.start``: its page cache, no
    journal, no sync) or a first load's (the workspace's page cache, rollback journal, full sync)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size={PAGE_SIZE}")
    if staged:
        db.execute(f"PRAGMA cache_size={staging._CACHE_KB}")
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
    else:
        db.execute(f"PRAGMA cache_size={store._CACHE_KB}")
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
    return db


def write_rows(ws: store.SqliteWorkspace, txns: pd.DataFrame, folder: Path) -> dict[str, Any]:
    """The load's SQLite rows of ``txns`` in files under ``folder``: staged, copied, indexed
    ((wall, CPU) seconds of each) and the size of the file that keeps them."""
    table = ws._db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'transactions'").fetchone()[0]
    indexes = [sql for _, on, sql in SECONDARY_INDEXES if on == "transactions"]
    stage = _db(folder / "stage.db", staged=True)
    stage.execute(table)

    def staged() -> None:
        stage.execute("BEGIN")
        store._insert_data(stage, "transactions", txns, "")
        stage.execute("COMMIT")

    out: dict[str, Any] = {"stage": _timed(staged)[1:]}
    stage.close()
    main = _db(folder / "main.db", staged=False)
    main.execute(table)

    def copied() -> None:
        main.execute("ATTACH DATABASE ? AS staged", (str(folder / "stage.db"),))
        main.execute("BEGIN")
        main.execute("INSERT INTO main.transactions SELECT * FROM staged.transactions")
        main.execute("COMMIT")
        main.execute("DETACH DATABASE staged")

    def indexed() -> None:
        main.execute("BEGIN")
        store.build_indexes(main, indexes)
        main.execute("COMMIT")

    out["copy"] = _timed(copied)[1:]
    out["index"] = _timed(indexed)[1:]
    main.close()
    out["mb"] = (folder / "main.db").stat().st_size / 1e6
    return out


def holder_view(txns: pd.DataFrame, accounts: pd.Series) -> pa.Table:
    """Each transaction under its payer, and again under the payee when an account was paid:
    ``account_id`` is the holder, ``payer`` the paying account; sorted by holder, then txn_id.
    ``accounts``: every account id, sorted (as the load holds them), which rank the holders: an
    integer sort instead of one of 3.3M strings (1.7 s at 1M accounts). In Arrow, one take of
    every column (pandas' take of its Arrow-backed text costs 2.2 s a time)."""
    table = pa.Table.from_pandas(txns, preserve_index=False)
    paid = np.flatnonzero(pc.equal(table.column("counterparty_kind"), "account").to_numpy())
    # Rows of the view: every transaction, then the paid ones again; put in txn_id order, then
    # stably by holder (so txn_id order holds within a holder).
    source = np.concatenate([np.arange(len(txns)), paid])
    holder = pa.chunked_array(
        [*table.column("account_id").chunks, *table.column("counterparty").take(pa.array(paid)).chunks]
    )
    rank = pc.index_in(holder, value_set=pa.array(accounts.astype(str).to_numpy(), holder.type))
    if rank.null_count:
        raise ValueError("a payer or an account paid is not among the accounts")
    rank = rank.to_numpy()
    by_txn = np.argsort(source, kind="stable")
    order = by_txn[np.argsort(rank[by_txn], kind="stable")]
    view = table.take(pa.array(source[order]))
    return view.rename_columns(["payer" if c == "account_id" else c for c in view.column_names]).append_column(
        "account_id", holder.take(pa.array(order))
    )


def write_view(txns: pd.DataFrame, accounts: pd.Series, path: Path) -> tuple[dict[str, Any], sqlite3.Connection]:
    """The holder view of ``txns`` (``holder_view``) made, encoded and stored in a new file at
    ``path`` ((wall, CPU) seconds of each; its rows and size); the file, open."""
    if not txns["txn_id"].is_monotonic_increasing or not accounts.is_monotonic_increasing:
        raise ValueError(
            "expected the transactions in txn_id order and the accounts sorted, as the snapshot holds them"
        )
    view, *out_view = _timed(lambda: holder_view(txns, accounts))
    holders = view.column("account_id")

    def encoded() -> list[tuple[int, bytes, str, str]]:
        parts = []
        for i, start in enumerate(range(0, view.num_rows, _PART)):
            last = min(start + _PART, view.num_rows) - 1
            data = snapshot_parts.encode(view.slice(start, _PART), _VIEW_DICTIONARY, _GROUP)
            parts.append((i, data, holders[start].as_py(), holders[last].as_py()))
        return parts

    parts, *out_encode = _timed(encoded)
    db = _db(path, staged=False)
    db.execute("CREATE TABLE view (part INTEGER PRIMARY KEY, data BLOB NOT NULL, first_id TEXT, last_id TEXT)")

    def stored() -> None:
        db.execute("BEGIN")
        db.executemany("INSERT INTO view VALUES (?, ?, ?, ?)", parts)
        db.execute("CREATE INDEX view_ranges ON view (part, first_id, last_id)")
        db.execute("COMMIT")

    out = {"view": tuple(out_view), "encode": tuple(out_encode), "store": _timed(stored)[1:]}
    out.update(rows=view.num_rows, parts=len(parts), mb=sum(len(p[1]) for p in parts) / 1e6)
    return out, db


def view_transactions(db: sqlite3.Connection, ids: list[str]) -> pd.DataFrame:
    """``transactions(ids)`` from the view: the parts whose holder range holds one of ``ids``
    (their ranges read first, as ``SqliteWorkspace._parts_holding`` reads the links'), their rows
    of them, each transaction once, in txn_id order."""
    wanted = sorted(set(ids))
    ranges = db.execute("SELECT part, first_id, last_id FROM view ORDER BY part").fetchall()
    chosen = snapshot_parts.holding(ranges, np.array(wanted, dtype=object))
    blobs = []
    for at in range(0, len(chosen), 500):  # below SQLite's limit on bound parameters
        chunk = chosen[at : at + 500]
        sql = f"SELECT part, data FROM view WHERE part IN ({', '.join('?' * len(chunk))}) ORDER BY part"
        blobs += db.execute(sql, chunk).fetchall()
    found = snapshot_parts.rows_of_parts(blobs, "account_id", wanted)
    view_columns = ["payer" if c == "account_id" else c for c in COLUMNS]
    if found:
        rows = pa.concat_tables([t for _, t in found]).to_pandas()[view_columns]
    else:  # none of them holds a transaction
        rows = pd.DataFrame({c: pd.Series(dtype="float64" if c == "amount" else object) for c in view_columns})
    rows = rows.rename(columns={"payer": "account_id"})
    return rows.drop_duplicates("txn_id").sort_values("txn_id").reset_index(drop=True)


def view_paid_between(db: sqlite3.Connection, ids: list[str]) -> pd.DataFrame:
    """``paid_between(ids)`` from the view: the payments among ``ids`` per (payer, payee)."""
    rows = view_transactions(db, ids)
    among = set(ids)
    inside = rows["counterparty_kind"].eq("account") & rows["account_id"].isin(among) & rows["counterparty"].isin(among)
    return (
        rows[inside]
        .groupby(["account_id", "counterparty"], sort=True)
        .agg(
            amount=("amount", "sum"),
            count=("amount", "size"),
            first_ts=("timestamp", "min"),
            last_ts=("timestamp", "max"),
        )
        .reset_index()
    )


def _ns(values: pd.Series) -> list[int]:
    return pd.to_datetime(values).astype("datetime64[ns]").astype("int64").tolist()


def same_answer(
    sql_rows: pd.DataFrame, sql_paid: pd.DataFrame, view_rows: pd.DataFrame, view_paid: pd.DataFrame
) -> tuple[bool, bool]:
    """Whether the view gave the rows' answer: the same transactions, every column (amounts to the
    cent, times to the nanosecond), and the same payments among the accounts (pairs, counts, sums
    to the cent, first and last times)."""
    text = ["txn_id", "account_id", "counterparty", "counterparty_kind", "status"]
    same_rows = (
        len(sql_rows) == len(view_rows)
        and sql_rows[text].astype(str).values.tolist() == view_rows[text].astype(str).values.tolist()
        and _ns(sql_rows["timestamp"]) == _ns(view_rows["timestamp"])
        and bool(np.all(np.abs(sql_rows["amount"].to_numpy(float) - view_rows["amount"].to_numpy(float)) < _CENT))
    )
    pairs = ["account_id", "counterparty"]
    same_paid = (
        len(sql_paid) == len(view_paid)
        and sql_paid[pairs].astype(str).values.tolist() == view_paid[pairs].astype(str).values.tolist()
        and [int(n) for n in sql_paid["count"]] == [int(n) for n in view_paid["count"]]
        and _ns(sql_paid["first_ts"]) == _ns(view_paid["first_ts"])
        and _ns(sql_paid["last_ts"]) == _ns(view_paid["last_ts"])
        and bool(np.all(np.abs(sql_paid["amount"].to_numpy(float) - view_paid["amount"].to_numpy(float)) < _CENT))
    )
    return same_rows, same_paid


def _account_page_ids(ws: store.SqliteWorkspace, db: str) -> list[str]:
    """The accounts of the account page ``bench_investigate.py`` times (the top ring's first
    member's, in the workspace at ``db``), as ``account`` reads them."""
    account, _ = _pick(db)
    hood = ws.neighbourhood([account], hops=2, max_nodes=DEFAULT_MAX_NODES, hub_threshold=DEFAULT_HUB_THRESHOLD)
    return hood.accounts["account_id"].astype(str).tolist()


def _seconds(step: tuple[float, float]) -> str:
    return f"{step[0]:.2f} s ({step[1]:.2f} CPU)"


def _best(work: Callable[[], Any], repeat: int) -> str:
    """The best and median wall time of ``repeat`` calls of ``work``, in ms."""
    runs = [_timed(work)[1] for _ in range(repeat)]
    return f"{min(runs) * 1000:.1f} ms (median {statistics.median(runs) * 1000:.1f})"


def _report(ws: store.SqliteWorkspace, view: sqlite3.Connection, ids: list[str], repeat: int) -> None:
    """Check both answers for ``ids``, then print the reads' times."""
    sql_rows, sql_paid = ws.transactions(ids), ws.paid_between(ids)
    same_rows, same_paid = same_answer(sql_rows, sql_paid, view_transactions(view, ids), view_paid_between(view, ids))
    if not (same_rows and same_paid):
        raise SystemExit(f"the two answers differ: transactions {same_rows}, payments among them {same_paid}")
    if not len(sql_rows):
        raise SystemExit("the page's accounts have no transactions: nothing to compare or time")
    print(f"the same answer both ways: {len(sql_rows)} transactions, {len(sql_paid)} payment pairs among them")
    print(f"read paid_between, SQLite rows:     {_best(lambda: ws.paid_between(ids), repeat)}")
    print(f"read paid_between, holder view:     {_best(lambda: view_paid_between(view, ids), repeat)}")
    print(f"read transactions(ids), rows:       {_best(lambda: ws.transactions(ids), repeat)}")
    print(f"read transactions(ids), view:       {_best(lambda: view_transactions(view, ids), repeat)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a loaded and swept workspace (read only)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with store.SqliteWorkspace(args.db) as ws, tempfile.TemporaryDirectory(dir=Path(args.db).parent) as tmp:
        txns = ws.transactions()
        ids = _account_page_ids(ws, args.db)
        print(f"{len(txns):,} transactions; an account page of {len(ids)} accounts")
        rows = write_rows(ws, txns, Path(tmp))
        print(
            f"write, SQLite rows:  stage {_seconds(rows['stage'])} + copy {_seconds(rows['copy'])} "
            f"+ two indexes {_seconds(rows['index'])}; {rows['mb']:.0f} MB"
        )
        built, view = write_view(txns, ws.accounts()["account_id"], Path(tmp) / "view.db")
        try:
            print(
                f"write, holder view:  view {_seconds(built['view'])} + encode {_seconds(built['encode'])} "
                f"+ store {_seconds(built['store'])}; {built['rows']:,} rows, {built['parts']} parts, "
                f"{built['mb']:.0f} MB"
            )
            _report(ws, view, ids, args.repeat)
        finally:
            view.close()


if __name__ == "__main__":
    main()
