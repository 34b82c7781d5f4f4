"""How long a sweep's read of the SQLite workspace's columnar snapshot takes, delta parts merged in.

Usage:
    python benchmarks/bench_snapshot_read.py make-delta DIR [--accounts 1000] [--seed 7]
    python benchmarks/bench_snapshot_read.py time --db COPY.db [--read detection_links ...]

``make-delta`` writes a delta folder of ``accounts`` new accounts with their links and
transactions: a generated world whose account and transaction ids get an ``n`` suffix
("A0000123n"), so they are new to a workspace of a generated world yet fall between its ids
(the merge inserts them all over the snapshot, not at its end). Load it with
``fraudgraph --db COPY.db load --delta DIR``.

``time`` runs each read (``detection_links``, ``links``, ``accounts``, ``transactions``) in a fresh
process and prints its wall and CPU time and the process's peak memory (max RSS); ``merge_links``
(and ``merge_accounts``, ``merge_transactions``) time only the merge of the delta parts over the
snapshot's base within a read. Work on a copy of a workspace: a delta load changes it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

READS = ["detection_links", "links", "accounts", "transactions"]
MERGES = ["merge_links", "merge_accounts", "merge_transactions"]


def make_delta(folder: Path, accounts: int, seed: int) -> None:
    from fraudgraph.synthetic.world import generate_world

    world = generate_world(accounts, seed)
    folder.mkdir(parents=True, exist_ok=True)

    def renamed(s):
        return s.astype(str).where(~s.astype(str).str.startswith("A"), s.astype(str) + "n")

    acc = world.accounts.assign(account_id=renamed(world.accounts["account_id"]))
    links = world.links.assign(account_id=renamed(world.links["account_id"]))
    tx = world.transactions
    tx = tx.assign(
        txn_id=tx["txn_id"].astype(str) + "n",
        account_id=renamed(tx["account_id"]),
        counterparty=renamed(tx["counterparty"]),
    )
    acc.to_parquet(folder / "accounts.parquet", index=False)
    links.to_parquet(folder / "links.parquet", index=False)
    tx.to_parquet(folder / "transactions.parquet", index=False)
    print(f"{folder}: {len(acc):,} accounts, {len(links):,} links, {len(tx):,} transactions")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def read_once(db: str, what: str) -> None:
    """One read in this process: prints JSON {seconds, cpu_s, rows, max_rss_mb}. ``merge_NAME`` times
    only the merge of that snapshot's delta parts over its base, as a snapshot read calls it."""
    from fraudgraph.model import merge
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    ws = SqliteWorkspace(db, create=False)
    timed = {"seconds": 0.0, "cpu_s": 0.0}
    if what.startswith("merge_"):
        inner = merge.merged_over

        def merged_over(*args, **kwargs):
            t, cpu = time.perf_counter(), _cpu()
            out = inner(*args, **kwargs)
            timed["seconds"] += time.perf_counter() - t
            timed["cpu_s"] += _cpu() - cpu
            return out

        import fraudgraph.workspace.sqlite.store as store

        store.merged_over = merged_over  # type: ignore[assignment]
        frame = ws._read_snapshot(what.removeprefix("merge_"))
    else:
        t, cpu = time.perf_counter(), _cpu()
        frame = getattr(ws, what)()
        timed = {"seconds": time.perf_counter() - t, "cpu_s": _cpu() - cpu}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"read": what, **{k: round(v, 2) for k, v in timed.items()}, "rows": len(frame), "max_rss_mb": round(rss)}
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-delta")
    mk.add_argument("folder", type=Path)
    mk.add_argument("--accounts", type=int, default=1_000)
    mk.add_argument("--seed", type=int, default=7)
    tm = sub.add_parser("time")
    tm.add_argument("--db", required=True)
    tm.add_argument("--read", action="append", choices=READS + MERGES)
    tm.add_argument("--repeat", type=int, default=1)
    one = sub.add_parser("one")  # internal: one read in this process
    one.add_argument("--db", required=True)
    one.add_argument("what", choices=READS + MERGES)
    args = parser.parse_args()
    if args.cmd == "make-delta":
        make_delta(args.folder, args.accounts, args.seed)
    elif args.cmd == "one":
        read_once(args.db, args.what)
    else:
        for what in args.read or READS + MERGES:
            for _ in range(args.repeat):
                done = subprocess.run(
                    [sys.executable, __file__, "one", "--db", args.db, what], capture_output=True, text=True
                )
                if done.returncode != 0:
                    raise SystemExit(f"{what} failed: {done.stderr.strip()[-400:]}")
                print(done.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
