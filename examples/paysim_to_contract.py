"""Convert the public PaySim first-party-fraud clients table (Kineviz/paysim, data/raw/clients.csv)
into a fraudgraph data folder, plus a truth.csv for `fraudgraph evaluate`.

    python examples/paysim_to_contract.py clients.csv ./paysim
    fraudgraph --db paysim.db load ./paysim && fraudgraph --db paysim.db sweep
    fraudgraph --db paysim.db evaluate ./paysim/truth.csv

Each client is an account; email, phone number and SSN are its identifiers (kinds email, phone,
national_id). The table has no opening dates, credit lines or outcomes, so the converter spreads
`created_at` over four years by a hash of the account id (neutral: it says nothing about fraud and
fakes no synchrony) and writes no credit fields: detection rests on shared identifiers alone. The `isfraud` column goes to truth.csv only, never into `label`, so nothing is given away.
The data is not part of this repository (it has no licence); point the script at your copy.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from datetime import date, timedelta
from pathlib import Path


def opened_on(account_id: str, start: date = date(2017, 1, 1), days: int = 4 * 365) -> str:
    """A stable, fraud-neutral opening date for an account that has none."""
    h = int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:8], "big")
    return (start + timedelta(days=h % days)).isoformat()


def convert(clients: Path, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    counts = {"accounts": 0, "links": 0, "fraud": 0}
    with open(clients, newline="", encoding="utf-8") as f, \
            open(out / "accounts.csv", "w", newline="", encoding="utf-8") as fa, \
            open(out / "links.csv", "w", newline="", encoding="utf-8") as fl, \
            open(out / "truth.csv", "w", newline="", encoding="utf-8") as ft:  # fmt: skip
        accounts, links, truth = csv.writer(fa), csv.writer(fl), csv.writer(ft)
        accounts.writerow(["account_id", "created_at", "name"])
        links.writerow(["account_id", "kind", "value"])
        truth.writerow(["account_id", "is_fraud", "ring_id", "ring_kind", "group_id", "group_kind"])
        for row in csv.DictReader(f):
            account = row["id"]
            accounts.writerow([account, opened_on(account), row["name"]])
            for kind, column in (("email", "email"), ("phone", "phonenumber"), ("national_id", "ssn")):
                if row[column]:
                    links.writerow([account, kind, row[column]])
                    counts["links"] += 1
            fraud = row["isfraud"].strip().lower() == "true"
            # PaySim does not say which ring a fraudster belongs to: one ring kind, no ring id.
            truth.writerow([account, int(fraud), "", "first_party" if fraud else "", "", ""])
            counts["accounts"] += 1
            counts["fraud"] += fraud
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clients", type=Path, help="clients.csv from Kineviz/paysim")
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    counts = convert(args.clients, args.out_dir)
    print(
        f"wrote {counts['accounts']:,} accounts and {counts['links']:,} links to {args.out_dir} "
        f"({counts['fraud']:,} fraudulent in truth.csv)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
