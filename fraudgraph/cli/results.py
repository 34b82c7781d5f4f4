"""Commands that read a sweep's results: rings, ring, account, path, decisions."""

import json

import click
import pandas as pd

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import (
    audit_reveal,
    cell,
    echo_reason,
    echo_wrapped,
    emit,
    format_option,
    identifier_options,
    page,
    paging_options,
    shower,
    shown_identifiers,
    shown_reasons,
)
from fraudgraph.model.values import jsonable
from fraudgraph.outputs.report import MEMBER_COLUMNS


@cli.command()
@click.option("--min-score", type=click.FloatRange(0, 1), default=None, help="Only rings scoring at least this.")
@paging_options(20)
@format_option
@identifier_options
@click.pass_obj
def rings(obj, min_score, limit, offset, fmt):
    """Rings of the last sweep, highest score first.

    \b
    Example:
      fraudgraph rings --min-score 0.8 --format csv
    """
    df, total = obj.workspace().top_rings(min_score, limit, offset)
    df = page(df, limit, offset, fmt, "rings", total=total)
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    else:  # the reasons' texts and evidence name identifiers
        from fraudgraph.app.investigate import ring_identifier_refs_by_ring

        ws = obj.workspace()
        df = shown_reasons(df, shower(), by_ring=ring_identifier_refs_by_ring(ws, df["ring_id"].tolist()))
        members = ws.table("ring_members", ring_id=df["ring_id"].tolist()) if len(df) else None
        audit_reveal(obj, [] if members is None else members["account_id"], "rings --format json")
    cols = ["ring_id", "size", "score", "exposure", "reasons"] + (["features"] if fmt == "json" else [])
    emit(df, fmt, columns=cols)


@cli.command()
@click.argument("ring_id")
@format_option
@identifier_options
@click.pass_obj
def ring(obj, ring_id, fmt):
    """One ring: members, shared identifiers (masked unless --reveal), features, reasons.

    \b
    Example:
      fraudgraph ring R-000004
    """
    from fraudgraph.app.investigate import ring_identifier_refs, ring_view

    sh = shower()
    view = ring_view(obj.workspace(), ring_id)
    members = view["members"][MEMBER_COLUMNS]
    r = {
        **view["ring"],
        "reasons": sh.reasons(view["ring"].get("reasons"), ring_identifier_refs(obj.workspace(), [ring_id])),
    }
    ident = shown_identifiers(view["identifiers"], sh)
    audit_reveal(obj, members["account_id"], f"ring {ring_id}")
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
@identifier_options
@click.pass_obj
def account(obj, account_id, fmt):
    """One account: profile, identifiers, ring, score, decision, reasons, nearest flagged accounts.

    \b
    Example:
      fraudgraph account A0001234 --format json
    """
    from fraudgraph.app.investigate import account_view

    sh = shower()
    v = account_view(obj.workspace(), account_id, hub_threshold=obj.hub_cap())
    ident = v["identifiers"][["kind", "value", "key", "first_seen", "n_accounts", "is_hub", "no_identity"]]
    v = {**v, **shown_account(obj, v, sh)}
    ident = shown_identifiers(ident, sh)
    audit_reveal(obj, [account_id], f"account {account_id}")
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
    emit(ident if sh.reveals else ident.drop(columns=["key"]), "table")  # masked: the key repeats the value
    click.echo("\nnearest flagged accounts:")
    emit(v["nearest_flagged"], "table")


def shown_account(obj, v: dict, sh) -> dict:
    """The reasons of an account view as ``sh`` shows them: texts may quote the ring's top reason,
    so the ring's identifiers and the account's own are known spellings."""
    from fraudgraph.app.investigate import ring_identifier_refs

    if sh.reveals:
        return {}
    ids = v["identifiers"]
    refs = ring_identifier_refs(obj.workspace(), [v["ring_id"]] if v["ring_id"] else [])
    refs += [(str(k), str(key), [str(val)]) for k, key, val in zip(ids["kind"], ids["key"], ids["value"]) if key]
    dec = v["decision"]
    out: dict = {"reasons": sh.reasons(v["reasons"], refs)}
    if dec:
        out["decision"] = {**dec, "reasons": sh.reasons(dec.get("reasons"), refs)}
    return out


