"""The fraudgraph command line: parse, make one library call, format, map errors to exit codes.

Data goes to stdout; progress, logs and warnings to stderr. Exit codes: 0 success, 1 a
runtime or data error (one line, no traceback), 2 a usage error, 75 when another sweep holds
the lock (temporary failure, as in sysexits: schedulers retry).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from fraudgraph import __version__
from fraudgraph.errors import FraudGraphError, LockedError
from fraudgraph.workspace.base import Workspace

EX_TEMPFAIL = 75
log = logging.getLogger("fraudgraph")


# -- output ----------------------------------------------------------------------------------
def _jsonable(v: Any) -> Any:
    import numpy as np
    import pandas as pd

    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(float(v)) else float(v)
    if isinstance(v, (pd.Timestamp, datetime)):
        return v.isoformat()
    return v


def _cell(v: Any, width: int = 60) -> str:
    v = _jsonable(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    if isinstance(v, list):
        if v and all(isinstance(x, dict) and "code" in x for x in v):
            v = ", ".join(x["code"] for x in v)
        else:
            v = ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        v = json.dumps(v, ensure_ascii=False)
    s = str(v).replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


def emit(data, fmt: str, *, columns: list[str] | None = None) -> None:
    """Write records (a DataFrame, a list of dicts or one dict) in table, json or csv."""
    import pandas as pd

    single = isinstance(data, dict)
    if isinstance(data, pd.DataFrame):
        records = data.to_dict("records")
        columns = columns or list(data.columns)
    elif single:
        records = [data]
    else:
        records = list(data)
    if columns is None:
        columns = list(records[0].keys()) if records else []
    if fmt == "json":
        out = [{c: _jsonable(r.get(c)) for c in columns} for r in records]
        click.echo(json.dumps(out[0] if single else out, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in records:
            row = []
            for c in columns:
                v = _jsonable(r.get(c))
                row.append(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else ("" if v is None else v)
                )
            w.writerow(row)
        click.echo(buf.getvalue(), nl=False)
    else:
        if single:
            width = max((len(c) for c in columns), default=0)
            for c in columns:
                click.echo(f"{c.ljust(width)}  {_cell(records[0].get(c), 100)}")
            return
        if not records:
            click.echo("(none)")
            return
        cells = [[_cell(r.get(c)) for c in columns] for r in records]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
        click.echo("  ".join("-" * w for w in widths))
        for row in cells:
            click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def format_option(f: Callable) -> Callable:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(f)


def _progress(ctx_obj) -> Callable[[str], None] | None:
    if ctx_obj.get("quiet"):
        return None
    return lambda msg: click.echo(msg, err=True)


# -- workspace selection ---------------------------------------------------------------------
class Context(dict):
    """Options of the top-level group; opens the workspace on first use."""

    def workspace(self, *, create: bool = False):
        if "ws" in self:
            return self["ws"]
        ws: Workspace
        if self.get("neo4j"):
            from fraudgraph.workspace.neo4j.store import connect

            password = os.environ.get("FRAUDGRAPH_NEO4J_PASSWORD")
            if password is None:
                if not sys.stdin.isatty():
                    raise FraudGraphError(
                        "no Neo4j password: set FRAUDGRAPH_NEO4J_PASSWORD (it is never taken as a flag)"
                    )
                password = click.prompt("Neo4j password", hide_input=True, err=True)
            ws = connect(self["neo4j"], self.get("neo4j_user") or "neo4j", password, self.get("neo4j_database"))
        else:
            from fraudgraph.workspace.sqlite.store import SqliteWorkspace

            ws = SqliteWorkspace(self["db"], create=create)
        self["ws"] = ws
        return ws

    def config(self):
        from fraudgraph.model.config import load_config

        if "config" not in self:
            self["config"] = load_config(self.get("config_file"))
        return self["config"]

    def hub_cap(self) -> int:
        """Investigation walks through the identifiers detection links by, and no others."""
        return self.config().detection_config().hub_cap

    def close(self):
        ws = self.pop("ws", None)
        if ws is not None:
            ws.close()


class FraudGraphGroup(click.Group):
    """Turns library errors into one line on stderr and the documented exit codes."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LockedError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(EX_TEMPFAIL)
        except FraudGraphError as e:
            click.echo(f"Error: {error_line(e)}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `fraudgraph rings | head`: the reader left; nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # an internal error is still one line unless -v asked for more
            if log.isEnabledFor(logging.DEBUG):
                raise
            click.echo(f"Error: internal error: {type(e).__name__}: {e} (run with -v for the traceback)", err=True)
            ctx.exit(1)
        finally:
            obj = ctx.obj
            if isinstance(obj, Context):
                obj.close()


@click.group(cls=FraudGraphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="FRAUDGRAPH_DB",
    default="fraudgraph.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite workspace file.",
)
@click.option(
    "--neo4j",
    envvar="FRAUDGRAPH_NEO4J_URI",
    default=None,
    metavar="URI",
    help="Use the Neo4j workspace at this bolt:// or neo4j:// URI instead of SQLite.",
)
@click.option("--neo4j-user", envvar="FRAUDGRAPH_NEO4J_USER", default=None, metavar="U", help="Neo4j user.")
@click.option("--neo4j-database", envvar="FRAUDGRAPH_NEO4J_DATABASE", default=None, metavar="D", help="Neo4j database.")
@click.option(
    "--config",
    "config_file",
    envvar="FRAUDGRAPH_CONFIG",
    default=None,
    type=click.Path(dir_okay=False),
    help="Workspace configuration (TOML): extra identifier kinds and their weights, detection settings.",
)
@click.option("-v", "--verbose", count=True, help="More logging on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Less logging on stderr (no progress).")
@click.version_option(__version__, prog_name="fraudgraph")
@click.pass_context
def cli(ctx, db, neo4j, neo4j_user, neo4j_database, config_file, verbose, quiet):
    """fraudgraph: find fraud rings in account data and act on them.

    The password for Neo4j comes from FRAUDGRAPH_NEO4J_PASSWORD or a prompt, never a flag.

    \b
    Example:
      fraudgraph demo
      fraudgraph --db bank.db load ./extract && fraudgraph --db bank.db sweep
    """
    level = logging.WARNING if not verbose else (logging.INFO if verbose == 1 else logging.DEBUG)
    if quiet:
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = Context(
        db=db,
        neo4j=neo4j,
        neo4j_user=neo4j_user,
        neo4j_database=neo4j_database,
        quiet=quiet,
        config_file=config_file,
    )


# -- data ------------------------------------------------------------------------------------
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
@click.pass_obj
def generate(obj, out_dir, n_accounts, seed, parquet, no_transactions):
    """Write a synthetic world (the data contract) plus its ground truth (truth.csv).

    Legit households, apartment blocks, parcel lockers, carrier IPs, kiosks, corporate cards
    and late payers, with planted bust-out rings, account-takeover farms and mule networks.

    \b
    Example:
      fraudgraph generate ./world --accounts 100000 --seed 7
    """
    from fraudgraph.synthetic.world import generate_world, write_world

    t = time.perf_counter()
    world = generate_world(n_accounts, seed, with_transactions=not no_transactions)
    files = write_world(world, out_dir, format="parquet" if parquet else "csv")
    truth = world.truth
    click.echo(
        f"Wrote {len(world.accounts):,} accounts, {len(world.links):,} links, {len(world.transactions):,} "
        f"transactions to {out_dir} ({int(truth['is_fraud'].astype(int).sum()):,} planted fraud accounts in "
        f"{truth.loc[truth['ring_id'].astype(str) != '', 'ring_id'].nunique():,} rings; truth in "
        f"{files.get('truth', Path(out_dir) / 'truth.csv')}) in {time.perf_counter() - t:.1f}s"
    )


@cli.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@format_option
@click.pass_obj
def load(obj, data_dir, fmt):
    """Validate a data folder and load it into the workspace, atomically.

    Every bad row is reported (file:line, column, value, what was expected) and nothing is
    written. Loading the same folder twice changes nothing; a newer extract updates accounts
    and adds new observations.

    \b
    Example:
      fraudgraph --db bank.db load ./extract-2026-11
    """
    from fraudgraph.ingest.contract import read_dataset

    say = _progress(obj)
    dataset = read_dataset(data_dir, extra_kinds=obj.config().extra_kinds, progress=say)
    for w in dataset.warnings:
        click.echo(f"Warning: {w}", err=True)
    summary = obj.workspace(create=True).load(dataset, progress=say)
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
        click.echo(json.dumps(_jsonable(st), indent=2, ensure_ascii=False))
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
    click.echo(f"last load             {ll['at'] + ' from ' + ll['source'] if ll else 'never'}")
    ls = st.get("last_sweep")
    click.echo(
        f"last sweep            {ls['sweep_id'] + ' at ' + ls['at'] + ' (as of ' + ls['as_of'] + ')' if ls else 'never'}"
    )


# -- sweeps ----------------------------------------------------------------------------------
def _load_policy(path):
    from fraudgraph.decisions.policy import Policy, load_policy

    return load_policy(path) if path else Policy.default()


def _print_sweep(result, fmt: str) -> None:
    s = result.summary
    if fmt == "json":
        click.echo(
            json.dumps(
                _jsonable(
                    {
                        "sweep_id": result.sweep_id,
                        "as_of": result.as_of,
                        "dry_run": result.dry_run,
                        "summary": s,
                        "diff": result.diff,
                    }
                ),
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if fmt == "csv":
        emit(
            [
                {
                    "sweep_id": result.sweep_id,
                    "as_of": result.as_of,
                    "dry_run": result.dry_run,
                    "rings": s["rings"],
                    "rings_new": s["rings_new"],
                    "rings_grown": s["rings_grown"],
                    "rings_shrunk": s["rings_shrunk"],
                    "rings_dissolved": s["rings_dissolved"],
                    **{f"action_{k}": v for k, v in s["actions"].items()},
                    "notices": s["notices"],
                    "seconds": s["seconds"]["total"],
                }
            ],
            "csv",
        )
        return
    head = "DRY RUN (nothing written): " if result.dry_run else ""
    click.echo(f"{head}sweep {result.sweep_id} as of {result.as_of.date()} ({s['engine']} engine)")
    click.echo(
        f"  {s['accounts']:,} accounts, {s['links']:,} links, {s['transactions']:,} transactions; "
        f"{s['hubs']:,} hub identifiers kept from linking"
    )
    click.echo(
        f"  rings: {s['rings']:,} found; {s['rings_new']} new, {s['rings_grown']} grown, "
        f"{s['rings_shrunk']} shrunk, {s['rings_changed']} changed, {s['rings_dissolved']} dissolved"
    )
    acts = ", ".join(f"{k} {v:,}" for k, v in s["actions"].items())
    click.echo(f"  accounts per action: {acts}")
    ev = ", ".join(f"{k} {v:,}" for k, v in sorted(s["events"].items())) or "none"
    verb = "would change" if result.dry_run else "changed"
    click.echo(f"  {verb}: {ev}; notices {s['notices']:,}")
    times = ", ".join(f"{k} {v:.1f}s" for k, v in s["seconds"].items())
    click.echo(f"  time: {times}")


@cli.command()
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    callback=lambda ctx, p, v: _parse_date(v),
    help="Evaluate as of this date (default: latest timestamp in the data).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Policy TOML file (default: the packaged policy, same as examples/policy.toml).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for community detection and scorers.")
@click.option(
    "--engine",
    type=click.Choice(["python", "gds", "auto"]),
    default="python",
    show_default=True,
    help="Where graph algorithms run: in-process, or Neo4j GDS (Neo4j workspace only).",
)
@format_option
@click.pass_obj
def sweep(obj, as_of, policy_file, dry_run, seed, engine, fmt):
    """One detection + decision pass: rings, scores, decisions, notices, audit.

    Safe under cron: while one sweep runs, another exits at once with code 75.

    \b
    Example:
      fraudgraph sweep --policy examples/policy.toml --dry-run
    """
    from fraudgraph.app.sweep import run_sweep

    pol = _load_policy(policy_file)
    result = run_sweep(
        obj.workspace(),
        as_of=as_of,
        seed=seed,
        policy=pol,
        dry_run=dry_run,
        engine=engine,
        config=obj.config().detection_config(),
        progress=_progress(obj),
    )
    _print_sweep(result, fmt)


def _parse_date(text: str | None):
    if text is None:
        return None
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except (ValueError, TypeError):
        raise click.BadParameter(f"{text!r} is not an ISO-8601 date like 2026-11-01") from None


def _parse_duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    t = text.strip().lower()
    try:
        if t and t[-1] in units:
            value = float(t[:-1]) * units[t[-1]]
        else:
            value = float(t)
    except ValueError:
        value = -1
    if value <= 0:
        raise click.BadParameter(f"{text!r} is not a duration like 30s, 15m, 1h or 1d")
    return value


@cli.command()
@click.option("--every", required=True, metavar="DURATION", help="Interval: 30s, 15m, 1h, 1d.")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Policy TOML file.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--max-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many sweeps (default: run until stopped).",
)
@click.pass_obj
def schedule(obj, every, policy_file, seed, max_runs):
    """Run sweeps in a loop, logging each; a sweep that finds the lock held is skipped, not fatal.

    Stops cleanly on Ctrl-C or SIGTERM (between sweeps).

    \b
    Example:
      fraudgraph schedule --every 1h --policy examples/policy.toml
    """
    from fraudgraph.app.sweep import run_sweep

    interval = _parse_duration(every)
    pol = _load_policy(policy_file)
    stop = {"now": False}

    def _stop(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    runs = 0
    while not stop["now"]:
        started = time.monotonic()
        try:
            result = run_sweep(
                obj.workspace(),
                seed=seed,
                policy=pol,
                config=obj.config().detection_config(),
                progress=None,
                owner="fraudgraph schedule",
            )
            s = result.summary
            click.echo(
                f"{datetime.now().isoformat(timespec='seconds')} sweep {result.sweep_id}: {s['rings']} rings "
                f"({s['rings_new']} new, {s['rings_dissolved']} dissolved); events {s['events']}; "
                f"{s['seconds']['total']:.1f}s",
                err=True,
            )
        except LockedError as e:
            click.echo(f"{datetime.now().isoformat(timespec='seconds')} skipped: {e}", err=True)
        except FraudGraphError as e:
            click.echo(f"{datetime.now().isoformat(timespec='seconds')} sweep failed: {e}", err=True)
        runs += 1
        if max_runs is not None and runs >= max_runs:
            break
        while not stop["now"] and time.monotonic() - started < interval:
            time.sleep(min(1.0, interval))


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option
@click.pass_obj
def sweeps(obj, limit, fmt):
    """Sweep history, newest first, with the diff against the previous sweep.

    \b
    Example:
      fraudgraph sweeps --limit 5
    """
    hist = obj.workspace().sweeps().head(limit)
    rows = []
    for r in hist.to_dict("records"):
        s, d = r["summary"] or {}, r["diff"] or {}
        rows.append(
            {
                "sweep_id": r["sweep_id"],
                "finished_at": r["finished_at"],
                "as_of": r["as_of"],
                "engine": r["engine"],
                "policy_hash": r["policy_hash"],
                "rings": s.get("rings"),
                "rings_new": len(d.get("new", [])),
                "rings_grown": len(d.get("grown", [])),
                "rings_shrunk": len(d.get("shrunk", [])),
                "rings_dissolved": len(d.get("dissolved", [])),
                "escalated": len(d.get("accounts_escalated", [])),
                "de_escalated": len(d.get("accounts_de_escalated", [])),
                "diff": d if fmt == "json" else None,
            }
        )
    cols = [
        "sweep_id",
        "finished_at",
        "as_of",
        "engine",
        "policy_hash",
        "rings",
        "rings_new",
        "rings_grown",
        "rings_shrunk",
        "rings_dissolved",
        "escalated",
        "de_escalated",
    ]
    emit(rows, fmt, columns=cols + (["diff"] if fmt == "json" else []))


# -- results ---------------------------------------------------------------------------------
@cli.command()
@click.option("--min-score", type=click.FloatRange(0, 1), default=None, help="Only rings scoring at least this.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option
@click.pass_obj
def rings(obj, min_score, limit, fmt):
    """Rings of the last sweep, highest score first.

    \b
    Example:
      fraudgraph rings --min-score 0.8 --format csv
    """
    df = obj.workspace().table("rings")
    if min_score is not None:
        df = df[df["score"] >= min_score]
    df = df.sort_values(["score", "exposure", "ring_id"], ascending=[False, False, True]).head(limit)
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    cols = ["ring_id", "size", "score", "exposure", "reasons"] + (["features"] if fmt == "json" else [])
    emit(df, fmt, columns=cols)


@cli.command()
@click.argument("ring_id")
@format_option
@click.pass_obj
def ring(obj, ring_id, fmt):
    """One ring: members, shared identifiers with their raw spellings, features, reasons.

    \b
    Example:
      fraudgraph ring R-000004
    """
    from fraudgraph.app.investigate import ring_view

    view = ring_view(obj.workspace(), ring_id)
    r = view["ring"]
    members = view["members"][
        [
            "account_id",
            "created_at",
            "status",
            "credit_limit",
            "balance",
            "overdue_days",
            "label",
            "score",
            "action",
        ]
    ]
    ident = view["identifiers"]
    if fmt == "json":
        click.echo(
            json.dumps(
                _jsonable({**r, "members": members.to_dict("records"), "identifiers": ident.to_dict("records")}),
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if fmt == "csv":
        emit(members.assign(ring_id=ring_id), "csv", columns=["ring_id"] + list(members.columns))
        return
    click.echo(f"ring {r['ring_id']}: {r['size']} accounts, score {r['score']:.3f}, exposure {r['exposure']:,.0f}")
    click.echo("\nreasons:")
    for x in r.get("reasons") or []:
        click.echo(f"  {x['code']}: {x['text']}")
    click.echo("\nmembers:")
    emit(members, "table")
    click.echo("\nshared identifiers:")
    emit(
        ident.assign(raw_values=[" | ".join(v or []) for v in ident["raw_values"]]),
        "table",
        columns=["kind", "key", "n_members", "n_accounts", "raw_values"],
    )
    click.echo("\nfeatures:")
    for k, v in sorted((r.get("features") or {}).items()):
        click.echo(f"  {k}: {_cell(v)}")


@cli.command()
@click.argument("account_id")
@format_option
@click.pass_obj
def account(obj, account_id, fmt):
    """One account: profile, identifiers, ring, score, decision, reasons, nearest flagged accounts.

    \b
    Example:
      fraudgraph account A0001234 --format json
    """
    from fraudgraph.app.investigate import account_view

    v = account_view(obj.workspace(), account_id, hub_threshold=obj.hub_cap())
    ident = v["identifiers"][["kind", "value", "key", "first_seen", "n_accounts", "is_hub", "no_identity"]]
    dec = v["decision"] or {}
    state = v["state"] or {}
    data = {
        **v["profile"],
        "ring_id": v["ring_id"],
        "score": v["score"],
        "action": state.get("action") or dec.get("action") or "none",
        "trigger": state.get("trigger") if state.get("manual") else dec.get("trigger"),
        "manual": bool(state.get("manual")) if state else False,
        "policy_action": dec.get("action"),
        "reasons": dec.get("reasons") or v["reasons"],
        "identifiers": ident.to_dict("records"),
        "nearest_flagged": v["nearest_flagged"].to_dict("records"),
    }
    if state.get("status"):
        data["status"] = state["status"]
        data["credit_limit"] = state.get("credit_limit")
    if fmt == "json":
        click.echo(json.dumps(_jsonable(data), indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        emit(ident.assign(account_id=account_id), "csv", columns=["account_id"] + list(ident.columns))
        return
    head = {
        k: data[k]
        for k in (
            "account_id",
            "created_at",
            "status",
            "credit_limit",
            "balance",
            "overdue_days",
            "label",
            "ring_id",
            "score",
            "action",
            "trigger",
        )
    }
    emit(head, "table")
    click.echo("\nreasons:")
    for x in data["reasons"] or [{"code": "-", "text": "nothing notable"}]:
        click.echo(f"  {x['code']}: {x['text']}")
    click.echo("\nidentifiers:")
    emit(ident, "table")
    click.echo("\nnearest flagged accounts:")
    emit(v["nearest_flagged"], "table")


@cli.command()
@click.argument("account_a")
@click.argument("account_b")
@click.option("--max-hops", type=click.IntRange(1, 12), default=6, show_default=True)
@format_option
@click.pass_obj
def path(obj, account_a, account_b, max_hops, fmt):
    """The shortest chain of shared identifiers linking two accounts (hubs never count).

    \b
    Example:
      fraudgraph path A0001234 A0005678
    """
    from fraudgraph.app.investigate import path as find_path

    chain = find_path(obj.workspace(), account_a, account_b, max_hops=max_hops, hub_threshold=obj.hub_cap())
    if chain is None:
        if fmt == "table":
            click.echo(f"No chain of shared identifiers links {account_a} and {account_b} within {max_hops} hops.")
        else:  # machine formats stay parseable: no rows
            emit([], fmt, columns=["step", "type", "account_id", "kind", "key", "raw_values"])
        return
    steps = [
        {
            "step": i,
            "type": n["type"],
            "account_id": n.get("account_id"),
            "kind": n.get("kind"),
            "key": n.get("key"),
            "raw_values": n.get("raw_values"),
        }
        for i, n in enumerate(chain)
    ]
    if fmt != "table":
        emit(steps, fmt)
        return
    parts = []
    for n in chain:
        if n["type"] == "account":
            parts.append(n["account_id"])
        else:
            raw = " | ".join(n.get("raw_values") or [])
            parts.append(f"--[{n['kind']} {n['key']}" + (f" ({raw})" if raw else "") + "]--")
    click.echo(" ".join(parts))
    click.echo(f"{(len(chain) - 1) // 2} hop(s)")


@cli.command()
@click.option("--action", type=click.Choice(["none", "monitor", "review", "restrict", "suspend"]), default=None)
@click.option("--all", "show_all", is_flag=True, help="Include accounts whose action is none.")
@format_option
@click.pass_obj
def decisions(obj, action, show_all, fmt):
    """The current decision per account (account_id, action, trigger, score, ring_id, reasons).

    Shows what is in force: an analyst's decision or a dismissal overrides the policy's.

    \b
    Example:
      fraudgraph decisions --action suspend --format csv
    """
    ws = obj.workspace()
    df = ws.table("decisions")
    # What is in force: the applied state (sweep or analyst) wherever there is one, as `account` shows.
    state = ws.account_state()[["account_id", "action", "trigger"]]
    if len(state):
        df = df.merge(state, on="account_id", how="left", suffixes=("", "_state"))
        has = df["action_state"].notna()
        df.loc[has, "action"] = df.loc[has, "action_state"]
        df.loc[has, "trigger"] = df.loc[has, "trigger_state"]
        df = df.drop(columns=["action_state", "trigger_state"])
    if action:
        df = df[df["action"] == action]
    elif not show_all:
        df = df[df["action"] != "none"]
    order = {"suspend": 0, "restrict": 1, "review": 2, "monitor": 3, "none": 4}
    df = df.assign(_o=df["action"].map(order)).sort_values(["_o", "score", "account_id"], ascending=[True, False, True])
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    emit(
        df,
        fmt,
        columns=["account_id", "action", "trigger", "score", "ring_id", "new_credit_limit", "reasons"],
    )


@cli.command()
@click.option("--since", "since", default=None, metavar="SWEEP", help="Only notices of sweeps after this one.")
@format_option
@click.pass_obj
def notices(obj, since, fmt):
    """Customer notices to send (restrictions and suspensions), for a messaging system.

    \b
    Example:
      fraudgraph notices --since S-000003 --format json
    """
    df = obj.workspace().notices(since)
    emit(
        df,
        fmt,
        columns=[
            "notice_id",
            "sweep_id",
            "account_id",
            "created_at",
            "category",
            "action",
            "subject",
            "body",
            "customer_actions",
            "repayment_plan",
        ]
        if fmt != "table"
        else ["notice_id", "account_id", "action", "category", "subject"],
    )


@cli.command()
@format_option
@click.pass_obj
def queue(obj, fmt):
    """Accounts awaiting review, highest risk first.

    \b
    Example:
      fraudgraph queue --format csv
    """
    from fraudgraph.app.analyst import queue as review_queue

    df = review_queue(obj.workspace())
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    emit(df, fmt)


def _actor() -> str:
    return os.environ.get("FRAUDGRAPH_ANALYST") or os.environ.get("USER") or "analyst"


@cli.command()
@click.argument("account_id")
@click.option("--confirm-fraud", is_flag=True, help="Confirm: label fraud, suspend.")
@click.option("--dismiss", is_flag=True, help="Dismiss: label legit, reinstate, do not re-flag on the same evidence.")
@click.option("--note", required=True, help="Why (goes into the audit trail).")
@click.option("--analyst", default=None, help="Analyst name (default: $FRAUDGRAPH_ANALYST or $USER).")
@click.pass_obj
def review(obj, account_id, confirm_fraud, dismiss, note, analyst):
    """Record an analyst's verdict on an account.

    \b
    Example:
      fraudgraph review A0001234 --dismiss --note "verified ID in branch"
    """
    from fraudgraph.app.analyst import review as record_review

    if confirm_fraud == dismiss:
        raise click.UsageError("give exactly one of --confirm-fraud or --dismiss")
    verdict = "confirm_fraud" if confirm_fraud else "dismiss"
    st = record_review(obj.workspace(), account_id, verdict, note=note, actor=analyst or _actor())
    click.echo(f"{account_id}: {verdict.replace('_', ' ')} recorded; now {st['status']}, action {st['action']}.")


@cli.command()
@click.argument("account_id")
@click.option("--reason", required=True, help="Why (goes into the audit trail).")
@click.option("--analyst", default=None)
@click.pass_obj
def suspend(obj, account_id, reason, analyst):
    """Suspend an account by hand; sweeps never lift it.

    \b
    Example:
      fraudgraph suspend A0001234 --reason "customer reported stolen identity"
    """
    from fraudgraph.app.analyst import suspend as do_suspend

    do_suspend(obj.workspace(), account_id, reason=reason, actor=analyst or _actor())
    click.echo(f"{account_id}: suspended.")


@cli.command()
@click.argument("account_id")
@click.option("--reason", required=True, help="Why (goes into the audit trail).")
@click.option("--analyst", default=None)
@click.pass_obj
def reinstate(obj, account_id, reason, analyst):
    """Reinstate an account by hand (active, original credit limit); sweeps keep it so.

    \b
    Example:
      fraudgraph reinstate A0001234 --reason "identity verified"
    """
    from fraudgraph.app.analyst import reinstate as do_reinstate

    st = do_reinstate(obj.workspace(), account_id, reason=reason, actor=analyst or _actor())
    click.echo(f"{account_id}: reinstated (credit limit {_cell(st['credit_limit'])}).")


@cli.command()
@click.argument("account_id", required=False)
@format_option
@click.pass_obj
def audit(obj, account_id, fmt):
    """The audit trail (append-only), oldest first; optionally for one account.

    \b
    Example:
      fraudgraph audit A0001234 --format json
    """
    df = obj.workspace().audit(account_id)
    cols = (
        list(df.columns)
        if fmt != "table"
        else [
            "at",
            "sweep_id",
            "actor",
            "account_id",
            "event",
            "previous_action",
            "new_action",
            "new_status",
            "new_limit",
            "note",
        ]
    )
    emit(df, fmt, columns=cols)


# -- investigation exports -------------------------------------------------------------------
@cli.command()
@click.option("--account", "account_id", default=None, help="Centre on this account.")
@click.option(
    "--hops",
    type=click.IntRange(0, 4),
    default=1,
    show_default=True,
    help="Account -> identifier -> account steps around --account.",
)
@click.option("--ring", "ring_id", default=None, help="Export this ring.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "gexf", "json", "csv", "cypher", "html", "png"]),
    default=None,
    help="Output format (default: from the file suffix).",
)
@click.option(
    "--max-nodes",
    type=click.IntRange(min=2),
    default=500,
    show_default=True,
    help="Stop a neighbourhood that would grow past this.",
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=True), help="Output file.")
@click.pass_obj
def export(obj, account_id, hops, ring_id, fmt, max_nodes, output):
    """Export a ring or an account's neighbourhood for Gephi, Cytoscape, Neo4j, a browser or a spreadsheet.

    Hubs (identifiers shared by very many accounts) are shown but not expanded.

    \b
    Example:
      fraudgraph export --ring R-000004 -o ring.html
      fraudgraph export --account A0001234 --hops 2 -o hood.graphml
    """
    from fraudgraph.app.investigate import subgraph
    from fraudgraph.outputs.export import export_graph, format_from_path

    if (account_id is None) == (ring_id is None):
        raise click.UsageError("give exactly one of --account or --ring")
    try:
        fmt = fmt or format_from_path(output)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    G = subgraph(
        obj.workspace(),
        account=account_id,
        ring=ring_id,
        hops=hops,
        max_nodes=max_nodes,
        hub_threshold=obj.hub_cap(),
    )
    for note in G.graph.get("notes", []):
        click.echo(f"Note: {note}", err=True)
    files = export_graph(G, output, fmt)
    n_acc = sum(1 for _, d in G.nodes(data=True) if d["node_type"] == "account")
    click.echo(
        f"Wrote {', '.join(str(f) for f in files)}: {n_acc} accounts, "
        f"{G.number_of_nodes() - n_acc} identifiers, {G.number_of_edges()} edges ({fmt})."
    )


@cli.command()
@click.option("--ring", "ring_id", required=True, help="The ring to report on.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="report.html or report.md")
@click.pass_obj
def report(obj, ring_id, output):
    """Write a case report for one ring (HTML or Markdown, by suffix).

    \b
    Example:
      fraudgraph report --ring R-000004 -o case-R-000004.html
    """
    from fraudgraph.app.investigate import case_report_inputs
    from fraudgraph.outputs.report import write_report

    if Path(output).suffix.lower() not in (".html", ".htm", ".md"):
        raise click.UsageError(f"report file {output!r} must end in .html or .md")
    written = write_report(output, **case_report_inputs(obj.workspace(), ring_id, hub_threshold=obj.hub_cap()))
    click.echo(f"Wrote {', '.join(str(p) for p in written) if written else output}")


@cli.command()
@click.argument("truth_file", type=click.Path(exists=True, dir_okay=False))
@format_option
@click.pass_obj
def evaluate(obj, truth_file, fmt):
    """Precision / recall of the last sweep against ground truth (truth.csv from `generate`).

    \b
    Example:
      fraudgraph evaluate ./world/truth.csv
    """
    from fraudgraph.app.quality import evaluate_workspace

    result = evaluate_workspace(obj.workspace(), truth_file)
    if fmt == "json":
        click.echo(json.dumps(_jsonable(result), indent=2))
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
    from fraudgraph.app.investigate import ring_view
    from fraudgraph.app.quality import evaluate_workspace
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    say = _progress(obj) or (lambda m: None)
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
            click.echo(
                f"Loaded {ls.accounts_new:,} accounts, {ls.links_new:,} identifier links, "
                f"{ls.transactions_new:,} transactions into {db if keep else 'a temporary workspace'}."
            )
            say("Sweeping ...")
            result = run_sweep(ws, seed=seed, progress=say)
            s = result.summary
            click.echo(
                f"Sweep {result.sweep_id}: {s['rings']:,} candidate rings; {s['hubs']:,} hub identifiers "
                f"(parcel lockers, carrier IPs, kiosks) kept from linking. Accounts per action: "
                + ", ".join(f"{k} {v:,}" for k, v in s["actions"].items())
                + "."
            )
            top = ws.table("rings").sort_values(["score", "exposure"], ascending=False).head(5)
            click.echo("\nTop rings:")
            for r in top.to_dict("records"):
                view = ring_view(ws, r["ring_id"])
                click.echo(
                    f"\n  {r['ring_id']}  {r['size']} accounts  score {r['score']:.2f}  exposure {r['exposure']:,.0f}"
                )
                for x in (r["reasons"] or [])[:4]:
                    click.echo(f"    - {x['text']}")
                ids = view["identifiers"].head(2)
                for i in ids.to_dict("records"):
                    raw = " | ".join((i["raw_values"] or [])[:3])
                    click.echo(f"      shared {i['kind']}: {raw}")
            q = evaluate_workspace(ws, folder / "world" / "truth.csv")
            acc = q.get("accounts", q)
            rv = acc.get("review_or_worse", acc)
            click.echo(
                f"\nAgainst the planted truth: review-or-worse precision {rv.get('precision', float('nan')):.3f}, "
                f"recall {rv.get('recall', float('nan')):.3f}."
            )
            if keep:
                click.echo(
                    f"\nExplore it: fraudgraph --db {db} rings   |   fraudgraph --db {db} ring "
                    f"{top.iloc[0]['ring_id'] if len(top) else 'R-000001'}"
                )
            click.echo(f"\nDone in {time.perf_counter() - t0:.1f}s.")
    finally:
        if tmp is not None:
            tmp.cleanup()


# Where each library setting named by an error is given on the command line.
FLAG_OF_SETTING = {
    "config": "--config FILE or FRAUDGRAPH_CONFIG",
    "note": "--note",
    "reason": "--reason",
    "engine": "--engine",
}


def error_line(error: FraudGraphError) -> str:
    """An error as the CLI prints it: the library's words, plus the flag that changes the setting."""
    flag = FLAG_OF_SETTING.get(error.setting or "")
    return f"{error} ({flag})" if flag else str(error)


def main() -> None:
    cli(prog_name="fraudgraph")


if __name__ == "__main__":  # pragma: no cover
    main()
