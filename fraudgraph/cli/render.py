"""Output rendering for every command: tables, JSON and CSV on stdout; progress on stderr."""

import csv
import io
import json
import os
import re
import shutil
import textwrap
from collections.abc import Callable
from typing import Any

import click
import orjson

from fraudgraph.model.masking import MaskingError, Shower, pseudonym_key
from fraudgraph.model.values import json_default, jsonable
from fraudgraph.outputs.shown import shown_identifiers, shown_reasons

SUBSECOND = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+$")


def cell(v: Any, width: int = 60) -> str:
    v = jsonable(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    if isinstance(v, list):
        if v and all(isinstance(x, dict) and "code" in x for x in v):
            v = ", ".join(dict.fromkeys(x["code"] for x in v))  # each code once, in order
        else:
            v = ", ".join(dict.fromkeys(str(x) for x in v))
    if isinstance(v, dict):
        v = json.dumps(v, ensure_ascii=False)
    s = SUBSECOND.sub(r"\1", str(v).replace("\n", " "))  # tables read to the second
    return s if len(s) <= width else s[: width - 1] + "…"


# What ``json.dumps(jsonable(v), indent=2, ensure_ascii=False)`` prints (keys in their order,
# times as ISO text, NaN as null), written by orjson: a first sweep's JSON at 1M accounts lists
# 129k new rings and 87k escalated accounts: 0.8 s through the standard library, 0.02 s here.
_JSON_OPTIONS = (
    orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME
)


def json_text(value: Any) -> str:
    """``value`` as indented JSON text for stdout."""
    return orjson.dumps(value, default=json_default, option=_JSON_OPTIONS).decode()


def terminal_width() -> int:
    """The terminal's width (COLUMNS wins); 100 when stdout is not a terminal."""
    return shutil.get_terminal_size((100, 24)).columns


def table_is_wide() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get("fraudgraph.wide"))


def fit_widths(
    widths: list[int], room: int, floor: int = 6, prose: list[bool] | None = None, values: list[int] | None = None
) -> list[int]:
    """Column widths summing to at most `room`: the widest column gives way first, down to `floor`.

    ``prose`` marks the columns of running text (reasons, notes): they give way first, down to a
    wider floor, so ids, times and amounts stay whole as long as the text can shrink instead.
    ``values``: the widest value of each column; a header wider than its values is cut next
    (``overdue_d…``), before any value is."""
    widths = list(widths)
    if prose and any(prose):
        text = [w if p else 0 for w, p in zip(widths, prose)]
        fixed = sum(widths) - sum(text)
        shrunk = fit_widths([w for w in text if w], max(room - fixed, 0), floor=max(floor, 12))
        it = iter(shrunk)
        widths = [next(it) if p and w else w for w, p in zip(widths, prose)]
    if values:  # headers wider than their values, the most slack first
        slack = sorted(range(len(widths)), key=lambda k: max(values[k], floor) - widths[k])
        for i in slack:
            over = sum(widths) - room
            if over <= 0:
                break
            widths[i] -= max(0, min(over, widths[i] - max(values[i], floor)))
    while sum(widths) > room:
        i = max(range(len(widths)), key=lambda k: widths[k])
        if widths[i] <= floor:
            break
        widths[i] = max(floor, widths[i] - (sum(widths) - room))
    return widths


def _is_amount(values: list) -> bool:
    """Whether a column holds amounts (a float of 100 or more among them): a table shows them
    whole (``1,498``, and ``0``, not ``0.000``), as money reads."""
    numbers = [v for v in values if isinstance(v, float) and v == v]
    return bool(numbers) and any(abs(v) >= 100 for v in numbers)


def _whole(v) -> str:
    return f"{v:,.0f}" if isinstance(v, float) and v == v else cell(v)


def is_prose(values: list[str]) -> bool:
    """Whether a column's cells are running text (words, lists) rather than one token each."""
    return any(" " in v.strip() for v in values)


