"""Load rate of the Neo4j workspace on the local Bolt server (ArcadeDB): one transaction against
batches (``load --batched``) and files the server reads (``load --server-folder``: LOAD CSV ...
IN TRANSACTIONS), and a sweep of what was loaded.

Usage:
    python benchmarks/bench_neo4j_load.py [--accounts 10000 100000] [--modes one batched csv]
        [--batch-rows 20000] [--heap 1g] [--seed 3] [--no-sweep] [--json out.json]

For each size, a synthetic world (``generate_world(N, seed)``) is written as CSV and read and
validated once (not timed). Each mode then loads it into a FRESH server (``scripts/bolt-server``
with its own state folder and ports: BENCH_BOLT_PORT 7894, BENCH_BOLT_HTTP_PORT 2694; the heap is
``--heap``), timed from the first statement to the last commit, and a sweep runs on the batched
load's graph. Printed per run: wall seconds, rows/s (accounts + links + transactions) and
accounts/s, the server's peak resident memory (VmHWM of the Java process, from /proc) and this
process's peak. A load the server cannot hold (out of heap) is reported as failed, with its error.
The machine is shared: numbers are noisy; compare runs made in the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _vm(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory field (VmHWM, VmRSS) in GB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


class Server:
    """A fresh ArcadeDB Bolt server in its own state folder, for one run."""

    def __init__(self, heap: str):
        self.state = Path(tempfile.mkdtemp(prefix="fraudgraph-bench-bolt-"))
        self.env = {
            **os.environ,
            "BOLT_PORT": os.environ.get("BENCH_BOLT_PORT", "7894"),
            "BOLT_HTTP_PORT": os.environ.get("BENCH_BOLT_HTTP_PORT", "2694"),
            "BOLT_STATE_DIR": str(self.state),
            "BOLT_HEAP": heap,
            "PYTHON": sys.executable,
        }

    def __enter__(self) -> Server:
        out = subprocess.run(
            [str(ROOT / "scripts" / "bolt-server"), "start"], env=self.env, capture_output=True, text=True, check=True
        ).stdout
        self.settings = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line)
        self.pid = int((self.state / "server.pid").read_text())
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run([str(ROOT / "scripts" / "bolt-server"), "stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.state, ignore_errors=True)

    def workspace(self):
        from fraudgraph.workspace.neo4j.store import connect

        s = self.settings
        return connect(
            s["FRAUDGRAPH_NEO4J_URI"],
            s["FRAUDGRAPH_NEO4J_USER"],
            s["FRAUDGRAPH_NEO4J_PASSWORD"],
            s["FRAUDGRAPH_NEO4J_DATABASE"],
        )


def run_one(dataset, mode: str, batch_rows: int, heap: str, sweep: bool) -> dict:
    """Load ``dataset`` into a fresh server in one mode (and sweep it); the figures of the run."""
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.errors import WorkspaceError

    rows = len(dataset.accounts) + len(dataset.links) + len(dataset.transactions)
    out: dict = {"accounts": len(dataset.accounts), "rows": rows, "mode": mode, "heap": heap}
    with Server(heap) as server:
        ws = server.workspace()
        try:
            t = time.perf_counter()
            try:
                if mode == "batched":
                    ws.load_batched(dataset, batch_rows=batch_rows)
                elif mode == "csv":
                    with tempfile.TemporaryDirectory(prefix="fraudgraph-bench-files-") as folder:
                        ws.load_csv(dataset, folder, batch_rows=batch_rows)
                else:
                    ws.load(dataset)
            except WorkspaceError as e:
                out["error"] = str(e)[:300]
            out["load_s"] = round(time.perf_counter() - t, 1)
            if "error" not in out:
                out["rows_per_s"] = round(rows / out["load_s"])
                out["accounts_per_s"] = round(len(dataset.accounts) / out["load_s"])
            out["server_peak_gb_after_load"] = round(_vm(server.pid, "VmHWM"), 2)
            print(json.dumps(out), flush=True)  # the load's figures, whatever the sweep does
            if sweep and "error" not in out:
                t = time.perf_counter()
                try:
                    result = run_sweep(ws, as_of="2026-11-01")
                    out["rings"] = int(result.summary.get("rings", 0))
                except WorkspaceError as e:
                    out["sweep_error"] = str(e)[:300]
                out["sweep_s"] = round(time.perf_counter() - t, 1)
                out["server_peak_gb"] = round(_vm(server.pid, "VmHWM"), 2)
        finally:
            ws.close()
            if "error" in out or "sweep_error" in out:
                log = (server.state / "server.log").read_text(errors="replace").splitlines()
                out["server_log_tail"] = log[-15:]
    out["client_peak_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", choices=["one", "batched", "csv"], default=["one", "batched", "csv"])
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--heap", default="1g", help="the server's Java heap (BOLT_HEAP)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for n in args.accounts:
        with tempfile.TemporaryDirectory(prefix="fraudgraph-bench-world-") as folder:
            write_world(generate_world(n, args.seed), folder)
            dataset = read_dataset(folder)
        print(f"# {n:,} accounts: {len(dataset.links):,} links, {len(dataset.transactions):,} transactions", flush=True)
        for mode in args.modes:
            r = run_one(dataset, mode, args.batch_rows, args.heap, sweep=mode == "batched" and not args.no_sweep)
            results.append(r)
            print(json.dumps(r), flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))
    print("\n| accounts | rows | load | seconds | rows/s | accounts/s | server peak GB | sweep s |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        load = r["mode"] + (f" ({r['error'][:60]}...)" if "error" in r else "")
        print(
            f"| {r['accounts']:,} | {r['rows']:,} | {load} | {r['load_s']} | {r.get('rows_per_s', '-')} | "
            f"{r.get('accounts_per_s', '-')} | {r.get('server_peak_gb', r['server_peak_gb_after_load'])} | "
            f"{r.get('sweep_s', '-')}{' (failed)' if 'sweep_error' in r else ''} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
