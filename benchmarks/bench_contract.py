"""Time reading + validating + normalizing a large data folder (contract.read_dataset), and its peak memory.

Usage: python benchmarks/bench_contract.py [--accounts 1000000] [--links-per-account 7]
       [--transactions-per-account 0] [--format csv|parquet] [--folder PATH]
Writes a synthetic folder to a temporary directory (deleted afterwards), then times read_dataset in a
fresh process; ``--folder PATH`` times an existing folder only.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

STREETS = np.array(["Oak", "Maple", "Pine", "Cedar", "Elm", "Birch", "Walnut", "Main", "Park", "Lake"])
SUFFIX_SPELLINGS = np.array(["St", "Street", "St.", "STREET", "Ave", "Avenue", "Rd", "Road"])
UNIT_SPELLINGS = np.array(["Apt ", "Apartment ", "#", "Unit ", "Suite "])


def _strings(values: np.ndarray) -> pa.Array:
    if values.dtype.kind in "iuf":
        return pa.array(values).cast(pa.string())  # much faster than numpy's astype(str)
    return pa.array(values.astype(str), pa.string())


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def make_tables(
    n_accounts: int, links_per_account: float, txns_per_account: float = 0.0, seed: int = 0
) -> dict[str, pa.Table]:
    """Accounts, links with realistic spelling variety (about 40% of link values are shared) and
    optionally transactions."""
    rng = np.random.default_rng(seed)
    ids = _join(pa.scalar("A"), _strings(np.arange(n_accounts) + 10_000_000))
    days = rng.integers(0, 3 * 365, n_accounts).astype("timedelta64[D]") + np.datetime64("2022-01-01")
    accounts = pa.table(
        {
            "account_id": ids,
            "created_at": _strings(days),
            "credit_limit": _strings(rng.integers(0, 20, n_accounts) * 500),
            "balance": _strings(np.round(rng.random(n_accounts) * 5000, 2)),
            "overdue_days": _strings(rng.integers(0, 90, n_accounts) * (rng.random(n_accounts) < 0.1)),
            "status": _strings(rng.choice(["active", "suspended", "closed"], n_accounts, p=[0.9, 0.05, 0.05])),
            "label": _strings(rng.choice(["", "fraud", "legit"], n_accounts, p=[0.95, 0.01, 0.04])),
            "segment": _strings(rng.choice(["retail", "smb"], n_accounts)),
        }
    )
    n_links = int(n_accounts * links_per_account)
    owner = rng.integers(0, n_accounts, n_links)
    kinds = rng.choice(["device", "address", "phone", "email", "ip", "card"], n_links)
    # Half the values are the account's own; the rest are drawn from a smaller shared pool.
    entity = np.where(rng.random(n_links) < 0.6, owner, rng.integers(0, n_accounts // 2, n_links))
    n = n_links
    entity_str = _strings(entity)
    table_values = {
        "device": _join(pa.scalar("dev-"), _strings(entity * 7919 % 10**9)),
        "address": _join(
            _strings(entity % 9000 + 1),
            pa.scalar(" "),
            _strings(STREETS[entity % len(STREETS)]),
            pa.scalar(" "),
            _strings(SUFFIX_SPELLINGS[rng.integers(0, 2, n) + 2 * (entity % 4)]),
            pa.scalar(" "),
            _strings(UNIT_SPELLINGS[rng.integers(0, len(UNIT_SPELLINGS), n)]),
            _strings(entity // 9000),
        ),
        "phone": _join(
            pa.scalar("+1 (555) "),
            _strings(entity % 900 + 100),
            pa.scalar("-"),
            _strings(entity // 900 % 9000 + 1000),
        ),
        "email": _join(pa.scalar("User."), entity_str, pa.scalar("@GMail.com")),
        "ip": _join(
            _strings(entity % 200 + 10),
            pa.scalar("."),
            pc.utf8_lpad(_strings(entity // 200 % 250), 3, "0"),
            pa.scalar(".1."),
            _strings(entity % 7),
        ),
        "card": _join(
            pa.scalar("4000 1234 "),
            _strings(entity % 9000 + 1000),
            pa.scalar(" "),
            _strings(entity // 9000 % 9000 + 1000),
        ),
    }
    values = pa.nulls(n, pa.string())
    for kind, spelled in table_values.items():
        values = pc.if_else(pa.array(kinds == kind), spelled, values)
    values = pc.if_else(pa.array(rng.random(n) < 0.01), pa.scalar("N/A"), values)
    seen = rng.integers(0, 3 * 365, n).astype("timedelta64[D]") + np.datetime64("2022-01-01")
    links = pa.table(
        {
            "account_id": pc.take(ids, pa.array(owner)),
            "kind": _strings(kinds),
            "value": values,
            "first_seen": _strings(seen),
        }
    )
    tables = {"accounts": accounts, "links": links}
    n_txns = int(n_accounts * txns_per_account)
    if n_txns:
        to_account = rng.random(n_txns) < 0.3
        merchants = _join(pa.scalar("M-"), _strings(rng.integers(0, 5000, n_txns)))
        payees = pc.take(ids, pa.array(rng.integers(0, n_accounts, n_txns)))
        stamps = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 3 * 10**7, n_txns).astype("timedelta64[s]")
        tables["transactions"] = pa.table(
            {
                "txn_id": _join(pa.scalar("T"), _strings(np.arange(n_txns))),
                "account_id": pc.take(ids, pa.array(rng.integers(0, n_accounts, n_txns))),
                "counterparty": pc.if_else(pa.array(to_account), payees, merchants),
                "counterparty_kind": _strings(np.where(to_account, "account", "merchant")),
                "amount": _strings(np.round(rng.random(n_txns) * 500 + 1, 2)),
                "timestamp": _strings(stamps),
                "status": _strings(rng.choice(["settled", "", "declined", "chargeback"], n_txns)),
            }
        )
    return tables


def write_folder(folder: Path, tables: dict[str, pa.Table], fmt: str = "csv") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if fmt == "csv":
            pacsv.write_csv(table, folder / f"{name}.csv")
        else:
            pq.write_table(table, folder / f"{name}.parquet")


def time_read(folder: Path, fmt: str) -> None:
    """Time read_dataset on ``folder`` in this (fresh) process: wall, CPU and peak memory."""
    from fraudgraph.ingest.contract import read_dataset

    t0, c0 = time.perf_counter(), time.process_time()
    stages: list[tuple[str, float, float]] = []
    dataset = read_dataset(
        folder,
        progress=lambda msg: stages.append((msg, time.perf_counter() - t0, time.process_time() - c0)),
    )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    for msg, at, cpu_at in stages:
        print(f"  {at:6.1f} s wall {cpu_at:6.1f} s cpu  {msg}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_keys = dataset.links["key"].nunique()
    print(
        f"read_dataset ({fmt}): {elapsed:.1f} s wall, {cpu:.1f} s cpu (all threads); "
        f"{len(dataset.accounts):,} accounts, {len(dataset.links):,} links, {n_keys:,} distinct keys; "
        f"peak RSS {peak:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--links-per-account", type=float, default=7.0)
    parser.add_argument("--transactions-per-account", type=float, default=0.0)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--folder", type=Path, help="time reading this existing folder only")
    args = parser.parse_args()
    if args.folder:
        time_read(args.folder, args.format)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        t0 = time.perf_counter()
        tables = make_tables(args.accounts, args.links_per_account, args.transactions_per_account)
        write_folder(folder, tables, args.format)
        counts = " / ".join(f"{t.num_rows:,} {name}" for name, t in tables.items())
        del tables
        print(f"generated {counts} in {time.perf_counter() - t0:.1f} s")
        # A fresh process, so the generator's memory does not count in the peak.
        subprocess.run([sys.executable, __file__, "--folder", str(folder), "--format", args.format], check=True)


if __name__ == "__main__":
    main()
