"""Load + sweep as a user runs them, against the time pandas needs to read the same CSVs.

For each size: generate a world (in shards of at most 1M accounts above that, so a 10M world
never has to fit in memory at once), time the read floor (pandas reads the three CSVs as
strings, the C engine; pyarrow's reader for comparison), then run `fraudgraph load` and
`fraudgraph sweep` as separate processes, each with its own peak resident memory. Every step
runs in a fresh process, so each peak is its own.

    python benchmarks/bench_pipeline.py                         # 1M accounts
    python benchmarks/bench_pipeline.py 1000000 2000000 5000000 10000000 --keep /work/bench/scale
    python benchmarks/bench_pipeline.py 100000 --markdown       # also print a table row per size
    python benchmarks/bench_pipeline.py 1000000 --floor-after   # the floor read again after the sweep

The ratio (``x_read_floor``) is against the floor measured before the load, as the issue defines it.
This shared machine's speed drifts within minutes, and not evenly: the floor is one thread of C,
load and sweep keep both cores busy. ``--floor-after`` reads the CSVs once more after the sweep and
reports that floor and the ratio against it too (``x_read_floor_after``), to tell a slower pipeline
from a slower hour.

The sharded worlds: shard k is ``generate_world(<=1M, seed + k)`` with account and transaction
ids prefixed by the shard number (``A03...``, ``T03...``); identifier values are left as the
generator draws them, so shards share only what random values happen to share (an address, an
e-mail), as unrelated customers of one lender do. Merchants are common to all shards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARD = 1_000_000
_TABLES = ("accounts", "links", "transactions")


_WRAPPER = """
import os, resource, subprocess, sys, tempfile, time
limit_kb = int(sys.argv[1]) * 1024 * 1024
t = time.perf_counter()
sink = tempfile.TemporaryFile(mode="w+")  # not a pipe: a long answer must not block the command
p = subprocess.Popen(sys.argv[2:], stdout=sink, text=True)


def tree(pid):
    out = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out += tree(int(child))
    except OSError:
        pass
    return out


def field(pid, name, file):
    try:
        with open(f"/proc/{pid}/{file}") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(name))
    except (OSError, StopIteration):
        return 0


# The command's memory: its resident set alone; with child processes (a sweep forks one to write
# ahead) the sum of their proportional set sizes, the pages they share counted once (read only
# then: reading them walks the page tables, which slows a process that maps memory meanwhile).
killed = peak = 0
while p.poll() is None:
    pids = tree(p.pid)
    if len(pids) == 1:
        used = field(p.pid, "VmRSS:", "status")
    else:
        used = sum(field(pid, "Pss:", "smaps_rollup") for pid in pids)
    peak = max(peak, used)
    if limit_kb and used > limit_kb:
        p.kill()
        killed = used
        break
    time.sleep(0.2)
