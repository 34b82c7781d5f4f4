"""End-to-end time and peak memory per stage: generate, read + validate, load into SQLite, sweep.

Each size runs in a fresh interpreter so its peak RSS is its own.

    python benchmarks/bench_pipeline.py                    # 100k and 1M accounts
    python benchmarks/bench_pipeline.py 20000 --keep /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(n_accounts: int, seed: int, folder: Path) -> dict:
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    out: dict = {"accounts": n_accounts}
    world_dir = folder / "world"
    t = time.perf_counter()
    world = generate_world(n_accounts, seed)
    write_world(world, world_dir)
    out["links"] = len(world.links)
    out["transactions"] = len(world.transactions)
    del world
    out["generate_write_s"] = round(time.perf_counter() - t, 1)
    out["rss_after_generate_mb"] = _rss_mb()

    import pandas as pd

    t = time.perf_counter()
    pd.read_csv(world_dir / "links.csv", dtype=str, keep_default_na=False, na_filter=False)
    out["read_links_csv_only_s"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    ds = read_dataset(world_dir)
    out["read_validate_normalize_s"] = round(time.perf_counter() - t, 1)
    db = folder / "bench.db"
    t = time.perf_counter()
    with SqliteWorkspace(db) as ws:
        ws.load(ds)
        out["load_sqlite_s"] = round(time.perf_counter() - t, 1)
        del ds
        t = time.perf_counter()
        result = run_sweep(ws, seed=0)
        out["sweep_s"] = round(time.perf_counter() - t, 1)
        out["sweep_stages_s"] = {k: round(v, 1) for k, v in result.summary["seconds"].items()}
        out["rings"] = result.summary["rings"]
        out["actions"] = result.summary["actions"]
    out["db_mb"] = round(db.stat().st_size / 1e6, 1)
    out["peak_rss_mb"] = _rss_mb()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="Keep worlds and workspaces under this folder.")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
        print(json.dumps(measure(args.sizes[0], args.seed, folder)))
        return 0
    for size in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"fraudgraph-bench-{size}-"))
        folder = (args.keep / str(size)) if args.keep else tmp
        try:
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), str(size), "--seed", str(args.seed),
                 "--keep", str(folder), "--in-process"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            print(json.dumps(json.loads(proc.stdout.strip().splitlines()[-1]), indent=2), flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
