"""Detection quality on worlds of the second, independent generator (issue 10), measured the way a
user sees it: ``fraudgraph load``, ``sweep``, then ``decisions`` (the policy's actions), all through
the command line, against the truth file.

    python benchmarks/quality_second.py --sizes 20000 --seeds 41 42 43 [--misses 8]

Columns: rev_P / rev_R: review-or-worse precision over every flagged account and recall over ring
fraud; early_R: the same recall over early-stage ring members (their ring has nobody overdue yet);
sus_P / sus_R: suspend; R_<tactic>: review-or-worse recall per ring tactic; FF_<kind>: share of an
innocent group kind flagged review or worse; MON_<kind>: the same at monitor or worse. Actions whose
utilization) count as what the fraud score alone would do, as in ``fraudgraph evaluate``.
With --misses, the largest planted rings that are mostly not flagged and the innocent groups most
flagged are described: tactic, what the members share, scores, actions, reasons.
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
from fraudgraph.synthetic.second import GROUP_KINDS, TACTICS, generate_city, write_city

CITY_GROUPS = (*GROUP_KINDS, "late_payer", "ungrouped")


def cli(db: Path, *args: str) -> str:
    """Run one ``fraudgraph`` command as a user would; its stdout."""
    done = subprocess.run([sys.executable, "-m", "fraudgraph", "--db", str(db), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"fraudgraph {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def run_one(n: int, seed: int, work: Path) -> dict:
    """Generate, load, sweep, read decisions; evaluate against truth."""
    t0 = time.perf_counter()
    world = generate_city(n, seed)
    folder = work / f"city-{n}-{seed}"
    write_city(world, folder)
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
    labelled = world.accounts.loc[world.accounts["label"] != "", "account_id"]
    truth = world.truth.astype({"is_fraud": bool})
    result = evaluate_quality(truth, decisions[["account_id"]], decisions, members, labelled_accounts=labelled)
    result["early"] = early_stage_recall(truth, decisions)
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


def early_stage_recall(truth: pd.DataFrame, decisions: pd.DataFrame) -> dict:
    act = effective_actions(truth, decisions)
    early = truth.loc[truth["early_stage"].astype(str).str.lower() == "true", "account_id"]
    flagged = act.reindex(early).isin(FLAG_ACTIONS)
    return {"n": int(len(early)), "recall": float(flagged.mean()) if len(early) else float("nan")}


def monitor_rates(truth: pd.DataFrame, decisions: pd.DataFrame) -> dict:
    """Share of each innocent group kind at monitor or worse: how close look-alikes sit to a flag."""
    act = effective_actions(truth, decisions).reindex(truth["account_id"]).fillna("none").to_numpy()
    innocent = ~truth["is_fraud"].to_numpy(bool)
    kind = truth["group_kind"].replace("", "ungrouped").to_numpy()
    watched = np.isin(act, ("monitor", *FLAG_ACTIONS))
    return {k: float(watched[innocent & (kind == k)].mean()) for k in np.unique(kind[innocent])}


def summary_row(n: int, seed: int, r: dict) -> dict:
    a = r["accounts"]
    row = {
        "accounts": n,
        "seed": seed,
        "rev_P": a["review_or_worse"]["precision"],
        "rev_R": a["review_or_worse"]["recall"],
        "early_R": r["early"]["recall"],
        "early_n": r["early"]["n"],
        "sus_P": a["suspend"]["precision"],
        "sus_R": a["suspend"]["recall"],
        "ring_P": r["rings"]["precision"],
        "ring_R": r["rings"]["recall"],
    }
    for tactic in TACTICS:
        row[f"R_{tactic}"] = r["ring_kinds"].get(tactic, {}).get("account_recall", np.nan)
    for kind in CITY_GROUPS:
        row[f"FF_{kind}"] = r["false_flags"].get(kind, {}).get("rate", np.nan)
    for kind in CITY_GROUPS:
        row[f"MON_{kind}"] = r["monitor_rates"].get(kind, np.nan)
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
    t = world.truth.set_index("account_id").assign(
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
        for n in args.sizes:
            for seed in args.seeds:
                run = run_one(n, seed, work)
                rows.append(summary_row(n, seed, run["result"]))
                print(pd.DataFrame([rows[-1]]).round(3).T.to_string(header=False), file=sys.stderr)
                if args.misses:
                    print("\n".join(describe_misses(run, args.misses)), file=sys.stderr)
    table = pd.DataFrame(rows)
    print(table.round(3).T.to_string(header=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
