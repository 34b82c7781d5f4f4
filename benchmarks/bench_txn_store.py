"""Transactions in SQLite rows, or only in the columnar snapshot: the two side by side.

    python benchmarks/bench_txn_store.py --db DIR/1000000/bench.db [--repeat 3]

A big load writes every transaction twice: into the columnar snapshot the sweep reads, and into
SQLite rows with two indexes (by payer, and by payee for payments to an account), which only
the investigation (an account's payments, who paid whom in a neighbourhood) and a small load's
lookup by ``txn_id`` read. The rows cost the load its staging child's binding of 2.9M x 7 values
at 1M accounts, their copy and the two index builds. This measures, on a loaded workspace (read
only; nothing is written to it):

- ``write_rows``: what the load pays for the rows, done as the load does it, each step on one
  core: the staging child's insert (``store._insert_data`` into an empty file of the workspace's
  pages), the copy into a second file (the load's ``INSERT ... SELECT``) and the two index builds;
- ``write_view``: what the alternative would pay instead: a *holder view* of the transactions,
  each under its payer and, when an account was paid, again under the payee, sorted by holder and
  cut into snapshot parts of 16k rows as the links are (``parts.encode``, row groups of 4,096 with
  their holder range), encoded one after the other;
- ``read_rows`` / ``read_view``: an account page's reads of them, for the accounts of a real
  account page (the neighbourhood ``account`` shows: the top ring's first member, two hops):
  their transactions as payer or payee, and the payments among them (``paid_between``), from the
  indexed rows, and from the view's parts whose holder range holds one of them (decoded two at a
  time, as the links' are), in pandas.

Both answers are compared (same transactions, same payments among them) before any time is given.

Measured at 1M accounts (2.9M transactions, 2026-12-07, three runs): the rows cost 6.9-7.4 s of
one core (stage 4.4-5.0, copy 0.6-0.8, indexes 1.7-2.0; 245 MB), the view 4.8-5.6 s (view 3.4-4.1,
most of it Arrow's take of 3.3M rows; encode 1.4-1.5; 71 MB): some 2 s of CPU less, on a load that
keeps both cores busy. A load that wrote no rows at all (nor the view) took 5.0 s less than one
that did (five pairs in turn: 21.6-23.7 s against 26.3-30.2 s), so with the view in their place
about a second of it would be left. The account page's reads of them: 4.7-5.1 ms from the rows,
22-25 ms from the view (13 accounts in some 13 parts, as their links are). Not worth it: the
investigation's 0.2 s bar would pay 20 ms for a second of the load.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fraudgraph.workspace.sqlite import parts as snapshot_parts, store
from fraudgraph.workspace.sqlite.schema import PAGE_SIZE, PAYEE_INDEX

_PART = 16_384
_GROUP = 4_096
_TABLE = """CREATE TABLE transactions (
    txn_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, counterparty TEXT NOT NULL,
    counterparty_kind TEXT NOT NULL, amount REAL NOT NULL, timestamp INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'settled') WITHOUT ROWID"""
_BY_PAYER = "CREATE INDEX transactions_by_account ON transactions (account_id)"
_VIEW_DICTIONARY = ["account_id", "payer", "counterparty", "counterparty_kind", "status"]


def _db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size={PAGE_SIZE}")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-65536")
    return db


def write_rows(txns: pd.DataFrame, folder: Path) -> dict[str, float]:
    """The load's SQLite rows of ``txns``: staged, copied, indexed (seconds of each)."""
    times = {}
    stage = _db(folder / "stage.db")
    stage.execute(_TABLE)
    t = time.perf_counter()
    stage.execute("BEGIN")
    store._insert_data(stage, "transactions", txns, "")
    stage.execute("COMMIT")
    times["stage"] = time.perf_counter() - t
    stage.close()
    main = _db(folder / "main.db")
    main.execute(_TABLE)
    t = time.perf_counter()
    main.execute("ATTACH DATABASE ? AS staged", (str(folder / "stage.db"),))
    main.execute("BEGIN")
    main.execute("INSERT INTO main.transactions SELECT * FROM staged.transactions")
    main.execute("COMMIT")
    main.execute("DETACH DATABASE staged")
    times["copy"] = time.perf_counter() - t
    t = time.perf_counter()
    main.execute("PRAGMA cache_size=-8192")
    main.execute("PRAGMA threads=2")
    main.execute("BEGIN")
    main.execute(_BY_PAYER)
    main.execute(PAYEE_INDEX)
    main.execute("COMMIT")
    times["index"] = time.perf_counter() - t
    main.close()
    times["mb"] = sum(p.stat().st_size for p in (folder / "stage.db", folder / "main.db")) / 2 / 1e6
    return times


