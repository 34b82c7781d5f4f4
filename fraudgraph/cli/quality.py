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
    rows = [{"metric": k, "value": v} for k, v in _flatten(result).items()]
    emit(rows, fmt)


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
