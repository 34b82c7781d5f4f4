"""Quality against a truth file, and the demo that shows the whole job."""

import json
import tempfile
import time
from pathlib import Path

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import echo_wrapped, emit, format_option, progress_of
from fraudgraph.model.values import jsonable


@cli.command()
@click.argument("truth_file", type=click.Path(exists=True, dir_okay=False))
@format_option
@click.pass_obj
def evaluate(obj, truth_file, fmt):
    """Precision / recall of the last sweep against ground truth (truth.csv, or truth.parquet with
    `generate --parquet`).

    \b
    Example:
      fraudgraph evaluate ./world/truth.csv
    """
    from fraudgraph.app.quality import evaluate_workspace

    result = evaluate_workspace(obj.workspace(), truth_file)
    if fmt == "json":
        click.echo(json.dumps(jsonable(result), indent=2))
        return
    if fmt == "csv":  # one metric a row, for spreadsheets and scripts
        emit([{"metric": k, "value": v} for k, v in _flatten(result).items()], fmt)
        return
    _print_quality(result)


def _print_quality(result: dict) -> None:
    """The evaluation as a reader takes it in: a few short tables, each with a line saying what it counts."""
    acc = result.get("accounts", {})
    over = "fraud in rings" if acc.get("recall_over") == "ring_fraud" else "all fraud"
    echo_wrapped(
        f"Accounts: {acc.get('n_accounts', 0):,}, of them {acc.get('n_fraud', 0):,} fraud "
        f"({acc.get('n_ring_fraud', 0):,} in rings, {acc.get('n_lone', 0):,} alone); "
        f"{result.get('closed_excluded', 0):,} closed accounts left out. Recall is over {over}; "
        "'unlabelled' leaves out the accounts whose label the workspace already had."
    )
    rows = []
    for population in ("accounts", "unlabelled"):
        for measure, label in (("review_or_worse", "review or worse"), ("suspend", "suspend")):
            m = result.get(population, {}).get(measure)
            if m:
                rows.append(
                    {
                        "accounts": "all" if population == "accounts" else population,
                        "flagged as": label,
                        "precision": m["precision"],
                        "recall": m["recall"],
                        "f1": m["f1"],
                        "tp": m["tp"],
                        "fp": m["fp"],
                        "fn": m["fn"],
                        "all-fraud recall": m["all_fraud_recall"],
                    }
                )
    emit(rows, "table")
    _print_quality_notes(result)
    _section(
        "Planted rings by kind:",
        [
            {
                "kind": k,
                "accounts": v.get("n_accounts"),
                "account recall": v.get("account_recall"),
                "rings": v.get("n_rings"),
                "ring recall": v.get("ring_recall"),
            }
            for k, v in (result.get("ring_kinds") or {}).items()
        ],
    )
    _section(
        "Innocent groups that share identifiers (flagged = review or worse):",
        [
            {
                "group": k,
                "accounts": v.get("n_accounts"),
                "flagged": v.get("flagged"),
                "rate": v.get("rate"),
                "suspended": v.get("suspended"),
                "suspend rate": v.get("suspend_rate"),
            }
            for k, v in (result.get("false_flags") or {}).items()
        ],
    )


def _section(title: str, rows: list[dict]) -> None:
    """A titled table after a blank line; nothing when there are no rows."""
    if rows:
        click.echo("")
        click.echo(title)
        emit(rows, "table")


def _print_quality_notes(result: dict) -> None:
    """Rings, early-stage rings and lone fraud, one sentence each."""
    rings, early, lone = result.get("rings"), result.get("early_stage"), result.get("lone")
    click.echo("")
    if rings:
        echo_wrapped(
            f"Rings: {rings['n_found']:,} of {rings['n_planted']:,} planted rings found (recall {rings['recall']:.3f}); "
            f"{rings['n_correct']:,} of the {rings['n_flagged']:,} flagged detected rings are fraud "
            f"(precision {rings['precision']:.3f}; {rings['n_detected']:,} rings detected in all)."
        )
    if early and early.get("n_accounts"):
        echo_wrapped(
            f"Early stage: {early['flagged']:,} of {early['n_accounts']:,} members of rings nobody in which is "
            f"past due yet are flagged (recall {early['recall']:.3f})."
        )
    if lone and lone.get("n_accounts"):
        echo_wrapped(
            f"Lone fraud (shares nothing with other fraud, out of a graph's reach): {lone['flagged']:,} of "
            f"{lone['n_accounts']:,} flagged, {lone['suspended']:,} suspended."
        )


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


