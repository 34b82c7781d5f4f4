"""Commands that bring data in and describe it: generate, load, status."""

import csv
import json
import time
from pathlib import Path

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import echo_wrapped, emit, format_option, progress_of
from fraudgraph.errors import InputError
from fraudgraph.model import lifetime
from fraudgraph.model.values import jsonable


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option(
    "--accounts",
    "n_accounts",
    type=click.IntRange(min=10),
    default=10_000,
    show_default=True,
    help="How many accounts.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same world).")
@click.option("--parquet", is_flag=True, help="Write Parquet instead of CSV.")
@click.option("--no-transactions", is_flag=True, help="Do not write a transactions table.")
@click.option(
    "--generator",
    type=click.Choice(["standard", "city"]),
    default="standard",
    show_default=True,
    help="standard: the world detection was tuned on; city: an independent world to judge it on "
    "(sleeper rings, instrument-only rings, camouflage, student housing, care homes...).",
)
@click.option("--force", is_flag=True, help="Write into a folder that already holds files.")
@click.pass_obj
def generate(obj, out_dir, n_accounts, seed, parquet, no_transactions, generator, force):
    """Write a synthetic world (the data contract) plus its ground truth (truth.csv).

    Legit households, apartment blocks, parcel lockers, carrier IPs, kiosks, corporate cards
    and late payers, with planted bust-out rings, account-takeover farms and mule networks.

    \b
    Example:
      fraudgraph generate ./world --accounts 100000 --seed 7
      fraudgraph generate ./city --accounts 20000 --seed 41 --generator city
    """
    from fraudgraph.synthetic.second import generate_city, write_city
    from fraudgraph.synthetic.world import generate_world, write_world

    if not force and Path(out_dir).is_dir() and any(Path(out_dir).iterdir()):
        raise click.UsageError(f"{out_dir} is not empty; pass --force to write into it (files may be overwritten)")
    if generator == "city" and n_accounts < 200:
        raise click.UsageError("the city generator needs at least 200 accounts (--accounts)")
    t = time.perf_counter()
    make, write = (generate_city, write_city) if generator == "city" else (generate_world, write_world)
    world = make(n_accounts, seed, with_transactions=not no_transactions)
    files = write(world, out_dir, format="parquet" if parquet else "csv")
    truth = world.truth
    echo_wrapped(
        f"Wrote {len(world.accounts):,} accounts, {len(world.links):,} links, {len(world.transactions):,} "
        f"transactions to {out_dir} ({int(truth['is_fraud'].astype(int).sum()):,} planted fraud accounts in "
        f"{truth.loc[truth['ring_id'].astype(str) != '', 'ring_id'].nunique():,} rings; truth in "
        f"{files.get('truth', Path(out_dir) / 'truth.csv')}) in {time.perf_counter() - t:.1f}s"
    )


@cli.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every problem of a rejected folder to this CSV (file, line, column, value, message).",
)
@click.option(
    "--delta",
    is_flag=True,
    help="The folder holds only new and changed rows: links and transactions may name accounts "
    "already in the workspace (other unknown accounts are still refused).",
)
@click.option(
    "--pseudonymize",
    is_flag=True,
    help="Store only keyed pseudonyms (HMAC-SHA-256, key in FRAUDGRAPH_PSEUDONYM_KEY) of identifiers, "
    "never their values; every load into the workspace must use it, with the same key.",
)
@click.option(
    "--batched",
    is_flag=True,
    help="Neo4j: commit in batches of --batch-rows rows, each its own transaction, for first loads "
    "too big for one; an interrupted load is finished by running it again (sweeps refuse until then).",
)
@click.option(
    "--batch-rows",
    type=click.IntRange(min=1),
    default=None,
    help="Rows per transaction of a batched load (implies --batched).  [default: 20000]",
)
@click.option(
    "--server-folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Neo4j, first load into an empty database: write load-ready CSV files here and have the server "
    "read them (LOAD CSV ... IN TRANSACTIONS); the folder must be one the server can read.",
)
@click.option(
    "--server-url",
    default=None,
    help="How the server names --server-folder (default its file:// URL; Neo4j: under its import "
    "directory, e.g. file:///fraudgraph).",
)
@format_option
@click.pass_obj
def load(obj, data_dir, errors_file, delta, pseudonymize, batched, batch_rows, server_folder, server_url, fmt):
    """Validate a data folder and load it into the workspace, atomically.

    Every bad row is reported (file:line, column, value, what was expected) and nothing is
    written. Loading the same folder twice changes nothing; a newer extract updates accounts
    and adds new observations. With --delta the folder holds only new and changed rows (same
    files and columns; the accounts table may be empty); the next sweep picks them up.

    \b
    Example:
      fraudgraph --db bank.db load ./extract-2026-11
      fraudgraph --db bank.db load ./extract-2026-11 --errors problems.csv
      fraudgraph --db bank.db load --delta ./changes-2026-11-02
      FRAUDGRAPH_PSEUDONYM_KEY=... fraudgraph --db private.db load ./extract --pseudonymize
      fraudgraph --neo4j bolt://db:7687 load --batched ./first-extract
      fraudgraph --neo4j bolt://db:7687 load ./first-extract \\
          --server-folder /var/lib/neo4j/import/fg --server-url file:///fg
    """
    from fraudgraph.ingest.contract import read_dataset

    say = progress_of(obj)
    config = obj.config()
    lifetime.one_shot()
    # A delta reads the workspace first (its stored accounts); a full load opens (or creates) it
    # only once the folder is valid, so a rejected folder leaves no empty workspace behind.
    known = _stored_accounts_named(obj.workspace(), Path(data_dir)) if delta else []
    try:
        dataset = read_dataset(
            data_dir,
            extra_kinds=config.extra_kinds,
            limits=config.limits,
            progress=say,
            every_problem=errors_file is not None,
            known_accounts=known,
        )
    except InputError as e:
        if errors_file is not None:
            write_problems(e.problems, errors_file)
            click.echo(f"Wrote {len(e.problems):,} problem(s) to {errors_file}", err=True)
        raise
    lifetime.keep(dataset)  # freed by the process's end, not row by row
    for w in dataset.warnings:
        click.echo(f"Warning: {w}", err=True)
    dataset.config = config.remembered()  # later sweeps use it without --config
    ws = obj.workspace(create=True)
    from fraudgraph.app.privacy import prepare_load
    from fraudgraph.model.masking import MaskingError

    try:
        prepare_load(ws, dataset, pseudonymize=pseudonymize)
    except MaskingError as e:
        raise click.UsageError(str(e)) from None
    if batched or batch_rows is not None or server_folder is not None or server_url is not None:
        from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

        if not isinstance(ws, Neo4jWorkspace):
            raise click.UsageError("--batched, --batch-rows and --server-folder are for a Neo4j workspace (--neo4j)")
        if server_url is not None and server_folder is None:
            raise click.UsageError("--server-url names --server-folder: give both")
        rows = batch_rows or 20_000
        if server_folder is not None:
            summary = ws.load_csv(dataset, server_folder, url=server_url, batch_rows=rows, progress=say)
        else:
            summary = ws.load_batched(dataset, progress=say, batch_rows=rows)
    else:
        summary = ws.load(dataset, progress=say)
    data = {
        "source": str(data_dir),
        "accounts_new": summary.accounts_new,
        "accounts_updated": summary.accounts_updated,
        "links_new": summary.links_new,
        "links_updated": summary.links_updated,
        "transactions_new": summary.transactions_new,
        "transactions_updated": summary.transactions_updated,
        "unchanged": summary.unchanged,
        "seconds": summary.seconds,
    }
    emit(data, fmt)


