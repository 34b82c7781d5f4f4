"""Commands that run and list sweeps: sweep, schedule, sweeps."""

import signal
import time
from datetime import datetime

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import (
    echo_wrapped,
    emit,
    format_option,
    json_text,
    page,
    paging_options,
    policy_from,
    progress_of,
)
from fraudgraph.errors import FraudGraphError, LockedError
from fraudgraph.model import lifetime


def _print_sweep(result, fmt: str) -> None:
    s = result.summary
    if fmt == "json":
        click.echo(
            json_text(
                {
                    "sweep_id": result.sweep_id,
                    "as_of": result.as_of,
                    "dry_run": result.dry_run,
                    "summary": s,
                    "diff": result.diff,
                }
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
    echo_wrapped(
        f"  {s['accounts']:,} accounts, {s['links']:,} links, {s['transactions']:,} transactions; "
        f"{s['hubs']:,} hub identifiers kept from linking"
    )
    echo_wrapped(
        f"  rings: {s['rings']:,} found; {s['rings_new']} new, {s['rings_grown']} grown, "
        f"{s['rings_shrunk']} shrunk, {s['rings_changed']} changed, {s['rings_dissolved']} dissolved"
    )
    order = ("none", "monitor", "review", "restrict", "suspend")  # as stored, the keys are sorted
    acts = ", ".join(
        f"{k} {s['actions'][k]:,}"
        for k in sorted(s["actions"], key=lambda a: (a not in order, order.index(a) if a in order else 0, a))
    )
    echo_wrapped(f"  accounts per action: {acts}")
    ev = ", ".join(f"{k} {v:,}" for k, v in sorted(s["events"].items())) or "none"
    verb = "would change" if result.dry_run else "changed"
    echo_wrapped(f"  {verb}: {ev}; notices {s['notices']:,}")
    if held := s.get("held_back"):
        named = ", ".join(held[:5]) + (f" and {len(held) - 5:,} more" if len(held) > 5 else "")
        echo_wrapped(
            f"  held back: {len(held):,} account(s) changed by hand while this sweep ran ({named}) "
            "kept as they are; the next sweep decides them"
        )
    if "detection" in s:
        for line in _detection_lines(s["detection"]):
            echo_wrapped(line)
    times = ", ".join(f"{k} {v:.1f}s" for k, v in s["seconds"].items())
    echo_wrapped(f"  time: {times}")


def _detection_lines(d: dict) -> list[str]:
    """How a sweep had its detection (computed, delta, reused, unchanged...) and its baseline."""
    mode = d["mode"]

    def accounts(n: int) -> str:
        return f"{n:,} account{'' if n == 1 else 's'}"

    note = {
        "reused": " (nothing detection reads changed since the last sweep)",
        "unchanged": " (nothing changed since the last sweep: its rings, scores and decisions stand)",
        "delta": f" ({accounts(d.get('changed', 0))} changed since the last sweep; "
        f"{accounts(d.get('reached', 0))} in their components recomputed, everything else stands)",
    }
    lines = [f"  detection: {mode}{note.get(mode, '')}"]
    kept = d.get("baseline")
    if isinstance(kept, dict):
        how = "fitted on this sweep's" if kept.get("fitted") else "kept, fitted on"
        lines.append(f"  baseline {kept.get('digest')}: {how} {int(kept.get('rings', 0)):,} rings")
    return lines


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
@click.option(
    "--full",
    is_flag=True,
    help="Recompute detection even when nothing changed since the last sweep (the default reuses it).",
)
@click.option(
    "--refit",
    is_flag=True,
    help="Fit a new baseline (what ordinary rings and hubs look like) on today's data; implies --full.",
)
@format_option
@click.pass_obj
def sweep(obj, as_of, policy_file, dry_run, seed, engine, full, refit, fmt):
    """One detection + decision pass: rings, scores, decisions, notices, audit.

    Incremental by default: when no load or label changed the data since the last sweep, its
    rings and scores stand and only the policy runs again (same result as --full).
    Rings are judged against the workspace's baseline, fitted by its first sweep and kept
    until --refit, so a ring's score moves only when the ring or its data does.
    Safe under cron: while one sweep runs, another exits at once with code 75.

    \b
    Example:
      fraudgraph sweep --policy examples/policy.toml --dry-run
    """
    from fraudgraph.app.sweep import run_sweep

    pol = policy_from(policy_file)
    lifetime.one_shot()
    result = run_sweep(
        obj.workspace(),
        as_of=as_of,
        seed=seed,
        policy=pol,
        dry_run=dry_run,
        engine=engine,
        config=obj.config().detection_config(),
        progress=progress_of(obj),
        full=full,
        refit=refit,
    )
    _print_sweep(result, fmt)
    lifetime.keep(result)


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
@click.option(
    "--full-every",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Every Nth sweep recomputes detection whole and refits the baseline (sweep --refit); the others "
    "are incremental.",
)
@click.pass_obj
def schedule(obj, every, policy_file, seed, max_runs, full_every):
    """Run sweeps in a loop, logging each; a sweep that finds the lock held is skipped, not fatal.

    Sweeps are incremental (see sweep), with a full one that refits the baseline every
    --full-every runs.

    Stops cleanly on Ctrl-C or SIGTERM (between sweeps).

    \b
    Example:
      fraudgraph schedule --every 1h --policy examples/policy.toml
    """
    from fraudgraph.app.sweep import run_sweep

    interval = _parse_duration(every)
    pol = policy_from(policy_file)
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
                refit=(runs + 1) % full_every == 0,
            )
            s = result.summary
            click.echo(
                f"{datetime.now().isoformat(timespec='seconds')} sweep {result.sweep_id}: {s['rings']} rings "
                f"({s['rings_new']} new, {s['rings_dissolved']} dissolved); events {s['events']}; "
                f"detection {s['detection']['mode']}; {s['seconds']['total']:.1f}s",
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
@paging_options(20)
@format_option
@click.pass_obj
def sweeps(obj, limit, offset, fmt):
    """Sweep history, newest first, with the diff against the previous sweep.

    \b
    Example:
      fraudgraph sweeps --limit 5
    """
    hist = page(obj.workspace().sweeps(), limit, offset, fmt, "sweeps")
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
                # Accounts changed by hand while the sweep ran, which it left as they were.
                "held_back": list(s.get("held_back", [])) if fmt == "json" else len(s.get("held_back", [])),
                "diff": d if fmt == "json" else None,
            }
        )
    if fmt == "table":  # 100 columns: times to the minute, the diff in words (json and csv keep every field)
        emit([_sweep_line(r) for r in rows], fmt)
        return
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
        "held_back",
    ]
    emit(rows, fmt, columns=cols + (["diff"] if fmt == "json" else []))


def _minute(stamp) -> str:
    """An ISO time as a table shows it: ``2026-12-04 11:01``."""
    text = str(stamp or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def _sweep_line(r: dict) -> dict:
    """One sweep as the history table shows it: what changed, in words."""
    changed = [
        f"{r[k]:,} {word}"
        for k, word in (("rings_new", "new"), ("rings_grown", "grown"), ("rings_shrunk", "shrunk"))
        if r[k]
    ]
    if r["rings_dissolved"]:
        changed.append(f"{r['rings_dissolved']:,} dissolved")
    return {
        "sweep_id": r["sweep_id"],
        "finished": _minute(r["finished_at"]),
        "as_of": _minute(r["as_of"]),
        "rings": f"{r['rings']:,}" if isinstance(r["rings"], int) else r["rings"],
        "rings changed": ", ".join(changed) or "none",
        "escalated / de-escalated": f"{r['escalated']:,} / {r['de_escalated']:,}"
        + (f" ({r['held_back']:,} held back)" if r["held_back"] else ""),
    }