p.wait()
wall = time.perf_counter() - t
sink.seek(0)
out = sink.read()
sys.stdout.write(out)
most = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, peak)
sys.stderr.write(f"\\n@@bench {wall} {most} {killed}\\n")
sys.exit(p.returncode)
"""


class OverMemory(Exception):
    """A step went over ``--max-rss-gb`` and was stopped (so the machine's other work survives)."""


def _timed(cmd: list[str], *, max_rss_gb: int = 0) -> tuple[float, float, str]:
    """Run ``cmd`` under a fresh wrapper process; return (wall seconds, peak memory MB, stdout). The
    peak is the largest of the command's (and any child's) peak resident memory and, while it has
    child processes, the sum of their proportional set sizes, polled 5 times a second (a sweep's
    child shares its pages).

    With ``max_rss_gb``, the wrapper kills the command when that sum goes above it."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(max_rss_gb), *cmd], capture_output=True, text=True,
    )  # fmt: skip
    tail = [line for line in proc.stderr.splitlines() if line.startswith("@@bench ")]
    if tail and int(tail[-1].split()[3]):
        step = next((c for c in cmd if c in ("generate", "read", "load", "sweep")), cmd[-1])
        raise OverMemory(f"{step}: over {max_rss_gb} GB after {float(tail[-1].split()[1]):.0f} s")
    if proc.returncode != 0 or not tail:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    _, wall, rss_kb, _ = tail[-1].split()
    return float(wall), round(int(rss_kb) / 1024, 1), proc.stdout or ""


def generate(n_accounts: int, seed: int, out: Path, shard: int = SHARD) -> dict:
    """Write a world of ``n_accounts`` to ``out`` (CSV), in shards above 1M; in this process."""
    import pandas as pd

    from fraudgraph.synthetic.world import generate_world, write_world

    out.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("accounts", "links", "transactions", "truth"), 0)
    shards = max(1, -(-n_accounts // shard))
    for k in range(shards):
        size = min(shard, n_accounts - k * shard)
        world = generate_world(size, seed + k)
        if shards > 1:
            _prefix_ids(world, k)
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            for name, path in write_world(world, tmp).items():
                counts[name] = counts.get(name, 0) + len(getattr(world, name))
                target = out / path.name
                with open(path, "rb") as src, open(target, "ab" if k else "wb") as dst:
                    if k:
                        src.readline()  # the header, written once
                    shutil.copyfileobj(src, dst, 16 << 20)
        del world
    del pd
    return counts


def _prefix_ids(world, k: int) -> None:
    """Shard ``k``'s account ids ``A...`` -> ``A{k:02d}...``, transaction ids likewise."""
    tag = f"{k:02d}"

    def acc(s):
        return "A" + tag + s.str.slice(1)

    world.accounts["account_id"] = acc(world.accounts["account_id"].astype(str))
    world.links["account_id"] = acc(world.links["account_id"].astype(str))
    world.truth["account_id"] = acc(world.truth["account_id"].astype(str))
    t = world.transactions
    if len(t):
        t["txn_id"] = "T" + tag + t["txn_id"].astype(str).str.slice(1)
        t["account_id"] = acc(t["account_id"].astype(str))
        is_account = t["counterparty_kind"].astype(str) == "account"
        cp = t["counterparty"].astype(str)
        t["counterparty"] = cp.where(~is_account, acc(cp))
    for col in ("ring_id", "group_id"):  # rings and groups of different shards are different
        if col in world.truth.columns:
            value = world.truth[col].astype(object)
            empty = value.isna() | (value.astype(str) == "")
            world.truth[col] = value.where(empty, tag + "-" + value.astype(str))


def read_floor(world_dir: Path) -> dict:
    """pandas (C engine, strings) and pyarrow reading the three CSVs; in this process."""
    import pandas as pd
    import pyarrow.csv as pacsv

    out = {}
    t = time.perf_counter()
    for name in _TABLES:
        pd.read_csv(world_dir / f"{name}.csv", dtype=str, keep_default_na=False, na_filter=False)
    out["pandas_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    for name in _TABLES:
        pacsv.read_csv(world_dir / f"{name}.csv")
    out["pyarrow_s"] = round(time.perf_counter() - t, 1)
    return out


def _floor_step(folder: Path, max_rss_gb: int) -> dict:
    """``read_floor`` of ``folder``'s world, in a process of its own."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--step", "read", "0", "--keep", str(folder)]
    _, _, out = _timed(cmd, max_rss_gb=max_rss_gb)
    return json.loads(out.strip().splitlines()[-1])


def measure(
    n_accounts: int, seed: int, folder: Path, shard: int = SHARD, max_rss_gb: int = 0, floor_after: bool = False
) -> dict:
    """One size, every step in its own process; a step over ``max_rss_gb`` ends the size there.
    ``floor_after``: the read floor measured again once the sweep is done."""
    row: dict = {"accounts": n_accounts}
    try:
        _steps(row, n_accounts, seed, folder, shard, max_rss_gb)
        if floor_after:
            row["read_floor_after_pandas_s"] = _floor_step(folder, max_rss_gb)["pandas_s"]
            row["x_read_floor_after"] = round(row["load_plus_sweep_s"] / max(row["read_floor_after_pandas_s"], 0.1), 1)
    except OverMemory as e:
        row["stopped"] = str(e)
    return row


def _steps(row: dict, n_accounts: int, seed: int, folder: Path, shard: int, max_rss_gb: int) -> None:
    world_dir, db = folder / "world", folder / "bench.db"
    here = str(Path(__file__).resolve())
    if not (world_dir / "transactions.csv").exists():
        cmd = [sys.executable, here, "--step", "generate", str(n_accounts), "--seed", str(seed), "--keep", str(folder)]
        wall, rss, out = _timed([*cmd, "--shard", str(shard)], max_rss_gb=max_rss_gb)
        row.update(json.loads(out.strip().splitlines()[-1]))
        row["generate_s"], row["generate_peak_mb"] = round(wall, 1), rss
    if "links" not in row:  # a kept world: count its rows (lines less the header)
        for name in _TABLES:
            with open(world_dir / f"{name}.csv", "rb") as f:
                row[name] = sum(chunk.count(b"\n") for chunk in iter(lambda f=f: f.read(1 << 24), b"")) - 1
    row["csv_mb"] = round(sum((world_dir / f"{n}.csv").stat().st_size for n in _TABLES) / 1e6)
    floor = _floor_step(folder, max_rss_gb)
    row["read_floor_pandas_s"], row["read_pyarrow_s"] = floor["pandas_s"], floor["pyarrow_s"]
    for f in folder.glob("bench.db*"):
        f.unlink()
    fg = [sys.executable, "-m", "fraudgraph", "--db", str(db), "-q"]
    wall, rss, _ = _timed([*fg, "load", str(world_dir)], max_rss_gb=max_rss_gb)
    row["load_s"], row["load_peak_mb"] = round(wall, 1), rss
    wall, rss, out = _timed([*fg, "sweep", "--format", "json"], max_rss_gb=max_rss_gb)
    row["sweep_s"], row["sweep_peak_mb"] = round(wall, 1), rss
    summary = json.loads(out)
    summary = summary.get("summary", summary)
    row["sweep_stages_s"] = {k: round(v, 1) for k, v in (summary.get("seconds") or {}).items()}
    row["rings"] = summary.get("rings")
    row["db_mb"] = round(db.stat().st_size / 1e6)
    row["load_plus_sweep_s"] = round(row["load_s"] + row["sweep_s"], 1)
    row["x_read_floor"] = round(row["load_plus_sweep_s"] / max(row["read_floor_pandas_s"], 0.1), 1)


def _markdown(rows: list[dict]) -> str:
    head = "| accounts | links | read floor | load | sweep | load+sweep | x floor | peak load / sweep | db |"
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        if "stopped" in r:
            lines.append(f"| {r['accounts']:,} | {r.get('links', 0):,} | stopped: {r['stopped']} |" + " |" * 6)
            continue
        lines.append(
            f"| {r['accounts']:,} | {r.get('links', 0):,} | {r['read_floor_pandas_s']} s | {r['load_s']} s "
            f"| {r['sweep_s']} s | {r['load_plus_sweep_s']} s | {r['x_read_floor']} "
            f"| {r['load_peak_mb'] / 1024:.1f} / {r['sweep_peak_mb'] / 1024:.1f} GB | {r['db_mb'] / 1024:.1f} GB |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="Keep worlds and workspaces under this folder.")
    parser.add_argument("--shard", type=int, default=SHARD, help="Accounts per generated shard.")
    parser.add_argument("--max-rss-gb", type=int, default=0, help="Stop a step whose memory goes above this.")
    parser.add_argument("--markdown", action="store_true", help="Also print a Markdown table.")
    parser.add_argument("--floor-after", action="store_true", help="Read the CSVs again after the sweep.")
    parser.add_argument("--step", choices=["generate", "read"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "generate":
        print(json.dumps(generate(args.sizes[0], args.seed, args.keep / "world", args.shard)))
        return 0
    if args.step == "read":
        print(json.dumps(read_floor(args.keep / "world")))
        return 0
    rows = []
    for size in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"fraudgraph-bench-{size}-"))
        folder = (args.keep / str(size)) if args.keep else tmp
        folder.mkdir(parents=True, exist_ok=True)
        try:
            rows.append(measure(size, args.seed, folder, args.shard, args.max_rss_gb, args.floor_after))
            print(json.dumps(rows[-1]), flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.markdown:
        print(_markdown(rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