@cli.command()
@format_option
@click.pass_obj
def status(obj, fmt):
    """What is loaded (per table and identifier kind), the last load and the last sweep.

    \b
    Example:
      fraudgraph status --format json
    """
    st = obj.workspace().status()
    if fmt == "json":
        click.echo(json.dumps(jsonable(st), indent=2, ensure_ascii=False))
        return
    rows = [{"table": t, "rows": n} for t, n in st["counts"].items()]
    if fmt == "csv":
        flat = [{"what": f"table:{r['table']}", "count": r["rows"]} for r in rows]
        flat += [{"what": f"kind:{k['kind']}", "count": k["links"]} for k in st["kinds"]]
        flat.append({"what": "distinct_identifiers", "count": st["distinct_identifiers"]})
        flat.append({"what": "rings", "count": st["rings"]})
        emit(flat, "csv")
        return
    click.echo(f"workspace  {st['workspace']} ({st['backend']})")
    emit(rows, "table")
    click.echo("")
    emit(st["kinds"], "table")
    click.echo(f"\ndistinct identifiers  {st['distinct_identifiers']:,}")
    click.echo(f"rings                 {st['rings']:,}")
    ll = st.get("last_load")
    batched = (ll or {}).get("batched") or {}
    unfinished = (
        f" (unfinished: {batched.get('committed', 0)} of {batched.get('batches', '?')} batches committed)"
        if batched and not batched.get("complete", True)
        else ""
    )
    click.echo(f"last load             {ll['at'] + ' from ' + ll['source'] + unfinished if ll else 'never'}")
    remembered = (ll or {}).get("config") or {}
    click.echo(f"configuration         {remembered.get('path') or 'defaults'}")
    ls = st.get("last_sweep")
    click.echo(
        f"last sweep            {ls['sweep_id'] + ' at ' + ls['at'] + ' (as of ' + ls['as_of'] + ')' if ls else 'never'}"
    )


def _stored_accounts_named(ws, folder: Path) -> list[str]:
    """The workspace's accounts among those a delta folder's links and transactions name."""
    import pandas as pd

    named: set[str] = set()
    for name, columns in (("links", ["account_id"]), ("transactions", ["account_id", "counterparty"])):
        for suffix in (".csv", ".csv.gz", ".parquet"):
            file = folder / f"{name}{suffix}"
            if not file.is_file():
                continue
            try:
                if suffix == ".parquet":
                    frame = pd.read_parquet(file)
                else:
                    frame = pd.read_csv(file, dtype=str, keep_default_na=False)
            except Exception:  # unreadable: the contract reads it again and says why
                continue
            for column in columns:
                if column in frame:
                    named.update(frame[column].dropna().astype(str).str.strip())
    named.discard("")
    if not named:
        return []
    return ws.accounts(account_ids=sorted(named))["account_id"].astype(str).tolist()


def write_problems(problems: list, path: str) -> None:
    """Every problem as a CSV row: file, line, column, value, message (values cut to 200 characters)."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "column", "value", "message"])
        for p in problems:
            value = "" if p.value is None else str(p.value)[:200]
            writer.writerow([p.file, "" if p.line is None else p.line, p.column or "", value, p.message])