def echo_wrapped(line: str, *, err: bool = False) -> None:
    """A prose line wrapped to the terminal (continuation lines indented) unless --wide."""
    if table_is_wide():
        click.echo(line, err=err)
        return
    text = line.lstrip()
    lead = len(line) - len(text)
    # A bullet's continuation lines up under its text; anything else indents at least four.
    indent = lead + 2 if text.startswith("- ") else max(4, lead)
    click.echo(
        textwrap.fill(line, width=terminal_width(), subsequent_indent=" " * indent, break_long_words=True), err=err
    )


def echo_reason(code: str, text: str) -> None:
    """One reason, `  CODE: text`, wrapped."""
    echo_wrapped(f"  {code}: {text}")


def emit(data, fmt: str, *, columns: list[str] | None = None, detail: str | None = None) -> None:
    """Write records (a DataFrame, a list of dicts or one dict) in table, json or csv.

    ``detail``: a table prints this field of each record (a sentence: why the row happened) on
    its own line under the row, wrapped, instead of a column cut to a few letters."""
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
        out = [{c: jsonable(r.get(c)) for c in columns} for r in records]
        click.echo(json.dumps(out[0] if single else out, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in records:
            row = []
            for c in columns:
                v = jsonable(r.get(c))
                row.append(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else ("" if v is None else v)
                )
            w.writerow(row)
        click.echo(buf.getvalue(), nl=False)
    else:
        if single:
            width = max((len(c) for c in columns), default=0)
            for c in columns:
                room = 10_000 if table_is_wide() else max(10, terminal_width() - width - 2)
                click.echo(f"{c.ljust(width)}  {cell(records[0].get(c), room)}")
            return
        if not records:
            click.echo("(none)")
            return
        wide = table_is_wide()
        amounts = [_is_amount([r.get(c) for r in records]) for c in columns]
        cells = [
            [
                _whole(r.get(c)) if amount else cell(r.get(c), 10_000 if wide else 60)
                for c, amount in zip(columns, amounts)
            ]
            for r in records
        ]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
        if not wide:
            prose = [is_prose([row[i] for row in cells]) for i in range(len(columns))]
            values = [max((len(row[i]) for row in cells), default=0) for i in range(len(columns))]
            widths = fit_widths(widths, terminal_width() - 2 * (len(widths) - 1), prose=prose, values=values)
            cells = [[v if len(v) <= w else v[: w - 1] + "…" for v, w in zip(row, widths)] for row in cells]
            columns = [c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(columns, widths)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
        click.echo("  ".join("-" * w for w in widths))
        for record, row in zip(records, cells):
            click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
            text = cell(record.get(detail), 10_000) if detail else ""
            if text:
                echo_wrapped(f"    {text}")


def remember_wide(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta["fraudgraph.wide"] = value
    return value


def format_option(f: Callable) -> Callable:
    """`--format` and, for tables, `--wide` (no truncation to the terminal width)."""
    f = click.option(
        "--wide",
        is_flag=True,
        expose_value=False,
        callback=remember_wide,
        help="Tables: show every cell in full instead of fitting the terminal.",
    )(f)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(f)


def progress_of(ctx_obj) -> Callable[[str], None] | None:
    if ctx_obj.get("quiet"):
        return None
    return lambda msg: click.echo(msg, err=True)


def decoded(df, columns: tuple[str, ...]):
    """``columns`` stored as JSON text, decoded for JSON output; an empty or absent value is null."""
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = [json.loads(v) if isinstance(v, str) and v.strip() else None for v in out[c]]
    return out


def paging_options(default_limit: int | None) -> Callable:
    """``--limit`` and ``--offset`` for a list command (``default_limit`` None: every row)."""

    def add(f: Callable) -> Callable:
        f = click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many rows first.")(f)
        help_text = "Show at most this many rows." + ("" if default_limit else " Default: all.")
        return click.option(
            "--limit",
            type=click.IntRange(min=1),
            default=default_limit,
            show_default=bool(default_limit),
            help=help_text,
        )(f)

    return add


def page(df, limit: int | None, offset: int, fmt: str, what: str, total: int | None = None):
    """Rows ``offset`` .. ``offset + limit`` of ``df``; says "N of M <what> shown" on stderr, so a
    cut list is never silent (for tables always; for json and csv when rows were left out).
    With ``total``, ``df`` is already the page (the workspace cut it) and ``total`` the whole count."""
    if total is None:
        total = len(df)
        shown = df.iloc[offset : offset + limit] if limit is not None else df.iloc[offset:]
    else:
        shown = df
    if fmt == "table" or len(shown) < total:
        more = f" (--offset {offset + len(shown)} for the next)" if offset + len(shown) < total else ""
        click.echo(f"{len(shown):,} of {total:,} {what} shown{more}", err=True)
    return shown


# -- identifiers: masked unless revealed on purpose -----------------------------------------------
def _remember_flag(name: str) -> Callable:
    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.meta[name] = value
        if value and name == "fraudgraph.pseudonymize":
            try:  # a missing key stops every command that takes the flag, whatever it then shows
                pseudonym_key()
            except MaskingError as e:
                click.echo(f"Error: {e}", err=True)
                ctx.exit(2)
        return value

    return remember


def identifier_options(f: Callable) -> Callable:
    """``--reveal`` and ``--pseudonymize`` for a command that shows identifiers (masked by default).

    Per command rather than global: the audit entry a reveal writes names the command and the
    accounts it showed, and a command that shows no identifier should not accept the flag."""
    f = click.option(
        "--pseudonymize",
        is_flag=True,
        expose_value=False,
        callback=_remember_flag("fraudgraph.pseudonymize"),
        help="Identifiers as keyed pseudonyms (HMAC-SHA-256 under $FRAUDGRAPH_PSEUDONYM_KEY), "
        "the same in every file: for output that leaves the team.",
    )(f)
    return click.option(
        "--reveal",
        is_flag=True,
        expose_value=False,
        callback=_remember_flag("fraudgraph.reveal"),
        help="Show identifiers in full (masked by default); writes an audit entry.",
    )(f)


def shower() -> Shower:
    """How this command shows identifiers (its --reveal / --pseudonymize; masked by default). A
    pseudonymizing command without a usable key stops here: one line, exit 2."""
    ctx = click.get_current_context()
    if "fraudgraph.shower" not in ctx.meta:
        try:
            ctx.meta["fraudgraph.shower"] = Shower.from_flags(
                reveal=bool(ctx.meta.get("fraudgraph.reveal")),
                pseudonymize=bool(ctx.meta.get("fraudgraph.pseudonymize")),
            )
        except MaskingError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(2)
    return ctx.meta["fraudgraph.shower"]


def policy_from(path):
    """The policy in the TOML file at ``path``, or the packaged default when there is none."""
    from fraudgraph.decisions.policy import Policy, load_policy

    return load_policy(path) if path else Policy.default()


def analyst_name() -> str:
    """Who is at the keyboard: $FRAUDGRAPH_ANALYST, else the OS user (as for verdicts)."""
    return os.environ.get("FRAUDGRAPH_ANALYST") or os.environ.get("USER") or "analyst"


def audit_reveal(obj, account_ids, what: str) -> None:
    """With --reveal: one audit entry per account whose identifiers this command showed in full."""
    if not shower().reveals:
        return
    from fraudgraph.app.investigate import record_reveal

    ids = [str(a) for a in account_ids]
    n = record_reveal(obj.workspace(), ids, actor=analyst_name(), command=f"fraudgraph {what} --reveal")
    click.echo(f"Note: identifiers shown in full; {n:,} audit entr{'y' if n == 1 else 'ies'} written.", err=True)


__all__ = ["shown_identifiers", "shown_reasons"]
