"""Write a synthetic fraud world (accounts, links, transactions + truth.csv) to a folder.

python examples/generate.py OUT_DIR --accounts 20000 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time

from fraudgraph.synthetic.world import generate_world, write_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="folder to write accounts/links/transactions/truth into")
    parser.add_argument("--accounts", type=int, default=10_000, help="number of accounts (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--as-of", default="2026-11-01", help="extract date (default 2026-11-01)")
    parser.add_argument("--fraud-share", type=float, default=0.03, help="share of ring members (default 0.03)")
    parser.add_argument("--no-transactions", action="store_true", help="skip the transactions table")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        world = generate_world(
            args.accounts,
            args.seed,
            as_of=args.as_of,
            fraud_share=args.fraud_share,
            with_transactions=not args.no_transactions,
        )
    except ValueError as exc:
        parser.error(str(exc))
    paths = write_world(world, args.out_dir, format=args.format)
    elapsed = time.perf_counter() - started
    print(f"{world} in {elapsed:.1f}s", file=sys.stderr)
    for path in paths.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
