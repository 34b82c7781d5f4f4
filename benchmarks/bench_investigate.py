"""Investigation commands as a user runs them: each one a whole `fraudgraph` process over an
existing (loaded and swept) workspace, timed from outside.

For every command it reports (best of ``--repeat`` runs each):
    wall_s     the whole process: interpreter start-up, imports, the command;
    query_s    the command itself once its modules are imported: a fresh process imports the
               command line, runs the command once (which imports whatever it imports lazily),
               then times a second run of it (a new workspace connection, as a process opens);
    query_cpu_s  the CPU seconds of that run (steadier than wall time on a busy machine);
    start_s    wall_s - query_s: what Python start-up and the imports cost.

    python benchmarks/bench_investigate.py --db ws.db
    python benchmarks/bench_investigate.py --db ws.db --profile account   # + cProfile's top entries

The account and ring asked for are picked from the workspace (the top ring and its first
member; ``--account`` / ``--ring`` choose others). Nothing is written to the workspace but the
audit rows a command writes anyway (none here: identifiers stay masked).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _commands(db: str, account: str, ring: str, out: Path) -> dict[str, list[str]]:
    base = ["--db", db, "-q"]
    return {
        "account": [*base, "account", account],
        "ring": [*base, "ring", ring],
        "export_2hop": [*base, "export", "--account", account, "--hops", "2", "-o", str(out / "hood.json")],
        "rings_20": [*base, "rings", "--limit", "20"],
        "decisions_20": [*base, "decisions", "--limit", "20"],
        "decisions_all_20": [*base, "decisions", "--all", "--limit", "20"],
        "status": [*base, "status"],
    }


def _pick(db: str) -> tuple[str, str]:
    """The top ring of the last sweep and its first member (read directly: no fraudgraph import)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ring = con.execute("SELECT ring_id FROM rings ORDER BY score DESC, exposure DESC, ring_id LIMIT 1").fetchone()
        if ring is None:
            raise SystemExit(f"{db} holds no rings: load and sweep it first")
        account = con.execute(
            "SELECT account_id FROM ring_members WHERE ring_id = ? ORDER BY account_id LIMIT 1", ring
        ).fetchone()
    finally:
        con.close()
    return account[0], ring[0]


def _wall(argv: list[str]) -> float:
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    return wall


_TIMED = """
import contextlib, io, sys, time
from fraudgraph.cli import cli

def once():
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.main(args=sys.argv[1:], prog_name="fraudgraph", standalone_mode=False)
        except SystemExit:
            pass

once()
t, c = time.perf_counter(), time.process_time()
once()
print(f"@@query {time.perf_counter() - t} {time.process_time() - c}", file=sys.stderr)
"""


def _query_seconds(py: str, tail: list[str]) -> tuple[float, float]:
    """The second run of the command in one process, once every module is imported: wall and CPU
    seconds (on a busy machine the CPU time is the steadier figure)."""
    p = subprocess.run([py, "-c", _TIMED, *tail], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = re.findall(r"@@query (\S+) (\S+)", p.stderr)
    if p.returncode != 0 or not found:
        raise SystemExit(f"fraudgraph {' '.join(tail)} failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    return float(found[-1][0]), float(found[-1][1])


def _profile(argv_tail: list[str], top: int) -> str:
    """cProfile of one command in this interpreter (``fraudgraph.cli`` run as the console script does)."""
    from fraudgraph.cli import cli

    def once() -> None:
        try:
            cli.main(args=argv_tail, prog_name="fraudgraph", standalone_mode=False)
        except SystemExit:
            pass

    once()  # imports what the command imports lazily: the profile is of the command itself
    prof = cProfile.Profile()
    prof.enable()
    once()
    prof.disable()
    out = Path(tempfile.mkstemp(suffix=".txt")[1])
    with out.open("w") as fh:
        pstats.Stats(prof, stream=fh).sort_stats("cumulative").print_stats(top)
    return out.read_text()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a loaded and swept SQLite workspace")
    ap.add_argument("--account", default=None)
    ap.add_argument("--ring", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="runs per command; the best is reported")
    ap.add_argument("--only", nargs="*", default=None, help="command names to run (default: all)")
    ap.add_argument("--profile", nargs="*", default=None, help="command names to profile (cProfile, in-process)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    account, ring = _pick(args.db)
    account, ring = args.account or account, args.ring or ring
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cmds = _commands(args.db, account, ring, Path(tmp))
        for name, tail in cmds.items():
            if args.only and name not in args.only:
                continue
            wall = min(_wall([py, "-m", "fraudgraph", *tail]) for _ in range(max(1, args.repeat)))
            query, cpu = min(_query_seconds(py, tail) for _ in range(max(1, args.repeat)))
            rows.append(
                {
                    "command": name,
                    "wall_s": round(wall, 3),
                    "start_s": round(wall - query, 3),
                    "query_s": round(query, 3),
                    "query_cpu_s": round(cpu, 3),
                }
            )
        for name in args.profile or []:
            print(f"== profile: {name}\n{_profile(cmds[name], 30)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"db": args.db, "account": account, "ring": ring, "commands": rows}, indent=2))
        return
    print(f"workspace {args.db}: account {account}, ring {ring}")
    print(f"{'command':<18}{'wall_s':>9}{'start_s':>9}{'query_s':>9}{'query_cpu_s':>13}")
    for r in rows:
        print(f"{r['command']:<18}{r['wall_s']:>9.3f}{r['start_s']:>9.3f}{r['query_s']:>9.3f}{r['query_cpu_s']:>13.3f}")


if __name__ == "__main__":
    main()
