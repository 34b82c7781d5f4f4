"""Time and peak memory of each detection stage on generated worlds.

    /work/venv/bin/python benchmarks/bench_detect.py --sizes 100000 1000000

Peak memory is the process's resident high-water mark (ru_maxrss) after each stage, so it
includes the generated world itself; the world is generated and normalized before timing starts.
``added_mb`` is how far each stage's high-water mark rose above the resident size detect()
started from (the inputs): the memory detection itself needs. Stage seconds are detect()'s own
clock (``Detection.stage_seconds``). ``--json FILE`` also writes the rows as JSON, to compare
runs of two versions.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time

import pandas as pd

from fraudgraph.detection.pipeline import detect
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rss_mb() -> float:
    """The current resident size (Linux /proc; the high-water mark elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return peak_mb()


def run(n_accounts: int, seed: int) -> list[dict]:
    t = time.perf_counter()
    world = generate_world(n_accounts, seed)
    accounts = world.accounts.assign(properties="{}")
    accounts["label"] = accounts["label"].astype(object).where(accounts["label"].isin(["fraud", "legit"]), None)
    links = world.links
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    links = links.assign(key=canonical_keys(links["kind"], links["value"]))
    norm_s = time.perf_counter() - t
    transactions = world.transactions
    del world
    gc.collect()
    rows = [
        {
            "accounts": n_accounts,
            "links": len(links),
            "stage": "generate (not timed)",
            "seconds": gen_s,
            "peak_mb": peak_mb(),
        },
        {
            "accounts": n_accounts,
            "links": len(links),
            "stage": "normalize keys",
            "seconds": norm_s,
            "peak_mb": peak_mb(),
        },
    ]
    marks: list[tuple[str, float, float]] = []

    def progress(stage: str) -> None:
        marks.append((stage, time.perf_counter(), peak_mb()))
        print(f"  {n_accounts:,}: {stage} ...", file=sys.stderr)

    start_mb = rss_mb()
    t0 = time.perf_counter()
    det = detect(accounts, links, transactions, seed=0, progress=progress)
    total = time.perf_counter() - t0
    # Peak after a stage = the high-water mark when the next stage starts.
    peaks = [m[2] for m in marks[1:]] + [peak_mb()]
    for (stage, _, _), peak in zip(marks, peaks):
        rows.append(
            {
                "accounts": n_accounts,
                "links": len(links),
                "stage": stage,
                "seconds": det.stage_seconds.get(stage, float("nan")),
                "peak_mb": peak,
            }
        )
    rows.append(
        {
            "accounts": n_accounts,
            "links": len(links),
            "stage": "detect total",
            "seconds": total,
            "peak_mb": peak_mb(),
        }
    )
    for row in rows[2:]:
        row["added_mb"] = max(row["peak_mb"] - start_mb, 0.0)
    print(f"  {n_accounts:,}: {len(det.rings):,} rings, {len(det.hubs):,} hubs", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON to FILE")
    args = parser.parse_args(argv)
    rows = []
    for n in args.sizes:
        rows.extend(run(n, args.seed))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
