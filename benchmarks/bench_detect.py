"""Time and peak memory of each detection stage on generated worlds.

    /work/venv/bin/python benchmarks/bench_detect.py --sizes 100000 1000000

Peak memory is the process's resident high-water mark (ru_maxrss) after each stage, so it
includes the generated world itself; the world is generated and normalized before timing starts.
``cpu_s`` is the process's CPU time in the stage (less noisy than wall time on a busy machine;
it can exceed wall time where a library uses several threads). ``added_mb`` is how far each stage's high-water mark rose above the resident size detect()
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


def cpu_s() -> float:
    """CPU seconds (user + system) of this process so far: on a shared machine, less noisy than
    wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
    marks: list[tuple[str, float, float, float]] = []

    def progress(stage: str) -> None:
        marks.append((stage, time.perf_counter(), peak_mb(), cpu_s()))
        print(f"  {n_accounts:,}: {stage} ...", file=sys.stderr)

    start_mb = rss_mb()
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    det = detect(accounts, links, transactions, seed=0, progress=progress)
    total = time.perf_counter() - t0
    cpu_total = cpu_s() - cpu0
    # Peak after a stage = the high-water mark when the next stage starts.
    peaks = [m[2] for m in marks[1:]] + [peak_mb()]
    cpu_ends = [m[3] for m in marks[1:]] + [cpu0 + cpu_total]
    for (stage, _, _, cpu_start), peak, cpu_end in zip(marks, peaks, cpu_ends):
        rows.append(
            {
                "accounts": n_accounts,
                "links": len(links),
                "stage": stage,
                "seconds": det.stage_seconds.get(stage, float("nan")),
                "cpu_s": cpu_end - cpu_start,
                "peak_mb": peak,
            }
        )
    rows.append(
        {
            "accounts": n_accounts,
            "links": len(links),
            "stage": "detect total",
            "seconds": total,
            "cpu_s": cpu_total,
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
    table = pd.DataFrame(rows).reindex(
        columns=["accounts", "links", "stage", "seconds", "cpu_s", "peak_mb", "added_mb"]
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