# -- the demo --------------------------------------------------------------------------------
@cli.command()
@click.option("--accounts", "n_accounts", type=click.IntRange(min=200), default=20_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the generated world and workspace in this folder.",
)
@click.pass_obj
def demo(obj, n_accounts, seed, keep):
    """Generate a small world, load it, sweep it and show the top rings with their reasons.

    \b
    Example:
      fraudgraph demo --accounts 5000
    """
    from fraudgraph.app.quality import evaluate_workspace
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    say = progress_of(obj) or (lambda m: None)
    tmp = None
    if keep:
        folder = Path(keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="fraudgraph-demo-")
        folder = Path(tmp.name)
    try:
        t0 = time.perf_counter()
        say(f"Generating a world of {n_accounts:,} accounts (seed {seed}) in {folder} ...")
        world = generate_world(n_accounts, seed)
        write_world(world, folder / "world")
        say("Validating and loading ...")
        dataset = read_dataset(folder / "world")
        db = folder / "demo.db"
        if db.exists() and not keep:
            db.unlink()
        with SqliteWorkspace(db) as ws:
            ls = ws.load(dataset)
            echo_wrapped(
                f"Loaded {ls.accounts_new:,} accounts, {ls.links_new:,} identifier links, "
                f"{ls.transactions_new:,} transactions into {db if keep else 'a temporary workspace'}."
            )
            say("Sweeping ...")
            result = run_sweep(ws, seed=seed, progress=say)
            s = result.summary
            echo_wrapped(
                f"Sweep {result.sweep_id}: {s['rings']:,} candidate rings; {s['hubs']:,} hub identifiers "
                f"(parcel lockers, carrier IPs, kiosks) kept from linking. Accounts per action: "
                + ", ".join(f"{k} {v:,}" for k, v in s["actions"].items())
                + "."
            )
            top = ws.table("rings").sort_values(["score", "exposure"], ascending=False).head(5)
            echo_top_rings(ws, top)
            q = evaluate_workspace(ws, folder / "world" / "truth.csv")
            acc = q.get("accounts", q)
            rv = acc.get("review_or_worse", acc)
            click.echo("")
            echo_wrapped(
                f"Against the planted truth: review-or-worse precision {rv.get('precision', float('nan')):.3f}, "
                f"recall {rv.get('recall', float('nan')):.3f}."
            )
            if keep:
                click.echo("")
                echo_wrapped(
                    f"Explore it: fraudgraph --db {db} rings   |   fraudgraph --db {db} ring "
                    f"{top.iloc[0]['ring_id'] if len(top) else 'R-000001'}"
                )
            click.echo(f"\nDone in {time.perf_counter() - t0:.1f}s.")
    finally:
        if tmp is not None:
            tmp.cleanup()


def echo_top_rings(ws, top) -> None:
    """The demo's top rings: reasons and two shared identifiers each, masked as everywhere."""
    from fraudgraph.app.investigate import ring_identifier_refs, ring_view
    from fraudgraph.model.masking import MASKED
    from fraudgraph.outputs.shown import shown_identifiers

    click.echo("\nTop rings:")
    for r in top.to_dict("records"):
        ids = shown_identifiers(ring_view(ws, r["ring_id"])["identifiers"].head(2), MASKED)
        reasons = MASKED.reasons(r["reasons"], ring_identifier_refs(ws, [r["ring_id"]]))
        click.echo(f"\n  {r['ring_id']}  {r['size']} accounts  score {r['score']:.2f}  exposure {r['exposure']:,.0f}")
        for x in (reasons or [])[:4]:
            echo_wrapped(f"    - {x['text']}")
        for i in ids.to_dict("records"):
            echo_wrapped(f"      shared {i['kind']}: {' | '.join((i['raw_values'] or [])[:3])}")
