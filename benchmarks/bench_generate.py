"""Time and peak memory of generating and writing synthetic worlds, one fresh process per size.

python benchmarks/bench_generate.py                 # 100k and 1M accounts, CSV
python benchmarks/bench_generate.py 20000 --format parquet
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure_one(n_accounts: int, seed: int, fmt: str) -> dict:
    from fraudgraph.synthetic.world import generate_world, write_world

    started = time.perf_counter()
    world = generate_world(n_accounts, seed)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_world(world, tmp, format=fmt)
        written = time.perf_counter()
        size_mb = sum(p.stat().st_size for p in paths.values()) / 1e6
    return {
        "accounts": n_accounts,
        "links": len(world.links),
        "transactions": len(world.transactions),
        "generate_s": round(generated - started, 2),
        "write_s": round(written - generated, 2),
        "total_s": round(written - started, 2),
        "files_mb": round(size_mb, 1),
        # ru_maxrss is in KiB on Linux: the peak resident set of this whole process.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(measure_one(args.sizes[0], args.seed, args.format)))
        return 0
    widths = {"accounts": 10, "links": 10, "txns": 10, "generate": 9, "write": 7, "total": 7, "files": 8}
    widths["peak RSS"] = 9
    print(" ".join(f"{name:>{width}}" for name, width in widths.items()))
    for size in args.sizes:
        # A fresh interpreter per size, so each peak RSS belongs to that size alone.
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), str(size), "--seed", str(args.seed),
             "--format", args.format, "--in-process"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['accounts']:>10,} {r['links']:>10,} {r['transactions']:>10,} {r['generate_s']:>8.1f}s"
            f" {r['write_s']:>6.1f}s {r['total_s']:>6.1f}s {r['files_mb']:>6.0f}MB {r['peak_rss_mb']:>7.0f}MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
