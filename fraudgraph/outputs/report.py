"""Case reports: one ring written up for an investigator or a case file, as self-contained HTML or
as Markdown with its pictures beside it.

``write_report`` takes plain frames (what ``investigate.case_report_inputs`` reads from the
workspace) and only formats them: every value from the data is escaped for the output (``html.escape``
in HTML; backslash escapes, entities and ``<br>`` in Markdown), so an account id such as
``<script>`` or ``a | b`` shows as text and never changes the document's structure.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from fraudgraph.model.values import json_default, utc_now
from fraudgraph.outputs.html import csp_hash
from fraudgraph.outputs.paths import atomic_paths
from fraudgraph.outputs.png import render_png, timeline_png
from fraudgraph.outputs.subgraph import ACTION_COLOURS, ExportError, finite_json

# The columns each table shows, in order. Only the first column(s) named in REQUIRED must be there;
# other missing columns show as empty cells, so a frame from an older workspace still reports.
MEMBER_COLUMNS = [
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
IDENTIFIER_COLUMNS = ["kind", "key", "raw_values", "n_members", "n_accounts", "is_hub"]
FLOW_COLUMNS = ["account_id", "counterparty", "amount", "count"]
DECISION_COLUMNS = ["account_id", "action", "trigger", "score"]
AUDIT_COLUMNS = ["at", "actor", "account_id", "event", "previous_action", "new_action", "note"]
REQUIRED = {
    "members": ["account_id"],
    "identifiers": ["kind", "key"],
    "flows": ["account_id", "counterparty", "amount"],
    "decisions": ["account_id", "action"],
    "audit": ["at", "account_id", "event"],
}
OPTIONAL_COLUMNS = {  # shown after the required ones when the frame has them
    "identifiers": ["first_seen"],
    "flows": ["counterparty_kind", "first_ts", "last_ts"],
    "decisions": ["credit_limit", "new_credit_limit"],
}
TIMELINE_ROW_LIMIT = 400
MONEY_COLUMNS = {"credit_limit", "balance", "amount", "new_credit_limit", "exposure"}
SCORE_COLUMNS = {"score"}


# --------------------------------------------------------------------------------------------
# Values as display text (format-neutral; escaping happens per output format)
# --------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(float(value))
    try:
        return np.ndim(value) == 0 and bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _raw_list(value: Any) -> list[str]:
    """Raw spellings as a list, whether they come as a list, an array or JSON text."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return [value]
        return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [] if _missing(value) else [str(value)]


