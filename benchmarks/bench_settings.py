"""Two settings the load and the sweep rely on, measured on this machine.

    python benchmarks/bench_settings.py index --db ws.db          # a loaded workspace (e.g. 1M accounts)
    python benchmarks/bench_settings.py gc --db ws.db -- sweep --full --format json

``index``: SQLite's build of the links' (kind, key) index under several page-cache sizes and sorter
thread counts, each in a transaction that is rolled back (the workspace is left as it was). SQLite
sorts the keys in runs as big as the page cache: the load's own 256 MB cache makes few big runs
sorted on one core; a small one sorted by worker threads and merged is what the load now uses
(``SqliteWorkspace._build_indexes``).

``gc``: a ``fraudgraph`` command run on copies of the workspace, once with CPython's default
collector thresholds (700, 10, 10) and once with the command line's (100,000, 50, 100), each in a
fresh process: wall and CPU seconds, how many collections ran and how long they took, peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_RUN = """
import gc, json, resource, sys, time
gc.set_threshold(*json.loads(sys.argv[1]))
seen = {"n": 0, "s": 0.0, "t": 0.0}
def timed(phase, info):
    if phase == "start":
        seen["t"] = time.perf_counter()
    else:
        seen["n"] += 1
        seen["s"] += time.perf_counter() - seen["t"]
gc.callbacks.append(timed)
from fraudgraph.cli.main import cli
sys.argv = ["fraudgraph", *sys.argv[2:]]
try:
    cli(prog_name="fraudgraph", standalone_mode=False)
finally:
    use = resource.getrusage(resource.RUSAGE_SELF)
    seen.update(cpu=use.ru_utime + use.ru_stime, peak_kb=use.ru_maxrss)
    sys.stderr.write("@@gc " + json.dumps(seen) + "\\n")
"""


def index_builds(db: str, settings: list[tuple[int, int]]) -> list[dict]:
    con = sqlite3.connect(db, isolation_level=None)
    out = []
    for cache_kb, threads in settings:
        con.execute(f"PRAGMA cache_size=-{cache_kb}")
        con.execute(f"PRAGMA threads={threads}")
        con.execute("PRAGMA temp_store=FILE")
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("DROP INDEX IF EXISTS links_by_identifier")
            t = time.perf_counter()
            con.execute("CREATE INDEX links_by_identifier ON links (kind, key)")
            out.append({"cache_mb": cache_kb // 1024, "threads": threads, "seconds": round(time.perf_counter() - t, 2)})
        finally:
            con.execute("ROLLBACK")
    con.close()
    return out


def gc_runs(db: str, command: list[str]) -> list[dict]:
    out = []
    for name, thresholds in (("default", [700, 10, 10]), ("fraudgraph", [100_000, 50, 100])):
        with tempfile.TemporaryDirectory(dir=Path(db).parent) as tmp:
            copy = os.path.join(tmp, "ws.db")
            shutil.copy(db, copy)
            t = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", _RUN, json.dumps(thresholds), "--db", copy, "-q", *command],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            if done.returncode:
                raise SystemExit(f"fraudgraph {' '.join(command)} failed: {done.stderr.strip()[-2000:]}")
            wall = time.perf_counter() - t
        seen = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("@@gc "))[5:])
        out.append(
            {
                "thresholds": name,
                "wall_s": round(wall, 1),
                "cpu_s": round(seen["cpu"], 1),
                "collections": seen["n"],
                "collecting_s": round(seen["s"], 2),
                "peak_mb": round(seen["peak_kb"] / 1024),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["index", "gc"])
    parser.add_argument("--db", required=True, help="a loaded workspace (index); a loaded one to copy (gc)")
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.what == "index":
        rows = index_builds(args.db, [(256 * 1024, 0), (256 * 1024, 2), (8 * 1024, 0), (8 * 1024, 2), (8 * 1024, 4)])
    else:
        rows = gc_runs(args.db, command or ["sweep", "--full", "--format", "json"])
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
