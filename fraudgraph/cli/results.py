"""Commands that read a sweep's results: rings, ring, account, path, decisions."""

import json

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import cell, echo_reason, echo_wrapped, emit, format_option, page, paging_options
from fraudgraph.decisions.verdicts import in_force
from fraudgraph.model.values import jsonable
from fraudgraph.outputs.report import MEMBER_COLUMNS


@cli.command()
@click.option("--min-score", type=click.FloatRange(0, 1), default=None, help="Only rings scoring at least this.")
@paging_options(20)
@format_option
@click.pass_obj
def rings(obj, min_score, limit, offset, fmt):
    """Rings of the last sweep, highest score first.

    \b
    Example:
      fraudgraph rings --min-score 0.8 --format csv
    """
    df = obj.workspace().table("rings")
    if min_score is not None:
        df = df[df["score"] >= min_score]
    df = df.sort_values(["score", "exposure", "ring_id"], ascending=[False, False, True])
    df = page(df, limit, offset, fmt, "rings")
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
    members = view["members"][MEMBER_COLUMNS]
    ident = view["identifiers"]
    if fmt == "json":
        click.echo(
            json.dumps(
                jsonable({**r, "members": members.to_dict("records"), "identifiers": ident.to_dict("records")}),
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
        echo_reason(x["code"], x["text"])
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
        click.echo(f"  {k}: {cell(v)}")


def _echo_verdict(verdict, proposal) -> None:
    """The latest analyst verdict (who, when, the note, what is in force) and a pending proposal."""
    if verdict:
        force = verdict["in_force"]
        click.echo(f"\nlatest verdict: {verdict['verdict'].replace('_', ' ')} by {verdict['actor']} at {verdict['at']}")
        echo_wrapped(f"  note: {verdict['note']}")
        echo_wrapped(
            f"  in force: {force['action']}, {force['status']}, credit limit {cell(force['credit_limit'])}; "
            f"{force['because']}"
        )
    if proposal:
        echo_wrapped(f"\nproposed reinstatement ({proposal}): the sweep would lower it; an analyst decides")


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
        "verdict": v["verdict"],
        "proposal": v["proposal"],
        "state_token": v["state_token"],
    }
    if state.get("status"):
        data["status"] = state["status"]
        data["credit_limit"] = state.get("credit_limit")
    if fmt == "json":
        click.echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))
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
    _echo_verdict(data["verdict"], data["proposal"])
    click.echo(f"\nstate token: {data['state_token']} (review --expect TOKEN refuses if it changed since)")
    click.echo("\nreasons:")
    for x in data["reasons"] or [{"code": "-", "text": "nothing notable"}]:
        echo_reason(x["code"], x["text"])
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
@paging_options(None)
@format_option
@click.pass_obj
def decisions(obj, action, show_all, limit, offset, fmt):
    """The current decision per account (account_id, action, trigger, score, ring_id, reasons).

    Shows what is in force: an analyst's decision or a dismissal overrides the policy's.

    \b
    Example:
      fraudgraph decisions --action suspend --format csv
    """
    ws = obj.workspace()
    df = ws.table("decisions")
    df = in_force(df, ws.account_state(), ("action", "trigger"))
    if action:
        df = df[df["action"] == action]
    elif not show_all:
        df = df[df["action"] != "none"]
    order = {"suspend": 0, "restrict": 1, "review": 2, "monitor": 3, "none": 4}
    df = df.assign(_o=df["action"].map(order)).sort_values(["_o", "score", "account_id"], ascending=[True, False, True])
    df = page(df, limit, offset, fmt, "decisions")
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    emit(
        df,
        fmt,
        columns=["account_id", "action", "trigger", "score", "ring_id", "new_credit_limit", "reasons"],
    )
