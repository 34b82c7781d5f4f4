"""A sweep's write on the Neo4j workspace (local Bolt server, ArcadeDB): how long ``save_sweep``
takes, how many result rows it stores, and the Python process's memory while it writes.

Usage:
    python benchmarks/bench_neo4j_sweep.py [--accounts 100000] [--heap 2g] [--seed 3]
        [--batch-rows 20000] [--json out.json]

A synthetic world (``generate_world(N, seed)``) is loaded into a FRESH server (``scripts/bolt-server``
with its own state folder and ports: BENCH_BOLT_PORT 7894, BENCH_BOLT_HTTP_PORT 2694) in batches
(``load --batched``), then swept twice: the first sweep writes every table; the second (after
``--full``, so detection runs again) replaces them. Per sweep: the whole sweep's seconds, the
seconds of ``save_sweep`` alone (the second sweep's write runs under ``tracemalloc``, which slows
it: its ``save_traced_peak_gb`` is the peak of the memory Python allocated during the write), the result nodes stored after it (rings, account scores, decisions,
hubs, swept-account parts) and MEMBER_OF / SHARES relationships, the peak resident memory of this
process during the write (sampled every 20 ms from /proc) and how much it rose over the memory
before the write, and the server's peak (VmHWM of the Java process).
The machine is shared: numbers are noisy; compare runs made in the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_neo4j_load import Server, _vm

_COUNTS = {
    "rings": "MATCH (n:Ring) RETURN count(n) AS n",
    "account_scores": "MATCH (n:AccountScore) RETURN count(n) AS n",
    "decisions": "MATCH (n:Decision) RETURN count(n) AS n",
    "hubs": "MATCH (n:Hub) RETURN count(n) AS n",
    "swept_parts": "MATCH (n:SweptPart) RETURN count(n) AS n",
    "member_of": "MATCH ()-[m:MEMBER_OF]->() RETURN count(m) AS n",
    "shares": "MATCH ()-[s:SHARES]->() RETURN count(s) AS n",
}


class _Peak:
    """The peak resident memory (GB) of this process while the block runs, sampled from /proc."""

    def __enter__(self) -> _Peak:
        self.before = _vm(os.getpid(), "VmRSS")
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _vm(os.getpid(), "VmRSS"))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _vm(os.getpid(), "VmRSS"))


def _sweep(ws, server, full: bool, traced: bool = False) -> dict:
    """One sweep with ``save_sweep`` timed and watched; its figures."""
    from fraudgraph.app.sweep import run_sweep

    out: dict = {}
    save = ws.save_sweep

    def timed_save(record):
        with _Peak() as peak:
            if traced:
                tracemalloc.start()
            t = time.perf_counter()
            save(record)
            out["save_s"] = round(time.perf_counter() - t, 1)
            if traced:
                out["save_traced_peak_gb"] = round(tracemalloc.get_traced_memory()[1] / 1024**3, 3)
                tracemalloc.stop()
        out["save_peak_rss_gb"] = round(peak.peak, 2)
        out["save_rss_rise_gb"] = round(peak.peak - peak.before, 2)

    ws.save_sweep = timed_save
    t = time.perf_counter()
    result = run_sweep(ws, as_of="2026-11-01", full=full)
    out["sweep_s"] = round(time.perf_counter() - t, 1)
    del ws.save_sweep
    out["rings"] = int(result.summary.get("rings", 0))
    out["stored"] = {
        name: int(ws._driver.execute_query(q, database_=ws.database).records[0]["n"]) for name, q in _COUNTS.items()
    }
    out["server_peak_gb"] = round(_vm(server.pid, "VmHWM"), 2)
    return out


def main(argv: list[str] | None = None) -> int:
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--heap", default="2g", help="the server's Java heap (BOLT_HEAP)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fraudgraph-bench-world-") as folder:
        write_world(generate_world(args.accounts, args.seed), folder)
        dataset = read_dataset(folder)
    out: dict = {"accounts": len(dataset.accounts), "heap": args.heap}
    with Server(args.heap) as server:
        ws = server.workspace()
        try:
            t = time.perf_counter()
            ws.load_batched(dataset, batch_rows=args.batch_rows)
            out["load_s"] = round(time.perf_counter() - t, 1)
            print(json.dumps(out), flush=True)
            out["first"] = _sweep(ws, server, full=False)
            print(json.dumps(out["first"]), flush=True)
            out["second"] = _sweep(ws, server, full=True, traced=True)
            print(json.dumps(out["second"]), flush=True)
        finally:
            ws.close()
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
