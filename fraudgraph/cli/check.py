"""The real-time check command: one event, or a stream of JSON lines, one answer each."""

import json
import sys

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import echo_reason, echo_wrapped, policy_from
from fraudgraph.model.values import jsonable


def _echo_answer(answer: dict, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(jsonable(answer), ensure_ascii=False))
        return
    held = " (held)" if answer["held"] else ""
    who = "new account" if answer["new_account"] else "existing account"
    applied = ", recorded" if answer["applied"] else ""
    click.echo(
        f"{answer['account_id']}: {answer['action'].upper()}{held}  {who}{applied}  {answer['elapsed_ms']:.1f} ms"
    )
    for r in answer["rings"]:
        via = ", ".join(r["via"]) or "membership"
        echo_wrapped(
            f"  ring {r['ring_id']}  score {r['score']:.2f}  {r['size']} accounts  {r['action']} now  "
            f"{r['tie']} tie via {via} -> {r['proposes']}"
        )
    for a in answer["accounts"]:
        ring = f" in {a['ring_id']}" if a["ring_id"] else ""
        echo_wrapped(
            f"  flagged {a['account_id']}{ring}  {a['action']}  score {a['score']:.2f}  via {', '.join(a['via'])}"
        )
    for s in answer["shared"]:
        what = "hub, " if s["hub"] else ""
        rings = f", rings {', '.join(s['rings'])}" if s["rings"] else ""
        echo_wrapped(f"  shared {s['kind']} {s['value']}  ({what}used by {s['n_accounts']:,} account(s){rings})")
    for reason in answer["reasons"]:
        echo_reason(reason["code"], reason["text"])


def _echo_error(error: dict, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(error, ensure_ascii=False))
    else:
        click.echo(f"line {error['line']}: error: {error['error']}")


@cli.command()
@click.option(
    "--event",
    "event_json",
    metavar="JSON",
    default=None,
    help="One event (a JSON object). Without it, JSON lines are read from stdin, one answer per line.",
)
@click.option(
    "--apply",
    is_flag=True,
    help="Record the event (as a load merges it) and the decision, with an audit entry. Without it nothing is written.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Policy TOML file (default: the packaged policy).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: readable lines; json: one object per event on one line.",
)
@click.pass_obj
def check(obj, event_json, apply, policy_file, fmt):
    """Check an application or an account change against the last sweep, in milliseconds.

    An event is the data contract's rows for one account as one JSON object: {"account":
    {...}, "links": [...], "transactions": [...]}; for an existing account, "account" may hold
    only its account_id. The answer: the action the policy would take now (none, monitor,
    review, restrict, suspend; review or worse holds an application), the rings and flagged
    accounts the event touches, the shared identifiers (masked) and the reasons.

    On a stream a bad line gets an error object (json) or an error line (text) and the stream
    goes on; the exit code is 1 when any line was bad.

    \b
    Example:
      fraudgraph check --event '{"account": {"account_id": "A9", "created_at": "2026-11-01"},
                                 "links": [{"kind": "card", "value": "4000 0012 3456 7899"}]}'
      consumer | fraudgraph check --format json --apply
    """
    from fraudgraph.app.check import Checker

    policy = policy_from(policy_file)
    ws = obj.workspace()
    if ws.sweeps().empty:
        click.echo("Warning: no sweep yet: answers know no rings, scores or hubs (run: fraudgraph sweep)", err=True)
    from fraudgraph.app.privacy import check_secret
    from fraudgraph.model.masking import MaskingError

    try:
        secret = check_secret(ws)
    except MaskingError as e:
        raise click.UsageError(str(e)) from None
    checker = Checker(ws, policy=policy, config=obj.config(), secret=secret)
    if event_json is not None:
        _echo_answer(checker.check(event_json, apply=apply), fmt)
        return
    bad = 0
    for answer in checker.check_lines(sys.stdin, apply=apply):
        if "error" in answer:
            bad += 1
            _echo_error(answer, fmt)
        else:
            _echo_answer(answer, fmt)
    if bad:
        click.echo(f"{bad:,} event(s) rejected", err=True)
        click.get_current_context().exit(1)
