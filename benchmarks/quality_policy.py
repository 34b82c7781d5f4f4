"""Detection quality as a user sees it, on both generators: ``fraudgraph load``, ``sweep``, then
``decisions`` (the policy's actions), all through the command line, against the truth file.

    python benchmarks/quality_policy.py --generator both --sizes 20000 100000 --seeds 41 42 43 [--misses 8]

The detector's figures were tuned on seeds 1-3 at 20,000 accounts of both generators; report on
held-out seeds (41 and up). ``standard`` is ``fraudgraph generate`` (fraudgraph.synthetic.world),
``city`` is the independent second generator (``--generator city``, fraudgraph.synthetic.second).

Columns: rev_P / rev_R: review-or-worse precision over every flagged account and recall over ring
fraud; early_R: the same recall over early-stage ring members (their planted ring has nobody overdue
yet; for the standard generator read from the accounts' arrears); sus_P / sus_R: suspend; ring_P /
ring_R: planted rings found; R_<kind>: review-or-worse recall per ring kind; FF_all / FF_<group>:
share of innocent accounts (of each group kind) flagged review or worse; MON_<group>: the same at
monitor or worse. Closed accounts are left out (the policy never acts on them). Actions whose
trigger is a credit rule (overdue, utilization) count as what the fraud score alone would do, as in
``fraudgraph evaluate``. With --misses, the largest planted rings that are mostly not flagged and
the innocent groups most flagged are described: kind, what the members share, scores, actions,
reasons.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fraudgraph.app.quality import FLAG_ACTIONS, evaluate_quality
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.second import generate_city, write_city
from fraudgraph.synthetic.world import generate_world, write_world

GENERATORS = {"standard": (generate_world, write_world), "city": (generate_city, write_city)}


def cli(db: Path, *args: str) -> str:
    """Run one ``fraudgraph`` command as a user would; its stdout."""
    done = subprocess.run([sys.executable, "-m", "fraudgraph", "--db", str(db), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"fraudgraph {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def run_one(generator: str, n: int, seed: int, work: Path) -> dict:
    """Generate, load, sweep, read decisions; evaluate against truth."""
    t0 = time.perf_counter()
    generate, write = GENERATORS[generator]
    world = generate(n, seed)
    folder = work / f"{generator}-{n}-{seed}"
    write(world, folder)
    t1 = time.perf_counter()
    db = folder / "workspace.db"
    db.unlink(missing_ok=True)
    cli(db, "load", str(folder), "--format", "json")
    t2 = time.perf_counter()
    cli(db, "sweep", "--format", "json")
    t3 = time.perf_counter()
    decisions = pd.read_csv(
        io.StringIO(cli(db, "decisions", "--all", "--format", "csv")), dtype=str, keep_default_na=False
    )
    decisions["score"] = pd.to_numeric(decisions["score"], errors="coerce").fillna(0.0)
    members = decisions.loc[decisions["ring_id"] != "", ["ring_id", "account_id"]]
    accounts = world.accounts.astype({"account_id": str})
    labelled = accounts.loc[accounts["label"].fillna("").astype(str) != "", "account_id"]
    truth = world.truth.astype({"is_fraud": bool})
    result = evaluate_quality(
        truth, decisions[["account_id"]], decisions, members, labelled_accounts=labelled, accounts=accounts
    )
    result["monitor_rates"] = monitor_rates(truth, decisions)
    result["seconds"] = {"generate": t1 - t0, "load": t2 - t1, "sweep": t3 - t2}
    return {"world": world, "decisions": decisions, "result": result}


def effective_actions(truth: pd.DataFrame, decisions: pd.DataFrame) -> pd.Series:
    """The fraud finding per account, as evaluate_quality() counts it (credit triggers mapped by score)."""
    from fraudgraph.app.quality import FRAUD_TRIGGERS
    from fraudgraph.detection.scoring import default_actions

    d = decisions.set_index("account_id")
    credit = ~d["trigger"].isin(FRAUD_TRIGGERS) & (d["trigger"] != "none")
    return d["action"].where(~credit, default_actions(d["score"].astype(float)))


def monitor_rates(truth: pd.DataFrame, decisions: pd.DataFrame) -> dict:
    """Share of each innocent group kind at monitor or worse: how close look-alikes sit to a flag."""
    act = effective_actions(truth, decisions).reindex(truth["account_id"]).fillna("none").to_numpy()
    innocent = ~truth["is_fraud"].to_numpy(bool)
    kind = truth["group_kind"].replace("", "ungrouped").to_numpy()
    watched = np.isin(act, ("monitor", *FLAG_ACTIONS))
    return {k: float(watched[innocent & (kind == k)].mean()) for k in np.unique(kind[innocent])}


def summary_row(generator: str, n: int, seed: int, r: dict) -> dict:
    a = r["accounts"]
    flags = r["false_flags"]
    innocent = sum(v["n_accounts"] for v in flags.values())
    row = {
        "generator": generator,
        "accounts": n,
        "seed": seed,
        "rev_P": a["review_or_worse"]["precision"],
        "rev_R": a["review_or_worse"]["recall"],
        "early_R": r["early_stage"].get("recall", np.nan),
        "early_n": r["early_stage"].get("n_accounts", 0),
        "sus_P": a["suspend"]["precision"],
        "sus_R": a["suspend"]["recall"],
        "ring_P": r["rings"]["precision"],
        "ring_R": r["rings"]["recall"],
        "FF_all": sum(v["flagged"] for v in flags.values()) / max(innocent, 1),
        "closed_left_out": r.get("closed_excluded", 0),
    }
    for kind, block in sorted(r["ring_kinds"].items()):
        row[f"R_{kind}"] = block.get("account_recall", np.nan)
    for kind, block in sorted(flags.items()):
        row[f"FF_{kind}"] = block.get("rate", np.nan)
    for kind, rate in sorted(r["monitor_rates"].items()):
        row[f"MON_{kind}"] = rate
    row["lone_flagged"] = f"{r['lone']['flagged']}/{r['lone']['n_accounts']}"
    row.update({f"s_{k}": v for k, v in r["seconds"].items()})
    return row


def shared_kinds(links: pd.DataFrame, accounts: pd.Index) -> str:
    """What a set of accounts share among themselves: kind x (accounts on the most shared key)."""
    sub = links[links["account_id"].isin(accounts) & links["key"].notna()]
    per_key = sub.drop_duplicates(["kind", "key", "account_id"]).groupby(["kind", "key"]).size()
    per_key = per_key[per_key >= 2]
    if per_key.empty:
        return "nothing"
    best = per_key.groupby(level="kind").agg(["max", "size"])
    return ", ".join(f"{k} {int(r['max'])}/{len(accounts)} ({int(r['size'])} keys)" for k, r in best.iterrows())


def describe_misses(run: dict, top: int) -> list[str]:
    """The largest planted rings mostly missed, and the innocent groups most flagged."""
    world, decisions = run["world"], run["decisions"]
    links = world.links.assign(key=canonical_keys(world.links["kind"], world.links["value"]).to_numpy())
    act = effective_actions(world.truth, decisions)
    d = decisions.set_index("account_id")
    truth = world.truth.astype({"is_fraud": bool})
    if "early_stage" not in truth:
        truth = truth.assign(early_stage="?")
    t = truth.set_index("account_id").assign(
        flagged=act.isin(FLAG_ACTIONS),
        action=act,
        score=d["score"],
        det_ring=d["ring_id"],
        reasons=d["reasons"],
    )
    lines = ["", "largest missed rings (flagged share <= 0.5):"]
    rings = (
        t[t["ring_id"] != ""]
        .groupby("ring_id")
        .agg(
            tactic=("ring_kind", "first"),
            size=("flagged", "size"),
            flagged=("flagged", "mean"),
            early=("early_stage", "first"),
            max_score=("score", "max"),
            med_score=("score", "median"),
        )
    )
    missed = rings[rings["flagged"] <= 0.5].sort_values(["size", "max_score"], ascending=[False, False])
    for ring_id, r in missed.head(top).iterrows():
        m = t[t["ring_id"] == ring_id]
        lines.append(
            f"  {ring_id} {r['tactic']} size {r['size']} early={r['early']} flagged {r['flagged']:.0%} "
            f"score max {r['max_score']:.2f} median {r['med_score']:.2f}; actions {m['action'].value_counts().to_dict()}; "
            f"detected rings {m['det_ring'].replace('', '-').value_counts().to_dict()}; "
            f"shares {shared_kinds(links, m.index)}; reasons {m['reasons'].value_counts().head(2).to_dict()}"
        )
    lines.append("innocent groups most flagged:")
    inn = (
        t[~t["is_fraud"] & (t["group_id"] != "")]
        .groupby("group_id")
        .agg(
            kind=("group_kind", "first"),
            size=("flagged", "size"),
            flagged=("flagged", "sum"),
            max_score=("score", "max"),
        )
    )
    if not inn["flagged"].any():
        lines.append("  (none flagged review or worse)")
    for gid, g in inn.sort_values("flagged", ascending=False).head(top).iterrows():
        if g["flagged"] == 0:
            break
        m = t[t["group_id"] == gid]
        lines.append(
            f"  {gid} size {g['size']} flagged {g['flagged']} score max {g['max_score']:.2f}; "
            f"actions {m['action'].value_counts().to_dict()}; shares {shared_kinds(links, m.index)}; "
            f"reasons {m.loc[m['flagged'], 'reasons'].value_counts().head(2).to_dict()}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=[*GENERATORS, "both"], default="both")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[41, 42, 43])
    parser.add_argument("--misses", type=int, default=0, help="describe this many biggest misses per world")
    parser.add_argument("--work", type=Path, default=None, help="keep worlds and workspaces here")
    args = parser.parse_args(argv)
    pd.set_option("display.width", 300)
    pd.set_option("display.max_columns", 60)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        generators = list(GENERATORS) if args.generator == "both" else [args.generator]
        for generator in generators:
            for n in args.sizes:
                for seed in args.seeds:
                    run = run_one(generator, n, seed, work)
                    rows.append(summary_row(generator, n, seed, run["result"]))
                    print(pd.DataFrame([rows[-1]]).round(4).T.to_string(header=False), file=sys.stderr)
                    if args.misses:
                        print("\n".join(describe_misses(run, args.misses)), file=sys.stderr)
    table = pd.DataFrame(rows)
    print(table.round(4).T.to_string(header=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
