"""Investigation commands as a user runs them: each one a whole `fraudgraph` process over an
existing (loaded and swept) workspace, timed from outside.

For every command it reports:
    wall_s     the whole process, best of ``--repeat`` runs;
    start_s    the part that is not the query: the interpreter's own start-up (``python -c pass``)
               plus the module imports the command does (measured with ``python -X importtime``,
               run separately because that flag slows the run it measures);
    query_s    wall_s - start_s: what the command itself spends reading and answering.

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


def _import_seconds(argv: list[str]) -> float:
    """Seconds spent importing modules (top-level entries of ``-X importtime``, cumulative)."""
    p = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    total_us = 0
    for line in p.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\S.*)$", line)
        if m and not m.group(3).startswith(" "):  # a top-level import: its cumulative time
            total_us += int(m.group(2))
    return total_us / 1e6


def _profile(argv_tail: list[str], top: int) -> str:
    """cProfile of one command in this interpreter (``fraudgraph.cli`` run as the console script does)."""
    from fraudgraph.cli import cli

    prof = cProfile.Profile()
    prof.enable()
    try:
        cli.main(args=argv_tail, prog_name="fraudgraph", standalone_mode=False)
    except SystemExit:
        pass
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
    bare = min(_wall([py, "-c", "pass"]) for _ in range(3))
    bare_imports = _import_seconds([py, "-c", "pass"])  # site and encodings: already in ``bare``
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cmds = _commands(args.db, account, ring, Path(tmp))
        for name, tail in cmds.items():
            if args.only and name not in args.only:
                continue
            argv = [py, "-m", "fraudgraph", *tail]
            wall = min(_wall(argv) for _ in range(max(1, args.repeat)))
            start = bare + max(0.0, _import_seconds(argv) - bare_imports)
            rows.append(
                {
                    "command": name,
                    "wall_s": round(wall, 3),
                    "start_s": round(start, 3),
                    "query_s": round(wall - start, 3),
                }
            )
        for name in args.profile or []:
            print(f"== profile: {name}\n{_profile(cmds[name], 30)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"db": args.db, "account": account, "ring": ring, "commands": rows}, indent=2))
        return
    print(f"workspace {args.db}: account {account}, ring {ring}; python start-up {bare:.3f}s")
    print(f"{'command':<18}{'wall_s':>9}{'start_s':>9}{'query_s':>9}")
    for r in rows:
        print(f"{r['command']:<18}{r['wall_s']:>9.3f}{r['start_s']:>9.3f}{r['query_s']:>9.3f}")


if __name__ == "__main__":
    main()
