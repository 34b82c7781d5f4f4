"""Three settings the load and the sweep rely on, measured on this machine.

    python benchmarks/bench_settings.py index --db ws.db          # a loaded workspace (e.g. 1M accounts)
    python benchmarks/bench_settings.py gc --db ws.db -- sweep --full --format json
    python benchmarks/bench_settings.py journal --folder DIR      # a data folder (e.g. 1M accounts)

``index``: SQLite's build of a secondary index after a bulk load (the transactions' by account:
since workspace schema 3 the links have no table and no index in SQLite) under several page-cache
sizes and sorter thread counts, each in a transaction that is rolled back (the workspace is left as
it was). SQLite
sorts the keys in runs as big as the page cache: the load's own 256 MB cache makes few big runs
sorted on one core; a small one sorted by worker threads and merged is what the load now uses
(``SqliteWorkspace._build_indexes``).

``gc``: a ``fraudgraph`` command run on copies of the workspace, once with CPython's default
collector thresholds (700, 10, 10) and once with the command line's (100,000, 50, 100), each in a
fresh process: wall and CPU seconds, how many collections ran and how long they took, peak memory.

``journal``: ``fraudgraph load DIR`` into a new workspace, each in a fresh process, once as it runs
(a first load into an empty workspace is written with a rollback journal, its pages once into the
file: ``SqliteWorkspace._first_load_unlogged``) and once with another connection open on the
workspace, which keeps the load in WAL mode (every page into the log, then again into the file at
the checkpoint after the commit), alternating ``--repeat`` times: wall, user and system CPU
seconds, bytes the process wrote to the disk (less what was dropped unwritten: the log and the
temporary files are deleted when done), peak memory and the file's size.
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
            con.execute("DROP INDEX IF EXISTS transactions_by_account")
            t = time.perf_counter()
            con.execute("CREATE INDEX transactions_by_account ON transactions (account_id)")
            out.append({"cache_mb": cache_kb // 1024, "threads": threads, "seconds": round(time.perf_counter() - t, 2)})
        finally:
            con.execute("ROLLBACK")
    con.close()
    return out


def _measured(script: str, args: list[str], tag: str, what: str) -> tuple[float, dict]:
    """Run ``script`` in a fresh process: its wall seconds and what it reported on stderr after
    ``@@tag``; ``what`` names it when it fails."""
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(f"{what} failed: {done.stderr.strip()[-2000:]}")
    mark = f"@@{tag} "
    return wall, json.loads(next(line for line in done.stderr.splitlines() if line.startswith(mark))[len(mark) :])


def gc_runs(db: str, command: list[str]) -> list[dict]:
    out = []
    for name, thresholds in (("default", [700, 10, 10]), ("fraudgraph", [100_000, 50, 100])):
        with tempfile.TemporaryDirectory(dir=Path(db).parent) as tmp:
            copy = os.path.join(tmp, "ws.db")
            shutil.copy(db, copy)
            args = [json.dumps(thresholds), "--db", copy, "-q", *command]
            wall, seen = _measured(_RUN, args, "gc", f"fraudgraph {' '.join(command)}")
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


_LOAD = """
import json, resource, sqlite3, sys
from pathlib import Path
db, logged = sys.argv[1], sys.argv[2] == "logged"
if logged:  # another connection open on the workspace: the load keeps the write-ahead log
    other = sqlite3.connect(db)
    other.execute("PRAGMA journal_mode=WAL")
from fraudgraph.cli.main import cli
sys.argv = ["fraudgraph", "--db", db, "-q", "load", *sys.argv[3:]]
try:
    cli(prog_name="fraudgraph", standalone_mode=False)
finally:
    use = resource.getrusage(resource.RUSAGE_SELF)
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    seen = {"user": use.ru_utime, "sys": use.ru_stime, "peak_kb": use.ru_maxrss, "written": int(io["write_bytes"]) - int(io["cancelled_write_bytes"])}
    sys.stderr.write("@@load " + json.dumps(seen) + "\\n")
"""


def journal_runs(folder: str, repeat: int, work: str | None) -> list[dict]:
    out = []
    for _ in range(repeat):
        for mode in ("logged", "unlogged"):
            with tempfile.TemporaryDirectory(dir=work) as tmp:
                db = os.path.join(tmp, "ws.db")
                wall, seen = _measured(_LOAD, [db, mode, folder], "load", "fraudgraph load")
                size = os.path.getsize(db)
            out.append(
                {
                    "load": mode,
                    "wall_s": round(wall, 1),
                    "user_s": round(seen["user"], 1),
                    "sys_s": round(seen["sys"], 1),
                    "written_gb": round(seen["written"] / 1e9, 2),
                    "peak_mb": round(seen["peak_kb"] / 1024),
                    "file_gb": round(size / 1e9, 2),
                }
            )
            print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["index", "gc", "journal"])
    parser.add_argument("--db", help="a loaded workspace (index); a loaded one to copy (gc)")
    parser.add_argument("--folder", help="a data folder to load (journal)")
    parser.add_argument("--repeat", type=int, default=1, help="journal: runs of each kind, alternating")
    parser.add_argument("--work", help="journal: where the workspaces go (default: the temporary folder)")
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.what == "journal":
        if not args.folder:
            parser.error("journal needs --folder")
        journal_runs(args.folder, args.repeat, args.work)
        return
    if not args.db:
        parser.error(f"{args.what} needs --db")
    if args.what == "index":
        rows = index_builds(args.db, [(256 * 1024, 0), (256 * 1024, 2), (8 * 1024, 0), (8 * 1024, 2), (8 * 1024, 4)])
    else:
        rows = gc_runs(args.db, command or ["sweep", "--full", "--format", "json"])
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
