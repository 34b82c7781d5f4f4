"""Detection quality on generated worlds: precision / recall per seed and size, per ring kind,
false-flag rates of innocent groups, lone fraudsters.

    /work/venv/bin/python benchmarks/quality.py --sizes 20000 100000 --seeds 1 2 3 4 5

Recall (rev_R, sus_R) is over fraud in rings; all_R is review-or-worse recall over all fraud, lone
fraudsters included (they share nothing with other fraud: lone_flagged of lone_n is the reach of
signals other than the graph). Precision is over every flagged account.

Worlds come from ``fraudgraph.synthetic.world.generate_world``; links are normalized with
``fraudgraph.ingest.normalize.canonical_keys`` exactly as a load would; actions are the default tiers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

from fraudgraph.app.quality import evaluate_quality
from fraudgraph.detection.pipeline import detect
from fraudgraph.detection.scoring import DEFAULT_TIERS, default_actions
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world


def contract_frames(world) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The world's input tables in the normalized form detect() takes (frames.py)."""
    accounts = world.accounts.copy()
    label = accounts["label"].astype(object)
    accounts["label"] = label.where(label.isin(["fraud", "legit"]), None).astype(object)
    accounts["properties"] = "{}"
    links = world.links.copy()
    links["key"] = canonical_keys(links["kind"], links["value"])
    return accounts, links, world.transactions


def run_one(n_accounts: int, seed: int, detect_seed: int = 0) -> dict:
    world = generate_world(n_accounts, seed)
    accounts, links, transactions = contract_frames(world)
    t = time.perf_counter()
    det = detect(accounts, links, transactions, seed=detect_seed)
    seconds = time.perf_counter() - t
    actions = default_actions(det.account_scores.set_index("account_id")["score"])
    labelled = accounts.loc[accounts["label"].notna(), "account_id"]
    result = evaluate_quality(world.truth, det.account_scores, actions, det.ring_members, labelled_accounts=labelled)
    result["seconds"] = seconds
    # Ring members the detector put in no candidate ring: the generator ties every ring member to
    # its ring, so these are members whose only tie the detector does not use (e.g. one capped as
    # a hub in that world); 1 - this share bounds ring recall.
    truth = world.truth
    fraud = truth["is_fraud"].astype(str).isin(["1", "True", "true"])
    ring_fraud = truth.loc[fraud & (truth["ring_id"].astype(str) != ""), "account_id"]
    in_candidates = ring_fraud.isin(det.ring_members["account_id"])
    result["ring_fraud_in_no_ring"] = float((~in_candidates).mean()) if len(ring_fraud) else 0.0
    return result


def summary_row(n: int, seed: int, r: dict) -> dict:
    a, u = r["accounts"], r["unlabelled"]
    row = {
        "accounts": n,
        "seed": seed,
        "rev_P": a["review_or_worse"]["precision"],
        "rev_R": a["review_or_worse"]["recall"],
        "all_R": a["review_or_worse"]["all_fraud_recall"],
        "sus_P": a["suspend"]["precision"],
        "sus_R": a["suspend"]["recall"],
        "unl_rev_P": u["review_or_worse"]["precision"],
        "unl_rev_R": u["review_or_worse"]["recall"],
        "ring_P": r["rings"]["precision"],
        "ring_R": r["rings"]["recall"],
    }
    for kind in ("bust_out", "ato_farm", "mule_network"):
        row[f"R_{kind}"] = r["ring_kinds"].get(kind, {}).get("account_recall", np.nan)
    for kind in (
        "household",
        "apartment_block",
        "corporate_card",
        "kiosk",
        "parcel_locker",
        "carrier_ip",
        "junk_device",
        "late_payer",
        "ungrouped",
    ):
        row[f"FF_{kind}"] = r["false_flags"].get(kind, {}).get("rate", np.nan)
    row["lone_n"] = r["lone"]["n_accounts"]
    row["lone_flagged"] = r["lone"]["flagged"]
    row["unlinked"] = r["ring_fraud_in_no_ring"]
    row["seconds"] = r["seconds"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--json", action="store_true", help="print the full evaluate_quality() results as JSON lines")
    args = parser.parse_args(argv)
    print(f"default tiers: {DEFAULT_TIERS}", file=sys.stderr)
    rows = []
    for n in args.sizes:
        for seed in args.seeds:
            r = run_one(n, seed)
            if args.json:
                print(json.dumps({"accounts": n, "seed": seed, **r}, default=float))
            rows.append(summary_row(n, seed, r))
            print(
                pd.DataFrame([rows[-1]]).round(4).to_string(index=False, header=len(rows) == 1),
                file=sys.stderr,
            )
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    print(table.round(4).to_string(index=False))
    means = table.groupby("accounts").mean(numeric_only=True).drop(columns=["seed"])
    print("\nmean per size:")
    print(means.round(4).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
