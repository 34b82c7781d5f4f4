"""A delta load and the sweeps after it, against a full load and a full sweep.

Usage:
    python benchmarks/bench_delta.py --accounts 100000 [--delta 1000] [--seed 1] [--folder /tmp/bench-delta]
        [--one-call]

By default Leiden cuts each big component alone (``[detection] community_per_component``, the
default), so the sweep after the delta reuses the cut of every component the delta did not touch;
``--one-call`` loads the workspace with ``community_per_component = false`` (one seeded Leiden
call over all components) for comparison.

A synthetic world of ``accounts + delta`` accounts is cut in two: the delta is ``delta`` accounts
drawn at random, with their links and every transaction they pay or receive; the base is the
rest. Each step runs the command line in a fresh process, timed from outside (start-up included):

    load BASE; sweep --full; load --delta DELTA; sweep; sweep --full; sweep (nothing changed)

The first sweep fits the workspace's baseline; the sweep after the delta recomputes only what the
delta reaches (``detection: delta``), and ``sweep --full`` recomputes everything against the same
baseline, so the two give the same results.

and prints the wall time of each step and its ratio to the full load, or to the second full
sweep (the same data as the sweeps around it; the first one also writes every account's first
state and audit entry).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

FG = [sys.executable, "-m", "fraudgraph"]


def cut(accounts: int, delta: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """Write the base and the delta folders (Parquet) of one generated world."""
    from fraudgraph.synthetic.world import generate_world

    world = generate_world(accounts + delta, seed)
    rng = np.random.default_rng(seed)
    ids = world.accounts["account_id"].astype(str)
    new = set(rng.choice(ids.to_numpy(), size=delta, replace=False).tolist())
    in_delta = ids.isin(new).to_numpy()
    link_new = world.links["account_id"].astype(str).isin(new).to_numpy()
    tx = world.transactions
    tx_new = (tx["account_id"].astype(str).isin(new) | tx["counterparty"].astype(str).isin(new)).to_numpy()
    out = {}
    for name, acc_rows, link_rows, tx_rows in (
        ("base", ~in_delta, ~link_new, ~tx_new),
        ("delta", in_delta, link_new, tx_new),
    ):
        path = folder / name
        path.mkdir(parents=True, exist_ok=True)
        world.accounts[acc_rows].to_parquet(path / "accounts.parquet", index=False)
        world.links[link_rows].to_parquet(path / "links.parquet", index=False)
        tx[tx_rows].to_parquet(path / "transactions.parquet", index=False)
        out[name] = path
    return out["base"], out["delta"]


NOTES: list[str] = []  # progress lines worth printing (how much community detection was reused)


CPU: dict[str, float] = {}  # CPU seconds of each step's process (less noisy than wall time on a shared machine)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def step(db: Path, *args: str) -> tuple[float, dict]:
    """Run one command (JSON output); its wall time and parsed answer (its CPU time goes to CPU)."""
    t, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run([*FG, "--db", str(db), *args, "--format", "json"], capture_output=True, text=True)
    wall = time.perf_counter() - t
    CPU[" ".join(args)] = _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    NOTES.extend(
        f"{' '.join(args)}: {line.strip()}"
        for line in done.stderr.splitlines()
        if "Leiden calls" in line or "delta:" in line
    )
    return wall, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--delta", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/bench-delta"))
    parser.add_argument("--one-call", action="store_true", help="community_per_component = false")
    args = parser.parse_args()
    folder = args.folder / f"w{args.accounts}"
    base, delta = cut(args.accounts, args.delta, args.seed, folder)
    db = folder / ("bench-one-call.db" if args.one_call else "bench.db")
    for old in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        old.unlink(missing_ok=True)
    config: list[str] = []
    if args.one_call:
        (folder / "one-call.toml").write_text("[detection]\ncommunity_per_component = false\n", encoding="utf-8")
        config = ["--config", str(folder / "one-call.toml")]
    rows = []
    load_s, _ = step(db, *config, "load", str(base))
    rows.append(("load (base)", load_s, None, CPU.popitem()[1]))
    full_s, full = step(db, "sweep", "--full")
    rows.append(("sweep --full", full_s, full["summary"]["detection"]["mode"], CPU.popitem()[1]))
    dload_s, dl = step(db, "load", "--delta", str(delta))
    dload_cpu = CPU.popitem()[1]
    rows.append(
        (f"load --delta ({dl['accounts_new']:,} accounts, {dl['links_new']:,} links)", dload_s, None, dload_cpu)
    )
    inc_s, inc = step(db, "sweep")
    inc_cpu = CPU.popitem()[1]
    rows.append(("sweep after the delta", inc_s, inc["summary"]["detection"]["mode"], inc_cpu))
    full_s, full = step(db, "sweep", "--full")
    full_cpu = CPU.popitem()[1]
    rows.append(("sweep --full (same data)", full_s, full["summary"]["detection"]["mode"], full_cpu))
    again_s, again = step(db, "sweep")
    rows.append(("sweep, nothing changed", again_s, again["summary"]["detection"]["mode"], CPU.popitem()[1]))
    cutting = "one Leiden call" if args.one_call else "Leiden per component"
    print(f"{args.accounts:,} accounts + a delta of {args.delta:,} (seed {args.seed}, {cutting}); wall time per step")
    table = pd.DataFrame(
        [
            {
                "step": name,
                "seconds": round(s, 1),
                "cpu_s": round(c, 1),
                "detection": mode or "",
                "ratio": round(s / (load_s if name.startswith("load") else full_s), 3),
                "cpu_ratio": round(c / (rows[0][3] if name.startswith("load") else full_cpu), 3),
            }
            for name, s, mode, c in rows
        ]
    )
    print(table.to_string(index=False))
    print("sweep after the delta:", {k: v for k, v in inc["summary"]["detection"].items() if k != "key"})
    print("sweep stages after the delta:", inc["summary"]["seconds"])
    print("sweep --full stages:", full["summary"]["seconds"])
    print("sweep stages, nothing changed:", again["summary"]["seconds"])
    total_delta, total_cpu = dload_s + inc_s, dload_cpu + inc_cpu
    print(f"delta load + sweep: {total_delta:.1f}s = {total_delta / full_s:.3f} of a full sweep ({full_s:.1f}s)")
    print(f"  in CPU seconds: {total_cpu:.1f} = {total_cpu / full_cpu:.3f} of a full sweep ({full_cpu:.1f})")
    for note in NOTES:
        print(note)


if __name__ == "__main__":
    main()
