"""Latency and throughput of `fraudgraph check` against a swept workspace.

Usage:
    python benchmarks/bench_check.py --db bank.db [--events 2000] [--one-off 40] [--seed 0]
    python benchmarks/bench_check.py --build /tmp/w100k --accounts 100000   # generate, load, sweep first
    FRAUDGRAPH_NEO4J_PASSWORD=... python benchmarks/bench_check.py --neo4j bolt://127.0.0.1:7687 \\
        --neo4j-user root --neo4j-database fraudgraph

Events are drawn from the workspace (seeded): new applications with fresh identifiers, new
applications reusing a flagged ring member's card or device (held), a hub (not held), or
another account's address or phone, and existing accounts adding a device. Measured:

- stream: one long-running `fraudgraph check --format json` process; one event line written,
  its answer read, then the next (a queue consumer's request/response). Latency per event as the
  client sees it (write to answer line) and as the answer reports it (elapsed_ms); throughput as
  events per second of that loop, and of a pipelined run (every line written at once).
- one-off: `fraudgraph check --event JSON`, a new process per event (start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

FG = [sys.executable, "-m", "fraudgraph"]


def _workspace_args(args) -> list[str]:
    if args.neo4j:
        out = ["--neo4j", args.neo4j]
        if args.neo4j_user:
            out += ["--neo4j-user", args.neo4j_user]
        if args.neo4j_database:
            out += ["--neo4j-database", args.neo4j_database]
        return out
    return ["--db", str(args.db)]


def _open(args):
    if args.neo4j:
        from fraudgraph.workspace.neo4j.store import connect

        return connect(
            args.neo4j, args.neo4j_user or "neo4j", os.environ["FRAUDGRAPH_NEO4J_PASSWORD"], args.neo4j_database
        )
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    return SqliteWorkspace(args.db, create=False)


def build(folder: Path, accounts: int, seed: int) -> Path:
    """Generate a world, load it and sweep it (skipped when the workspace exists)."""
    db = folder / "bench.db"
    if db.exists():
        return db
    folder.mkdir(parents=True, exist_ok=True)
    for step in (
        ["generate", str(folder / "data"), "--accounts", str(accounts), "--seed", str(seed), "--force"],
        ["--db", str(db), "-q", "load", str(folder / "data")],
        ["--db", str(db), "-q", "sweep"],
    ):
        t = time.perf_counter()
        subprocess.run(FG + step, check=True, stdout=subprocess.DEVNULL)
        print(f"{step[0] if step[0] != '--db' else step[3]}: {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return db


def make_events(ws, n: int, seed: int) -> list[dict]:
    """``n`` events drawn from the workspace (see the module docstring for the mix)."""
    rng = random.Random(seed)
    decisions = ws.table("decisions")
    flagged = decisions[decisions["ring_id"].notna() & decisions["action"].isin(["review", "restrict", "suspend"])]
    flagged_ids = sorted(flagged["account_id"])
    all_ids = sorted(ws.table("account_scores")["account_id"])
    strong = ws.links(rng.sample(flagged_ids, min(400, len(flagged_ids))))
    strong = strong[strong["kind"].isin(["card", "device"]) & strong["key"].notna()]
    others = ws.links(rng.sample(all_ids, 2000))
    weak = others[others["kind"].isin(["address", "phone"]) & others["key"].notna()]
    hubs = ws.table("hubs")
    hub_values = ws.identifier_counts(hubs[["kind", "key"]].head(50)) if len(hubs) else None
    hub_links = (
        [(k, v[0]) for k, v in zip(hub_values["kind"], hub_values["raw_values"])] if hub_values is not None else []
    )

    def fresh(i: int) -> list[dict]:
        return [
            {"kind": "card", "value": f"4000 77{i:06d} {rng.randrange(10**4):04d}"},
            {"kind": "device", "value": f"bench-dev-{seed}-{i}-{rng.randrange(10**9)}"},
            {"kind": "email", "value": f"bench.{seed}.{i}@example.org"},
            {"kind": "phone", "value": f"+1 555 {rng.randrange(10**3):03d} {rng.randrange(10**4):04d}"},
        ]

    events = []
    for i in range(n):
        account = {"account_id": f"BENCH-{seed}-{i}", "created_at": "2026-11-01T10:00:00", "credit_limit": 1500}
        links = fresh(i)
        draw = rng.random()
        if draw < 0.2 and len(strong):
            row = strong.iloc[rng.randrange(len(strong))]
            links[0] = {"kind": row["kind"], "value": row["value"]}
        elif draw < 0.35 and hub_links:
            kind, value = hub_links[rng.randrange(len(hub_links))]
            links.append({"kind": kind, "value": value})
        elif draw < 0.5 and len(weak):
            row = weak.iloc[rng.randrange(len(weak))]
            links[3] = {"kind": row["kind"], "value": row["value"]}
        elif draw < 0.6:
            account = {"account_id": all_ids[rng.randrange(len(all_ids))]}
            links = [{"kind": "device", "value": f"bench-new-dev-{seed}-{i}"}]
        events.append({"account": account, "links": links})
    return events


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.array(ms)
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)), "max": float(a.max())}


def stream(args, events: list[dict], warmup: int = 20) -> dict:
    """One long-running process, one event at a time (request/response)."""
    proc = subprocess.Popen(
        FG + _workspace_args(args) + ["check", "--format", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    client, server, held = [], [], 0
    t_start = time.perf_counter()
    for i, event in enumerate(events):
        if i == warmup:
            t_start = time.perf_counter()
        t = time.perf_counter()
        proc.stdin.write(json.dumps(event) + "\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        if i >= warmup:
            client.append((time.perf_counter() - t) * 1000)
            server.append(answer["elapsed_ms"])
            held += bool(answer.get("held"))
    seconds = time.perf_counter() - t_start
    proc.stdin.close()
    proc.wait()
    return {
        "events": len(client),
        "client_ms": _stats(client),
        "server_ms": _stats(server),
        "events_per_s": len(client) / seconds,
        "held": held,
    }


def pipelined(args, events: list[dict]) -> dict:
    """Every line written at once by a writer thread: the throughput of one consumer process."""
    proc = subprocess.Popen(
        FG + _workspace_args(args) + ["check", "--format", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    first = proc.stdout  # wait for the process to be ready: answer one event first
    proc.stdin.write(json.dumps(events[0]) + "\n")
    proc.stdin.flush()
    first.readline()
    stdin = proc.stdin

    def write() -> None:
        for event in events:
            stdin.write(json.dumps(event) + "\n")
        stdin.close()

    t = time.perf_counter()
    writer = threading.Thread(target=write)
    writer.start()
    n = sum(1 for _ in proc.stdout)
    seconds = time.perf_counter() - t
    writer.join()
    proc.wait()
    return {"events": n, "events_per_s": n / seconds}


def in_process(ws, events: list[dict], warmup: int = 20) -> dict:
    """``Checker.check`` called directly: wall time and CPU time per event. On a shared machine
    the CPU time shows the work itself, the wall time adds waiting for a core."""
    from fraudgraph.app.check import Checker

    checker = Checker(ws)
    wall, cpu = [], []
    for i, event in enumerate(events):
        t, c = time.perf_counter(), time.process_time()
        checker.check(event)
        if i >= warmup:
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return {"events": len(wall), "wall_ms": _stats(wall), "cpu_ms": _stats(cpu)}


def one_off(args, events: list[dict]) -> dict:
    """A new process per event (`fraudgraph check --event JSON`)."""
    ms = []
    for event in events:
        t = time.perf_counter()
        subprocess.run(
            FG + _workspace_args(args) + ["check", "--format", "json", "--event", json.dumps(event)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ms.append((time.perf_counter() - t) * 1000)
    return {"events": len(ms), "client_ms": _stats(ms), "events_per_s": len(ms) / (sum(ms) / 1000)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", type=Path)
    p.add_argument("--build", type=Path, help="Folder to generate, load and sweep a world in (kept).")
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--neo4j")
    p.add_argument("--neo4j-user")
    p.add_argument("--neo4j-database")
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--one-off", type=int, default=40)
    p.add_argument("--no-pipelined", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.build:
        args.db = build(args.build, args.accounts, args.seed)
    if not (args.db or args.neo4j):
        p.error("give --db, --build or --neo4j")
    with _open(args) as ws:
        n_accounts = ws.status()["counts"]["accounts"]
        events = make_events(ws, args.events, args.seed)
        direct = in_process(ws, events)
    result = {
        "backend": "neo4j" if args.neo4j else "sqlite",
        "accounts": n_accounts,
        "load_average": os.getloadavg()[0],
        "in_process": direct,
        "stream": stream(args, events),
        "pipelined": None if args.no_pipelined else pipelined(args, events),
        "one_off": one_off(args, events[: args.one_off]) if args.one_off else None,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
