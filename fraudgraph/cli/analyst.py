"""The analyst loop: notices, queue, review, suspend, reinstate, audit."""

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import (
    analyst_name,
    audit_reveal,
    cell,
    decoded,
    echo_wrapped,
    emit,
    format_option,
    identifier_options,
    page,
    paging_options,
    policy_from,
    shower,
    shown_reasons,
)
from fraudgraph.model.frames import NOTICE_COLUMNS


def _policy_option(f):
    """``--policy FILE``: the policy whose words the customer's notice uses."""
    return click.option(
        "--policy",
        "policy_file",
        type=click.Path(dir_okay=False),
        default=None,
        help="Policy TOML whose notice wording the customer gets (default: the packaged policy).",
    )(f)


@cli.command()
@click.option(
    "--since",
    "since",
    default=None,
    metavar="SWEEP",
    help="Only notices of sweeps after this one, and those written outside a sweep since it finished.",
)
@paging_options(None)
@format_option
@click.pass_obj
def notices(obj, since, limit, offset, fmt):
    """Customer notices to send (restrictions, suspensions, and their lifting), for a messaging system.

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
    """Accounts awaiting an analyst, highest risk first: reviews, and proposed reinstatements.

    A sweep never lifts a restriction or suspension because scores moved; it proposes the
    reinstatement here (column proposal) and the analyst decides with `reinstate`.

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


def _review_ids(account_ids, ring, ids_from, ws) -> list[str]:
    """The accounts a review names: arguments, a ring's members, and/or ids read from a file."""
    from fraudgraph.app.analyst import ring_accounts

    ids = list(account_ids)
    if ring:
        ids += ring_accounts(ws, ring)
    if ids_from is not None:
        for line in ids_from.read().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                ids.append(line)
    if not ids:
        raise click.UsageError("name the accounts: ACCOUNT_ID..., --ring RING_ID or --ids-from FILE ('-' for stdin)")
    return list(dict.fromkeys(ids))


def _money(value) -> str:
    return "-" if value is None or value != value else f"{float(value):,.2f}"


def _echo_preview(preview: dict) -> None:
    verdict = preview["verdict"].replace("_", " ")
    for row in preview["accounts"]:
        b, a = row["before"], row["after"]
        click.echo(
            f"{row['account_id']}: {verdict}: {b['action']}, {b['status']}, limit {_money(b['credit_limit'])} -> "
            f"{a['action']}, {a['status']}, limit {_money(a['credit_limit'])}"
        )
    mates = preview["ring_mates"]
    if mates:
        click.echo(f"ring mates whose evidence this verdict touches ({len(mates)}):")
        for m in mates:
            echo_wrapped(f"  {m['account_id']} ({m['ring_id']}, {m['in_force']}): {m['effect']}")
    else:
        click.echo("no ring mate is touched.")


@cli.command()
@click.argument("account_ids", nargs=-1, metavar="[ACCOUNT_ID]...")
@click.option("--ring", "ring", default=None, metavar="RING_ID", help="Every member of this ring (last sweep).")
@click.option(
    "--ids-from", "ids_from", type=click.File("r"), default=None, help="Account ids, one a line ('-': stdin)."
)
@click.option("--confirm-fraud", is_flag=True, help="Confirm: label fraud, suspend.")
@click.option("--dismiss", is_flag=True, help="Dismiss: label legit, reinstate; re-flagged only on new evidence.")
@click.option("--note", required=True, help="Why (goes into the audit trail).")
@click.option("--dry-run", is_flag=True, help="Show what the verdict would change; apply nothing.")
@click.option(
    "--expect", "expect", default=None, metavar="TOKEN", help="Refuse if the account changed since this state token."
)
@click.option("--analyst", default=None, help="Analyst name (default: $FRAUDGRAPH_ANALYST or $USER).")
@_policy_option
@click.pass_obj
def review(obj, account_ids, ring, ids_from, confirm_fraud, dismiss, note, dry_run, expect, analyst, policy_file):
    """Record an analyst's verdict on accounts; shows first what else it changes.

    \b
    Example:
      fraudgraph review A0001234 --dismiss --note "verified ID in branch"
      fraudgraph review --ring R-000012 --confirm-fraud --note "same card" --dry-run
      fraudgraph review --ids-from cleared.txt --dismiss --note "household, verified"
    """
    from fraudgraph.app.analyst import preview_review, review_many

    if confirm_fraud == dismiss:
        raise click.UsageError("give exactly one of --confirm-fraud or --dismiss")
    verdict = "confirm_fraud" if confirm_fraud else "dismiss"
    ws = obj.workspace()
    ids = _review_ids(account_ids, ring, ids_from, ws)
    if expect is not None and len(ids) != 1:
        raise click.UsageError("--expect applies to one account; name exactly one")
    pol = policy_from(policy_file)
    _echo_preview(preview_review(ws, ids, verdict, policy=pol))
    if dry_run:
        click.echo("dry run: nothing recorded.")
        return
    expected = {ids[0]: expect} if expect is not None else None
    states = review_many(ws, ids, verdict, note=note, actor=analyst or analyst_name(), expected=expected, policy=pol)
    for account_id, st in zip(ids, states):
        click.echo(f"{account_id}: {verdict.replace('_', ' ')} recorded; now {st['status']}, action {st['action']}.")