@cli.command()
@click.argument("account_a")
@click.argument("account_b")
@click.option("--max-hops", type=click.IntRange(1, 12), default=6, show_default=True)
@format_option
@identifier_options
@click.pass_obj
def path(obj, account_a, account_b, max_hops, fmt):
    """The shortest chain of shared identifiers linking two accounts (hubs never count).

    \b
    Example:
      fraudgraph path A0001234 A0005678
    """
    from fraudgraph.app.investigate import path as find_path

    sh = shower()
    chain = find_path(obj.workspace(), account_a, account_b, max_hops=max_hops, hub_threshold=obj.hub_cap())
    if chain is None:
        if fmt == "table":
            click.echo(f"No chain of shared identifiers links {account_a} and {account_b} within {max_hops} hops.")
        else:  # machine formats stay parseable: no rows
            emit([], fmt, columns=["step", "type", "account_id", "kind", "key", "raw_values"])
        return
    chain = [n if n["type"] == "account" else shown_identifiers(pd.DataFrame([n]), sh).iloc[0].to_dict() for n in chain]
    audit_reveal(obj, [n["account_id"] for n in chain if n["type"] == "account"], f"path {account_a} {account_b}")
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
    echo_wrapped(" ".join(parts))
    click.echo(f"{(len(chain) - 1) // 2} hop(s)")


@cli.command()
@click.option("--action", type=click.Choice(["none", "monitor", "review", "restrict", "suspend"]), default=None)
@click.option("--all", "show_all", is_flag=True, help="Include accounts whose action is none.")
@paging_options(None)
@format_option
@identifier_options
@click.pass_obj
def decisions(obj, action, show_all, limit, offset, fmt):
    """The current decision per account (account_id, action, trigger, score, ring_id, reasons).

    Shows what is in force: an analyst's decision or a dismissal overrides the policy's.

    \b
    Example:
      fraudgraph decisions --action suspend --format csv
    """
    df, total = obj.workspace().decision_page(action, show_all, limit, offset)
    df = page(df, limit, offset, fmt, "decisions", total=total)
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    else:
        df = shown_page_reasons(obj, df, "decisions --format json")
    emit(
        df,
        fmt,
        columns=["account_id", "action", "trigger", "score", "ring_id", "new_credit_limit", "reasons"],
    )


def shown_page_reasons(obj, df, what: str):
    """A page of accounts with their reasons (JSON) as this command shows identifiers."""
    sh = shower()
    audit_reveal(obj, df["account_id"].tolist(), what)
    if sh.reveals:
        return df
    return shown_reasons(df, sh, by_ring=quoted_ring_refs(obj, df))


def quoted_ring_refs(obj, df) -> dict:
    """Ring id -> the identifiers of every ring a frame's rows belong to or whose reasons they
    quote (an account's IN_SUSPECT_RING text repeats its ring's top reason, identifier and all)."""
    from fraudgraph.app.investigate import ring_identifier_refs_by_ring
    from fraudgraph.outputs.shown import reason_ring_ids

    ring_ids = set(df["ring_id"].dropna()) if "ring_id" in df else set()
    for reasons in df.get("reasons", []):
        if isinstance(reasons, str) and reasons.strip():
            reasons = json.loads(reasons)
        ring_ids |= reason_ring_ids(reasons)
    return ring_identifier_refs_by_ring(obj.workspace(), sorted(ring_ids))


@cli.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Accounts listed per match.")
@format_option
@click.pass_obj
def search(obj, query, limit, fmt):
    """Find accounts by an account id, a ring id, or an identifier as you hold it (a phone, e-mail,
    card ... in any spelling), as the workbench's search does; identifiers are shown masked. In a
    pseudonymized workspace, typed identifiers are pseudonymized with $FRAUDGRAPH_PSEUDONYM_KEY
    (without it, only ids are found, and a note says so).

    \b
    Example:
      fraudgraph search "+1 (555) 123-4567"
      FRAUDGRAPH_PSEUDONYM_KEY=... fraudgraph --db private.db search "Ann.Lee@Example.com" --format json
    """
    from fraudgraph.app.investigate import find
    from fraudgraph.model.frames import IDENTIFIER_KINDS
    from fraudgraph.model.masking import MASKED

    kinds = tuple(dict.fromkeys([*IDENTIFIER_KINDS, *getattr(obj.config(), "extra_kinds", {})]))
    found = find(obj.workspace(), query, kinds, limit=limit)
    if found["notice"]:
        echo_wrapped(f"Note: {found['notice']}", err=True)
    rows = [{"match": "account id", "account_id": a} for a in found["accounts"]]
    rows += [{"match": "ring id", "ring_id": r} for r in found["rings"]]
    for i in found["identifiers"]:
        raws = sorted(str(v) for v in (i["raw_values"] or [i["key"]]))
        shown = " | ".join(dict.fromkeys(MASKED.show_tagged(i["kind"], v, i["key"]) for v in raws))
        rows += [
            {
                "match": "identifier",
                "kind": i["kind"],
                "identifier": shown,
                "account_id": a,
                "n_accounts": i["n_accounts"],
            }
            for a in i["accounts"]
        ]
    columns = ["match", "kind", "identifier", "account_id", "ring_id", "n_accounts"]
    if fmt == "table" and not rows:
        click.echo("No account, ring or identifier matches.")
        return
    emit(rows, fmt, columns=columns)
    if found["truncated"] and fmt == "table":
        click.echo(f"More accounts match; the first {limit} per identifier are shown.")