def display(value: Any, column: str = "") -> str:
    """One cell as text: money with thousands separators, scores to 3 places, times without the
    zero seconds, lists joined, booleans yes/no, missing values empty."""
    if column == "raw_values":
        return " | ".join(_raw_list(value))
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(display(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if _missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if column in MONEY_COLUMNS else str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if column in MONEY_COLUMNS:
            return f"{number:,.2f}"
        if column in SCORE_COLUMNS:
            return f"{number:.3f}"
        return f"{number:g}" if abs(number) < 1e6 else f"{number:,.0f}"
    return str(value)


def _table(frame: pd.DataFrame | None, name: str, columns: list[str]) -> tuple[list[str], list[list[str]]]:
    """The header and display rows of one report table; checks the required columns."""
    if frame is None:
        frame = pd.DataFrame(columns=columns)
    if not isinstance(frame, pd.DataFrame):
        raise ExportError(f"write_report: {name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in REQUIRED.get(name, []) if c not in frame.columns]
    if missing and len(frame):
        raise ExportError(
            f"write_report: {name} frame lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}"
        )
    shown = columns + [c for c in OPTIONAL_COLUMNS.get(name, []) if c in frame.columns and c not in columns]
    rows = [[display(record.get(c), c) for c in shown] for record in frame.to_dict("records")]
    return shown, rows


def _reasons(value: Any) -> list[dict]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return [{"code": "", "text": value, "evidence": None}]
    if isinstance(value, dict):
        value = [value]
    out = []
    for reason in value or []:
        if isinstance(reason, dict):
            out.append(
                {
                    "code": str(reason.get("code", "")),
                    "text": str(reason.get("text", "")),
                    "evidence": reason.get("evidence"),
                }
            )
        else:
            out.append({"code": "", "text": str(reason), "evidence": None})
    return out


def _features(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}  # a dict, or a detection's NamedRow


def _evidence_text(evidence: Any) -> str:
    if evidence is None or evidence == {} or evidence == []:
        return ""
    return json.dumps(finite_json(evidence), ensure_ascii=False, indent=1, default=json_default)


# --------------------------------------------------------------------------------------------
# The case: summary figures, timeline
# --------------------------------------------------------------------------------------------


def _summary(ring: dict, members: pd.DataFrame, decisions: pd.DataFrame | None) -> list[tuple[str, str]]:
    size = ring.get("size")
    if size is None or _missing(size):
        size = len(members)
    rows = [
        ("Ring", display(ring.get("ring_id"))),
        ("Members", display(int(size))),
        ("Ring score", display(ring.get("score"), "score")),
        ("Exposure", display(ring.get("exposure"), "exposure")),
    ]
    if "label" in members.columns:
        fraud = int((members["label"] == "fraud").sum())
        legit = int((members["label"] == "legit").sum())
        rows.append(("Known outcomes", f"{fraud} confirmed fraud, {legit} confirmed legitimate"))
    source = decisions if decisions is not None and "action" in decisions.columns and len(decisions) else members
    if "action" in source.columns:
        counts = source["action"].fillna("none").value_counts()
        order = [a for a in ACTION_COLOURS if a in counts.index] + [a for a in counts.index if a not in ACTION_COLOURS]
        rows.append(("Actions", ", ".join(f"{counts[a]} {a}" for a in order)))
    reasons = _reasons(ring.get("reasons"))
    for i, reason in enumerate(reasons[:3], 1):
        rows.append((f"Top reason {i}", f"{reason['code']}: {reason['text']}" if reason["code"] else reason["text"]))
    return rows


def _first_uses(graph: nx.DiGraph | None, first_seen: pd.DataFrame | None, member_ids: set[str]) -> pd.DataFrame:
    """(account_id, kind, value, first_seen) for the members: from the links frame when given, else
    from the ``uses`` edges of the graph."""
    columns = ["account_id", "kind", "value", "first_seen"]
    if first_seen is not None and len(first_seen):
        frame = first_seen.rename(columns={"key": "value"}) if "value" not in first_seen.columns else first_seen
        frame = frame[[c for c in columns if c in frame.columns]].copy()
        frame = frame[frame["account_id"].astype(str).isin(member_ids)]
    elif graph is not None:
        records = []
        for u, v, data in graph.edges(data=True):
            if data.get("edge_type") != "uses" or not data.get("first_seen"):
                continue
            account, ident = graph.nodes[u], graph.nodes[v]
            if str(account.get("account_id")) in member_ids:
                records.append(
                    (
                        account.get("account_id"),
                        ident.get("kind", ""),
                        ident.get("key", ""),
                        data["first_seen"],
                    )
                )
        frame = pd.DataFrame(records, columns=columns)
    else:
        frame = pd.DataFrame(columns=columns)
    frame["first_seen"] = pd.to_datetime(frame["first_seen"], errors="coerce", format="mixed")
    return frame.dropna(subset=["first_seen"])


def _timeline(members: pd.DataFrame, uses: pd.DataFrame) -> pd.DataFrame:
    """Account openings and first uses of identifiers, oldest first."""
    opened = pd.DataFrame(
        {
            "at": pd.to_datetime(members.get("created_at", pd.Series(dtype=object)), errors="coerce", format="mixed"),
            "account_id": members["account_id"].astype(str),
            "event": "account opened",
            "detail": "",
        }
    )
    first = pd.DataFrame(
        {
            "at": uses["first_seen"],
            "account_id": uses["account_id"].astype(str),
            "event": "first used " + uses["kind"].astype(str),
            "detail": uses["value"].astype(str),
        }
    )
    events = pd.concat([opened.dropna(subset=["at"]), first], ignore_index=True)
    return events.sort_values(["at", "account_id", "event"], kind="stable").reset_index(drop=True)


def _graph_png(graph: nx.DiGraph | None) -> bytes | None:
    if graph is None:
        return None
    buffer = io.BytesIO()
    render_png(graph, buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# The document model, then HTML and Markdown renderings of it
# --------------------------------------------------------------------------------------------


def _sections(ring: dict, members, identifiers, flows, decisions, audit, graph, first_seen) -> dict[str, Any]:
    if not isinstance(ring, dict):
        raise ExportError(f"write_report: ring must be a dict (ring_id, size, score, ...), got {type(ring).__name__}")
    if "ring_id" not in ring:
        raise ExportError(f"write_report: ring dict lacks 'ring_id'; it has {', '.join(map(str, ring))}")
    if members is None or not isinstance(members, pd.DataFrame) or "account_id" not in members.columns:
        raise ExportError("write_report: members must be a DataFrame with an account_id column")
    if audit is not None and "at" in audit.columns and len(audit):
        audit = audit.sort_values("at", kind="stable")
    if flows is not None and "amount" in flows.columns and len(flows):
        flows = flows.sort_values("amount", ascending=False, kind="stable")
    if decisions is not None and "account_id" in decisions.columns and len(decisions):
        decisions = decisions.sort_values("account_id", kind="stable")
    identifiers = _with_hub_flags(identifiers, graph)
    member_ids = set(members["account_id"].astype(str))
    uses = _first_uses(graph, first_seen, member_ids)
    timeline = _timeline(members, uses)
    return {
        "title": f"Case report: ring {display(ring['ring_id'])}",
        "summary": _summary(ring, members, decisions),
        "features": [(str(k), display(v)) for k, v in sorted(_features(ring.get("features")).items())],
        "reasons": _reasons(ring.get("reasons")),
        "members": _table(members, "members", MEMBER_COLUMNS),
        "identifiers": _table(identifiers, "identifiers", IDENTIFIER_COLUMNS),
        "timeline": _table(timeline.head(TIMELINE_ROW_LIMIT), "timeline", ["at", "account_id", "event", "detail"]),
        "timeline_total": len(timeline),
        "flows": _table(flows, "flows", FLOW_COLUMNS),
        "decisions": _table(decisions, "decisions", DECISION_COLUMNS),
        "audit": _table(audit, "audit", AUDIT_COLUMNS),
        "graph_png": _graph_png(graph),
        "timeline_png": timeline_png(members, uses),
        "generated": utc_now().strftime("%Y-%m-%d %H:%M UTC"),
        "graph_notes": [str(n) for n in _notes(graph)],
    }


def _with_hub_flags(identifiers: pd.DataFrame | None, graph: nx.DiGraph | None) -> pd.DataFrame | None:
    """The workspace's ring_identifiers carry no is_hub; the export graph knows it per (kind, key)."""
    if (
        identifiers is None
        or graph is None
        or "is_hub" in identifiers.columns
        or not {"kind", "key"} <= set(identifiers)
    ):
        return identifiers
    hubs = {
        (str(d.get("kind")), str(d.get("key"))): bool(d.get("is_hub"))
        for _, d in graph.nodes(data=True)
        if d.get("node_type") == "identifier"
    }
    flags = [hubs.get((str(k), str(v))) for k, v in zip(identifiers["kind"], identifiers["key"])]
    return identifiers.assign(is_hub=flags)


def _notes(graph: nx.DiGraph | None) -> list:
    if graph is None:
        return []
    notes = graph.graph.get("notes") or []
    if isinstance(notes, str):
        try:
            notes = json.loads(notes)
        except json.JSONDecodeError:
            notes = [notes]
    return list(notes)


SECTION_TITLES = [
    ("members", "Members"),
    ("identifiers", "Shared identifiers"),
    ("timeline", "Timeline"),
    ("flows", "Money flows"),
    ("decisions", "Decisions"),
    ("audit", "Audit trail"),
]
EMPTY_TEXT = {
    "members": "No members.",
    "identifiers": "No shared identifiers recorded.",
    "timeline": "No dates recorded.",
    "flows": "No payments involving the members.",
    "decisions": "No decisions for the members.",
    "audit": "No audit entries for the members.",
}

_REPORT_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1c2733;margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5dbe1;padding-bottom:3px}
.meta{color:#56677a;margin:0 0 14px}
table{border-collapse:collapse;margin:4px 0 8px;font-size:13px}
th,td{border:1px solid #d5dbe1;padding:3px 7px;text-align:left;vertical-align:top;word-break:break-word;max-width:420px;white-space:pre-wrap}
th{background:#eef1f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.summary th{width:150px}
pre{background:#eef1f4;padding:6px 8px;border-radius:4px;white-space:pre-wrap;word-break:break-all;font-size:12px;max-width:1100px}
img{max-width:100%;height:auto;border:1px solid #d5dbe1}
.code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:600}
.muted{color:#7a8896}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}img{max-height:95vh}}
"""
_NUMERIC = re.compile(r"-?[\d,]+(\.\d+)?\Z")


def _html_table(header: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(c)}</td>' if _NUMERIC.match(c) else f"<td>{html.escape(c)}</td>" for c in row
        )
        + "</tr>\n"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def render_html(doc: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (pictures inline as data: URIs, no scripts)."""
    e = html.escape
    csp = f"default-src 'none'; img-src data:; style-src {csp_hash(_REPORT_STYLE)}; base-uri 'none'; form-action 'none'"
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">\n',
        f"<title>{e(doc['title'])}</title>\n<style>{_REPORT_STYLE}</style>\n</head>\n<body>\n",
        f'<h1>{e(doc["title"])}</h1>\n<p class="meta">Generated {e(doc["generated"])} by fraudgraph.</p>\n',
        '<h2>Summary</h2>\n<table class="summary">\n',
        *(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>\n" for k, v in doc["summary"]),
        "</table>\n",
    ]
    if doc["graph_png"]:
        parts.append(
            f"<h2>Graph</h2>\n{_img(doc['graph_png'], 'the ring: accounts, shared identifiers and payments')}\n"
        )
        if doc["graph_notes"]:
            parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in doc["graph_notes"]) + "</ul>\n")
    parts.append("<h2>Reasons and evidence</h2>\n")
    if doc["reasons"]:
        parts.append("<ol>\n")
        for reason in doc["reasons"]:
            evidence = _evidence_text(reason["evidence"])
            parts.append(
                f'<li><span class="code">{e(reason["code"])}</span> {e(reason["text"])}'
                + (f"<pre>{e(evidence)}</pre>" if evidence else "")
                + "</li>\n"
            )
        parts.append("</ol>\n")
    else:
        parts.append('<p class="muted">No reasons recorded.</p>\n')
    if doc["features"]:
        parts.append(
            "<h2>Ring features</h2>\n"
            + _html_table(["feature", "value"], [list(f) for f in doc["features"]], "")
            + "\n"
        )
    for key, title in SECTION_TITLES:
        header, rows = doc[key]
        parts.append(f"<h2>{e(title)}</h2>\n")
        if key == "timeline":
            if doc["timeline_png"]:
                parts.append(
                    _img(doc["timeline_png"], "timeline of account openings and first use of identifiers") + "\n"
                )
            if doc["timeline_total"] > len(rows):
                parts.append(f'<p class="muted">First {len(rows)} of {doc["timeline_total"]} events.</p>\n')
        parts.append(_html_table(header, rows, EMPTY_TEXT[key]) + "\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


# Only what can start markup mid-line: emphasis, code, links/images, tables, strikethrough, raw HTML.
# (Block markers such as "#", "-", "1." matter only at a line start, where no value is ever placed.)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~<>])")


def md_text(text: str) -> str:
    """Text safe inside a Markdown paragraph or table cell: Markdown punctuation backslash-escaped
    (including ``|`` and ``<``/``>``, so no raw HTML and no extra table column), ``&`` as an entity,
    line breaks as ``<br>``."""
    text = _MD_SPECIAL.sub(r"\\\1", str(text)).replace("&", "&amp;")
    return re.sub(r"\r\n|[\r\n\u2028\u2029\x85\x0b\x0c]", "<br>", text)


def _md_table(header: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"_{md_text(empty)}_\n"
    lines = [
        "| " + " | ".join(md_text(h) for h in header) + " |",
        "|"
        + "|".join(
            "---:" if all(_NUMERIC.match(r[i]) or not r[i] for r in rows) and any(r[i] for r in rows) else "---"
            for i in range(len(header))
        )
        + "|",
    ]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _md_code(text: str) -> str:
    """A fenced block no content can close: the fence is longer than any backtick run inside."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}json\n{text}\n{fence}\n"


def render_markdown(doc: dict[str, Any], picture: str | None, timeline_picture: str | None) -> str:
    """The report as Markdown; pictures are linked by file name (written beside the .md)."""
    parts = [
        f"# {md_text(doc['title'])}\n",
        f"Generated {md_text(doc['generated'])} by fraudgraph.\n",
        "## Summary\n",
        _md_table(["", ""], [[k, v] for k, v in doc["summary"]], ""),
    ]
    if picture:
        parts.append(f"## Graph\n\n![the ring: accounts, shared identifiers and payments]({picture})\n")
        if doc["graph_notes"]:
            parts.append("".join(f"- {md_text(n)}\n" for n in doc["graph_notes"]))
    parts.append("## Reasons and evidence\n")
    if doc["reasons"]:
        for i, reason in enumerate(doc["reasons"], 1):
            code = f"**{md_text(reason['code'])}** " if reason["code"] else ""
            parts.append(f"{i}\\. {code}{md_text(reason['text'])}\n")
            evidence = _evidence_text(reason["evidence"])
            if evidence:
                parts.append(_md_code(evidence))
    else:
        parts.append("_No reasons recorded._\n")
    if doc["features"]:
        parts.append("## Ring features\n")
        parts.append(_md_table(["feature", "value"], [list(f) for f in doc["features"]], ""))
    for key, title in SECTION_TITLES:
        header, rows = doc[key]
        parts.append(f"## {title}\n")
        if key == "timeline":
            if timeline_picture:
                parts.append(f"![timeline of account openings and first use of identifiers]({timeline_picture})\n")
            if doc["timeline_total"] > len(rows):
                parts.append(f"_First {len(rows)} of {doc['timeline_total']} events._\n")
        parts.append(_md_table(header, rows, EMPTY_TEXT[key]))
    return "\n".join(parts)


def write_report(
    path: str | os.PathLike,
    *,
    ring: dict,
    members: pd.DataFrame,
    identifiers: pd.DataFrame | None = None,
    flows: pd.DataFrame | None = None,
    decisions: pd.DataFrame | None = None,
    audit: pd.DataFrame | None = None,
    graph: nx.DiGraph | None = None,
    first_seen: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the case report of one ring to ``path`` (``.html``/``.htm`` or ``.md``); return the files written.

    HTML is one self-contained file (pictures inline, no scripts, no network). Markdown links its
    pictures, written beside it: ``<name>.png`` (the graph) and ``<name>.timeline.png``.

    Inputs (extra columns are ignored; missing optional ones show as empty cells):

    - ``ring``: dict with ``ring_id`` and optionally ``size``, ``score``, ``exposure``, ``features``
      (dict or JSON text), ``reasons`` (list of ``{"code", "text", "evidence"}`` or JSON text).
    - ``members``: account_id, created_at, status, credit_limit, balance, overdue_days, label, score, action.
    - ``identifiers``: kind, key, raw_values (list or JSON text), n_members, n_accounts, is_hub
      (+ first_seen if present).
    - ``flows``: account_id, counterparty, amount, count (+ counterparty_kind, first_ts, last_ts).
    - ``decisions``: account_id, action, trigger, score (+ credit_limit, new_credit_limit).
    - ``audit``: at, actor, account_id, event, previous_action, new_action, note.
    - ``graph``: the export subgraph (``investigate.subgraph``) for the picture; None for no picture.
    - ``first_seen``: links of the members (account_id, kind, value, first_seen) for the timeline;
      when None the ``uses`` edges of ``graph`` are used.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise ExportError(f"report file {str(path)!r} must end in .html, .htm or .md (got {suffix or 'no suffix'!r})")
    doc = _sections(ring, members, identifiers, flows, decisions, audit, graph, first_seen)
    if suffix in (".html", ".htm"):
        with atomic_paths([path]) as (temp,):
            temp.write_text(render_html(doc), encoding="utf-8")
        return [path]
    base = path.name[: -len(path.suffix)]
    pictures = {
        "graph": (path.with_name(f"{base}.png"), doc["graph_png"]),
        "timeline": (path.with_name(f"{base}.timeline.png"), doc["timeline_png"]),
    }
    present = {k: v for k, v in pictures.items() if v[1]}
    targets = [path, *(p for p, _ in present.values())]
    text = render_markdown(
        doc,
        _md_link(present["graph"][0].name) if "graph" in present else None,
        _md_link(present["timeline"][0].name) if "timeline" in present else None,
    )
    with atomic_paths(targets) as temps:
        temps[0].write_text(text, encoding="utf-8")
        for temp, (_, png) in zip(temps[1:], present.values()):
            temp.write_bytes(png)
    return targets


def _md_link(name: str) -> str:
    """A relative link target: percent-escape what would end or confuse a Markdown link."""
    return re.sub(r"[\s()<>\[\]\\%]", lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), name)


__all__ = ["write_report", "render_html", "render_markdown", "display", "md_text"]