def _by_hand(obj, change, account_id: str, reason: str, how: tuple) -> dict:
    """A manual suspend or reinstate: ``how`` is (--expect, --analyst, --policy) as given."""
    expect, analyst, policy_file = how
    return change(
        obj.workspace(),
        account_id,
        reason=reason,
        actor=analyst or analyst_name(),
        expected=expect,
        policy=policy_from(policy_file),
    )


@cli.command()
@click.argument("account_id")
@click.option("--reason", required=True, help="Why (goes into the audit trail).")
@click.option("--expect", "expect", default=None, metavar="TOKEN", help="Refuse if the account changed since.")
@click.option("--analyst", default=None)
@_policy_option
@click.pass_obj
def suspend(obj, account_id, reason, expect, analyst, policy_file):
    """Suspend an account by hand; sweeps never lift it.

    \b
    Example:
      fraudgraph suspend A0001234 --reason "customer reported stolen identity"
    """
    from fraudgraph.app.analyst import suspend as do_suspend

    _by_hand(obj, do_suspend, account_id, reason, (expect, analyst, policy_file))
    click.echo(f"{account_id}: suspended.")


@cli.command()
@click.argument("account_id")
@click.option("--reason", required=True, help="Why (goes into the audit trail).")
@click.option("--expect", "expect", default=None, metavar="TOKEN", help="Refuse if the account changed since.")
@click.option("--analyst", default=None)
@_policy_option
@click.pass_obj
def reinstate(obj, account_id, reason, expect, analyst, policy_file):
    """Reinstate an account by hand (active, original credit limit); sweeps keep it so.

    This is also how a sweep's proposed reinstatement (see `queue`) is accepted.

    \b
    Example:
      fraudgraph reinstate A0001234 --reason "identity verified"
    """
    from fraudgraph.app.analyst import reinstate as do_reinstate

    st = _by_hand(obj, do_reinstate, account_id, reason, (expect, analyst, policy_file))
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
    # Reason texts and evidence name identifiers: masked unless --reveal.
    from fraudgraph.cli.results import quoted_ring_refs

    audit_reveal(obj, df["account_id"].tolist(), "audit")
    df = shown_reasons(df, shower(), by_ring=None if shower().reveals else quoted_ring_refs(obj, df))
    if fmt == "table":  # one line per change, and under it why it happened
        rows = [_audit_line(r) for r in decoded(df, ("reasons",)).to_dict("records")]
        emit(rows, fmt, columns=["at", "by", "account_id", "event", "action", "credit_limit"], detail="why")
        return
    if fmt == "json":
        df = decoded(df, ("reasons",))
    emit(df, fmt, columns=list(df.columns))


def _limit(v) -> str:
    """A credit limit as the audit table shows it: whole units with separators (0, not 0.000)."""
    return f"{v:,.0f}" if isinstance(v, (int, float)) and v == v else cell(v)


def _audit_line(r: dict) -> dict:
    """One audit row as the table shows it: who changed what, and why (a sentence, not a column)."""
    at = str(r.get("at") or "")[:19].replace("T", " ")
    sweep = r.get("sweep_id")
    by = f"sweep {sweep}" if r.get("actor") == "sweep" and isinstance(sweep, str) else str(r.get("actor") or "")

    def moved(before, after, show=str) -> str:
        if before is None or (isinstance(before, float) and before != before) or before == after:
            return "" if after is None else show(after)
        return f"{show(before)} → {show(after)}"

    reasons = r.get("reasons")
    if not isinstance(reasons, list):
        reasons = []
    top = next((x.get("text") for x in reasons if isinstance(x, dict) and x.get("text")), None)
    note = r.get("note") or ""
    why = top if r.get("actor") == "sweep" and top else note
    return {
        "at": at,
        "by": by,
        "account_id": r.get("account_id"),
        "event": r.get("event"),
        "action": moved(r.get("previous_action"), r.get("new_action")),
        "credit_limit": moved(r.get("previous_limit"), r.get("new_limit"), _limit),
        "why": why,
    }