def holder_view(txns: pd.DataFrame, accounts: pd.Series) -> pa.Table:
    """Each transaction under its payer, and again under the payee when an account was paid:
    ``account_id`` is the holder, ``payer`` the paying account; sorted by holder, then txn_id.
    ``accounts``: every account id, sorted (as the load holds them), which rank the holders: an
    integer sort instead of one of 3.2M strings (1.7 s at 1M accounts). In Arrow, one take of
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
    rank = rank.to_numpy(zero_copy_only=False)
    by_txn = np.argsort(source, kind="stable")
    order = by_txn[np.argsort(rank[by_txn], kind="stable")]
    view = table.take(pa.array(source[order]))
    return view.rename_columns(["payer" if c == "account_id" else c for c in view.column_names]).append_column(
        "account_id", holder.take(pa.array(order))
    )


def _encode(part: pa.Table) -> bytes:
    """One part as ``parts.encode`` writes a snapshot part read by account."""
    sink = pa.BufferOutputStream()
    pq.write_table(
        part,
        sink,
        compression="zstd",
        use_dictionary=_VIEW_DICTIONARY,
        write_statistics=["account_id"],
        row_group_size=_GROUP,
    )
    return sink.getvalue().to_pybytes()


def write_view(txns: pd.DataFrame, accounts: pd.Series) -> tuple[dict[str, float], list[tuple[int, bytes, str, str]]]:
    """The holder view of ``txns`` (``holder_view``) made and encoded as snapshot parts (seconds of each); the parts
    as (part, bytes, first holder, last holder)."""
    if not txns["txn_id"].is_monotonic_increasing or not accounts.is_monotonic_increasing:
        raise ValueError(
            "expected the transactions in txn_id order and the accounts sorted, as the snapshot holds them"
        )
    times = {}
    t = time.perf_counter()
    view = holder_view(txns, accounts)
    times["view"] = time.perf_counter() - t
    t = time.perf_counter()
    parts = []
    holders = view.column("account_id")
    for i, start in enumerate(range(0, view.num_rows, _PART)):
        part = view.slice(start, _PART)
        first, last = holders[start].as_py(), holders[min(start + _PART, view.num_rows) - 1].as_py()
        parts.append((i, _encode(part), first, last))
    times["encode"] = time.perf_counter() - t
    times["mb"] = sum(len(p[1]) for p in parts) / 1e6
    times["rows"] = view.num_rows
    return times, parts


def read_view(parts: list[tuple[int, bytes, str, str]], ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An account page's transactions of ``ids`` (as payer or payee) and the payments among them,
    from the view's parts whose holder range holds one of them."""
    wanted = sorted(set(ids))
    firsts = np.array([p[2] for p in parts], dtype=object)
    lasts = np.array([p[3] for p in parts], dtype=object)
    ask = np.array(wanted, dtype=object)
    holds = np.searchsorted(ask, lasts, "right") > np.searchsorted(ask, firsts, "left")
    blobs = [(p[0], p[1]) for p, h in zip(parts, holds, strict=True) if h]
    found = snapshot_parts.rows_of_parts(blobs, "account_id", wanted)
    columns = ["txn_id", "payer", "counterparty", "counterparty_kind", "amount", "timestamp", "status"]
    if found:
        rows = pa.concat_tables([t for _, t in found]).to_pandas()[columns]
    else:  # none of them holds a transaction
        rows = pd.DataFrame({c: pd.Series(dtype="float64" if c == "amount" else object) for c in columns})
    rows = rows.rename(columns={"payer": "account_id"})
    rows = rows.drop_duplicates("txn_id").sort_values("txn_id").reset_index(drop=True)
    among = set(wanted)
    inside = (
        (rows["counterparty_kind"] == "account") & rows["account_id"].isin(among) & rows["counterparty"].isin(among)
    )
    paid = (
        rows[inside]
        .groupby(["account_id", "counterparty"], sort=True)
        .agg(amount=("amount", "sum"), count=("amount", "size"))
        .reset_index()
    )
    return rows, paid


