"""The analyst loop: notices, queue, review, suspend, reinstate, audit."""

import os

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import (
    audit_reveal,
    cell,
    decoded,
    emit,
    format_option,
    identifier_options,
    page,
    paging_options,
    shower,
    shown_reasons,
)
from fraudgraph.model.frames import NOTICE_COLUMNS


@cli.command()
@click.option("--since", "since", default=None, metavar="SWEEP", help="Only notices of sweeps after this one.")
@paging_options(None)
@format_option
@click.pass_obj
def notices(obj, since, limit, offset, fmt):
    """Customer notices to send (restrictions and suspensions), for a messaging system.

    \b
    Example:
      fraudgraph notices --since S-000003 --format json
    """
    df = page(obj.workspace().notices(since), limit, offset, fmt, "notices")
    if fmt == "json":  # nested arrays and objects, not JSON text inside JSON
        df = decoded(df, ("customer_actions", "repayment_plan"))
    emit(
        df,
        fmt,
        columns=NOTICE_COLUMNS if fmt != "table" else ["notice_id", "account_id", "action", "category", "subject"],
    )


@cli.command()
@paging_options(None)
@format_option
@identifier_options
@click.pass_obj
def queue(obj, limit, offset, fmt):
    """Accounts awaiting review, highest risk first.

    \b
    Example:
      fraudgraph queue --format csv
    """
    from fraudgraph.app.analyst import queue as review_queue

    df = page(review_queue(obj.workspace()), limit, offset, fmt, "accounts awaiting review")
    if fmt != "json":
        df = df.assign(reasons=[[r["code"] for r in (x or [])] for x in df["reasons"]])
    else:  # reason texts and evidence name identifiers: masked unless --reveal
        from fraudgraph.cli.results import shown_page_reasons

        df = shown_page_reasons(obj, df, "queue --format json")
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
    click.echo(f"{account_id}: reinstated (credit limit {cell(st['credit_limit'])}).")


@cli.command()
@click.argument("account_id", required=False)
@paging_options(None)
@format_option
@identifier_options
@click.pass_obj
def audit(obj, account_id, limit, offset, fmt):
    """The audit trail (append-only), oldest first; optionally for one account.

    \b
    Example:
      fraudgraph audit A0001234 --format json
    """
    df = page(obj.workspace().audit(account_id), limit, offset, fmt, "audit rows")
    if fmt != "table":  # reason texts and evidence name identifiers: masked unless --reveal
        from fraudgraph.cli.results import quoted_ring_refs

        audit_reveal(obj, df["account_id"].tolist(), "audit")
        df = shown_reasons(df, shower(), by_ring=None if shower().reveals else quoted_ring_refs(obj, df))
    if fmt == "json":
        df = decoded(df, ("reasons",))
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
