"""One ``fraudgraph`` command, run by two checkouts of the code in turn, on fresh copies of one workspace.

    python benchmarks/bench_ab.py --db ws.db --old ../fraudgraph-before --repeat 3 -- sweep --format json

A change worth a few seconds in a minute-long sweep hides in the day-to-day drift of a shared
machine; runs of the two codes alternating (old, new, old, new, ...) on copies of the same
workspace see the same drift. Each run is a fresh process started with ``PYTHONPATH`` set to its
checkout (``--new`` defaults to this one), on a copy of ``--db`` (removed after; a workspace
loaded and never swept measures a first sweep each time). Printed per run: wall, user + system CPU
and peak memory, and the stage seconds when the command prints them (``sweep --format json``);
then the mean wall of each code and the difference, and whether the two codes printed the same
output (a sweep's summary without its times and ids).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_VOLATILE = {"seconds", "sweep_id", "started_at", "finished_at"}


def _comparable(out: str):
    """The command's JSON output without what changes from run to run (times, ids); the lines of
    a text output, less those that start with one of those names."""
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:  # a table: without its lines of times and ids
        return [line for line in out.splitlines() if line.split(" ", 1)[0] not in _VOLATILE]

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in _VOLATILE}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(doc)


def _stages(out: str) -> dict[str, float]:
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        return {}
    summary = doc.get("summary", doc) if isinstance(doc, dict) else {}
    seconds = summary.get("seconds") if isinstance(summary, dict) else None
    return {k.removeprefix("detect."): round(float(v), 1) for k, v in (seconds or {}).items()}


def run_once(code: Path, db: Path, args: list[str], work: Path) -> dict:
    """``fraudgraph --db COPY -q ARGS`` with ``code`` first on the path; wall, CPU, peak, output."""
    copy = work / "ab.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(db, copy)
    with open(work / "out", "w+") as out, open(work / "err", "w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "fraudgraph", "--db", str(copy), "-q", *args],
            cwd=code,
            env={**os.environ, "PYTHONPATH": str(code)},
            stdout=out,
            stderr=err,
        )
        _, status, use = os.wait4(proc.pid, 0)  # this process's own CPU and peak memory
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{code}: exit {proc.returncode}: {stderr.strip()[-500:]}")
    return {
        "wall": round(wall, 2),
        "cpu": round(use.ru_utime + use.ru_stime, 2),
        "peak_mb": round(use.ru_maxrss / 1024),
        "stages": _stages(stdout),
        "output": _comparable(stdout),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True, help="the workspace to copy for each run")
    ap.add_argument("--old", type=Path, required=True, help="a checkout of the code before the change")
    ap.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1], help="the code after it")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each code")
    ap.add_argument("--work", type=Path, default=None, help="where the copies go (default: beside --db)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- and the fraudgraph command to run")
    a = ap.parse_args()
    args = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not args:
        ap.error("give the command after --, e.g. -- sweep --format json")
    work = Path(tempfile.mkdtemp(prefix="bench-ab-", dir=a.work or a.db.parent))
    walls: dict[str, list[float]] = {"old": [], "new": []}
    outputs: dict[str, object] = {}
    try:
        for i in range(a.repeat):
            for tag, code in (("old", a.old), ("new", a.new)):
                r = run_once(code.resolve(), a.db.resolve(), args, work)
                walls[tag].append(r["wall"])
                outputs.setdefault(tag, r["output"])
                stages = " ".join(f"{k} {v}" for k, v in r["stages"].items())
                line = f"{tag} {i + 1}: {r['wall']} s wall, {r['cpu']} s CPU, peak {r['peak_mb']:,} MB"
                print(f"{line}  {stages}".rstrip(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    old, new = statistics.mean(walls["old"]), statistics.mean(walls["new"])
    print(f"mean wall: old {old:.1f} s, new {new:.1f} s, difference {new - old:+.1f} s ({(new - old) / old:+.1%})")
    print("same output:", outputs.get("old") == outputs.get("new"))


if __name__ == "__main__":
    main()