def same_answer(
    sql_rows: pd.DataFrame, sql_paid: pd.DataFrame, view_rows: pd.DataFrame, view_paid: pd.DataFrame
) -> tuple[bool, bool]:
    """Whether the view gave the rows' answer: the same transactions (ids, payer, payee, amount),
    and the same payments among the accounts (pairs, counts, sums to the cent)."""
    columns = ["txn_id", "account_id", "counterparty", "amount"]
    same_rows = sql_rows[columns].astype(str).values.tolist() == view_rows[columns].astype(str).values.tolist()

    def pairs(paid: pd.DataFrame) -> list[tuple]:
        return [
            (str(a), str(b), int(n), round(float(x), 2))
            for a, b, n, x in paid[["account_id", "counterparty", "count", "amount"]].itertuples(index=False)
        ]

    return same_rows, pairs(sql_paid) == pairs(view_paid)


def _account_page_ids(ws) -> list[str]:
    """The accounts of the account page of the top ring's first member."""
    con = ws._db
    ring = con.execute("SELECT ring_id FROM rings ORDER BY score DESC, exposure DESC, ring_id LIMIT 1").fetchone()
    account = con.execute(
        "SELECT account_id FROM ring_members WHERE ring_id = ? ORDER BY account_id LIMIT 1", ring
    ).fetchone()[0]
    hood = ws.neighbourhood([account], hops=2, max_nodes=200, hub_threshold=50)
    return hood.accounts["account_id"].astype(str).tolist()


def _best(runs: list[float]) -> str:
    return f"{min(runs) * 1000:.1f} ms (median {statistics.median(runs) * 1000:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a loaded and swept workspace (read only)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ws = store.SqliteWorkspace(args.db)
    txns = ws.transactions()
    ids = _account_page_ids(ws)
    print(f"{len(txns):,} transactions; an account page of {len(ids)} accounts")

    with tempfile.TemporaryDirectory(dir=Path(args.db).parent) as tmp:
        rows_cost = write_rows(txns, Path(tmp))
    view_cost, parts = write_view(txns, ws.accounts()["account_id"])
    print(
        "write, SQLite rows:   stage {stage:.2f} s + copy {copy:.2f} s + two indexes {index:.2f} s "
        "({mb:.0f} MB)".format(**rows_cost)
    )
    print(
        "write, holder view:   view {view:.2f} s + encode {encode:.2f} s ({rows:,} rows, {mb:.0f} MB)".format(
            **view_cost
        )
    )

    sql_rows = ws.transactions(ids)
    sql_paid = ws.paid_between(ids)
    view_rows, view_paid = read_view(parts, ids)
    same_rows, same_paid = same_answer(sql_rows, sql_paid, view_rows, view_paid)
    if not (same_rows and same_paid):
        raise SystemExit(f"the two answers differ: transactions {same_rows}, payments among them {same_paid}")
    print(f"the same answer both ways: {len(sql_rows)} transactions, {len(sql_paid)} payment pairs among them")

    rows_t, view_t = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        ws.transactions(ids)
        ws.paid_between(ids)
        rows_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        read_view(parts, ids)
        view_t.append(time.perf_counter() - t)
    print(f"read, SQLite rows:    {_best(rows_t)}")
    print(f"read, holder view:    {_best(view_t)}")


if __name__ == "__main__":
    main()
