"""Case reports: the members, identifiers, flows, reasons and audit trail appear, and hostile text stays text."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from fraudgraph.outputs.export import ExportError
from fraudgraph.outputs.report import md_text, write_report

try:
    from test_export import build_subgraph
except ImportError:  # tests/ made a package
    from tests.test_export import build_subgraph

EVIL = "<script>alert(1)</script>"
PIPE = "a | b\nsecond line"
HUB_KEY = "ip:ünïcødé 🕵️ 日本"  # the hub identifier of build_subgraph


def build_case() -> dict:
    graph = build_subgraph()
    accounts = [d for _, d in graph.nodes(data=True) if d["node_type"] == "account" and d["seed"]]
    members = pd.DataFrame(
        {
            "account_id": [a["account_id"] for a in accounts],
            "created_at": pd.to_datetime([a["created_at"] for a in accounts]),
            "credit_limit": [a["credit_limit"] for a in accounts],
            "balance": [a["balance"] for a in accounts],
            "overdue_days": [a["overdue_days"] for a in accounts],
            "status": [a["status"] for a in accounts],
            "label": [a["fraud_label"] or None for a in accounts],
            "score": [a["score"] for a in accounts],
            "action": [a["action"] for a in accounts],
            "trigger": "fraud_ring",
        }
    )
    identifiers = pd.DataFrame(
        {
            "ring_id": "R-000004",
            "kind": ["device", "address", "email", "ip"],
            "key": ["dev-1", PIPE, "jdoe@example.com", HUB_KEY],
            "n_members": [6, 3, 2, 1],
            "n_accounts": [6, 4, 2, 4210],
            "raw_values": [
                ["DEV-1", "dev-1"],
                json.dumps(["12 Oak St", EVIL]),
                ["J.Doe+x@example.com"],
                [HUB_KEY],
            ],
        }
    )
    flows = pd.DataFrame(
        {
            "account_id": [members["account_id"][0], members["account_id"][1]],
            "counterparty": [members["account_id"][1], "merchant-9"],
            "counterparty_kind": ["account", "merchant"],
            "amount": [1234.5, 99.0],
            "count": [3, 1],
            "first_ts": pd.to_datetime(["2024-04-01 10:00", "2024-04-02 00:00"]),
            "last_ts": pd.to_datetime(["2024-04-03 11:30", "2024-04-02 00:00"]),
        }
    )
    decisions = pd.DataFrame(
        {
            "account_id": members["account_id"],
            "action": members["action"],
            "trigger": "fraud_ring",
            "score": members["score"],
            "ring_id": "R-000004",
            "reasons": [[] for _ in range(len(members))],
            "credit_limit": members["credit_limit"],
            "new_credit_limit": np.nan,
        }
    )
    audit = pd.DataFrame(
        {
            "at": pd.to_datetime(["2024-05-02 09:00", "2024-05-01 08:00"]),
            "sweep_id": ["S2", "S1"],
            "actor": ["analyst jane", "sweep"],
            "account_id": [members["account_id"][0], members["account_id"][0]],
            "event": ["review", "decision"],
            "previous_action": ["review", "none"],
            "new_action": ["suspend", "review"],
            "note": [f"confirmed {EVIL} | pipes", "ring score 0.91"],
        }
    )
    ring = {
        "ring_id": "R-000004",
        "size": len(members),
        "score": 0.9123,
        "exposure": 45250.0,
        "features": {"n_shared_devices": 1, "opening_span_days": 7.5},
        "reasons": [
            {
                "code": "SHARED_DEVICE",
                "text": f"6 accounts use device {EVIL}",
                "evidence": {"device": "dev-1", "accounts": ["```", EVIL]},
            },
            {"code": "SYNCHRONY", "text": "8 accounts opened within 8 days", "evidence": {"days": 8}},
        ],
    }
    return {
        "ring": ring,
        "members": members,
        "identifiers": identifiers,
        "flows": flows,
        "decisions": decisions,
        "audit": audit,
        "graph": graph,
    }


@pytest.fixture
def case() -> dict:
    return build_case()


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    """Written once for the module: rendering the pictures is most of a report's time."""
    (path,) = write_report(tmp_path_factory.mktemp("report") / "case.html", **build_case())
    return path


@pytest.fixture(scope="module")
def md_report(tmp_path_factory):
    return write_report(tmp_path_factory.mktemp("report") / "case.md", **build_case())


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.cells, self.images = [], [], [], []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_html_report_holds_every_section_and_member(html_report, case):
    text = html_report.read_text(encoding="utf-8")
    page = Collector()
    page.feed(text)
    for heading in (
        "Summary",
        "Graph",
        "Reasons and evidence",
        "Members",
        "Shared identifiers",
        "Timeline",
        "Money flows",
        "Decisions",
        "Audit trail",
    ):
        assert f"<h2>{heading}</h2>" in text
    for account in case["members"]["account_id"]:
        # each member has its own cell, verbatim after unescaping (HTML reads CR LF as LF)
        assert account.replace("\r\n", "\n") in page.cells
    assert "R-000004" in page.cells and "0.912" in page.cells and "45,250.00" in page.cells
    assert "1,234.50" in page.cells and "12 Oak St | " + EVIL in page.cells  # raw spellings, joined
    assert "SHARED_DEVICE" in "".join(page.text)
    # the audit trail is in time order, with its notes
    audit_rows = [c for c in page.cells if c.startswith("2024-05-0")]
    assert audit_rows == ["2024-05-01 08:00:00", "2024-05-02 09:00:00"]
    # pictures inline: a graph and a timeline, both real PNGs
    assert len(page.images) == 2
    for image in page.images:
        assert image["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(image["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and matplotlib.image.imread(io.BytesIO(png)).shape[0] > 150


def test_html_report_escapes_hostile_text(html_report):
    text = html_report.read_text(encoding="utf-8")
    assert "<script" not in text and "alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = Collector()
    page.feed(text)
    assert "script" not in page.tags
    assert set(page.tags) <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "p",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "img",
        "ol",
        "ul",
        "li",
        "span",
        "pre",
    }
    assert f"confirmed {EVIL} | pipes" in page.cells
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)


def markdown_table(text: str, heading: str) -> list[list[str]]:
    """The rows of the table under ``## heading``, split on unescaped pipes."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.split("\n") if line.startswith("|")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_markdown_report_links_its_pictures_and_keeps_tables_intact(md_report, case):
    written = md_report
    folder = written[0].parent
    assert written == [folder / "case.md", folder / "case.png", folder / "case.timeline.png"]
    text = written[0].read_text(encoding="utf-8")
    assert "](case.png)" in text and "](case.timeline.png)" in text
    for picture in written[1:]:
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    members = markdown_table(text, "Members")
    assert members[0][:3] == ["account\\_id", "created\\_at", "status"]
    assert all(len(row) == len(members[0]) for row in members)  # no value added a column
    assert len(members) == 2 + len(case["members"])
    identifiers = markdown_table(text, "Shared identifiers")
    assert all(len(row) == len(identifiers[0]) for row in identifiers)
    # ring_identifiers has no is_hub column: the report takes it from the graph's identifier nodes
    assert identifiers[0][-1] == "is\\_hub" and [row[-1] for row in identifiers[2:]] == ["", "", "", "yes"]
    assert "a \\| b<br>second line" in text  # the pipe is escaped, the newline kept inside the cell
    audit = markdown_table(text, "Audit trail")
    assert [row[0] for row in audit[2:]] == ["2024-05-01 08:00:00", "2024-05-02 09:00:00"]


def test_markdown_report_escapes_hostile_text(md_report):
    text = md_report[0].read_text(encoding="utf-8")
    outside_code = re.sub(r"(`{3,})json\n.*?\n\1\n", "", text, flags=re.S)
    assert not re.search(r"(?<!\\)<(?!br>)", outside_code)  # no raw HTML but our own line breaks
    assert "\\<script\\>alert(1)\\</script\\>" in outside_code
    # evidence sits in a fence longer than the backtick run inside it
    assert "````json\n" in text
    assert md_text("x|y\r\nz & <b>") == "x\\|y<br>z &amp; \\<b\\>"


def test_report_without_graph_flows_or_audit_still_reports(tmp_path, case):
    (path,) = write_report(
        tmp_path / "case.htm",
        ring=case["ring"],
        members=case["members"],
        identifiers=case["identifiers"],
        flows=None,
        decisions=None,
        audit=None,
        graph=None,
    )
    text = path.read_text(encoding="utf-8")
    assert "No payments involving the members." in text and "No audit entries" in text
    assert text.count("<img") == 1  # the timeline from created_at; no graph picture


def test_report_checks_its_inputs(tmp_path, case):
    with pytest.raises(ExportError, match=r"\.pdf.*\.html, \.htm or \.md"):
        write_report(tmp_path / "case.pdf", **case)
    with pytest.raises(ExportError, match="flows frame lacks column.*counterparty"):
        write_report(tmp_path / "case.html", **{**case, "flows": case["flows"].drop(columns=["counterparty"])})
    with pytest.raises(ExportError, match="ring_id"):
        write_report(tmp_path / "case.html", **{**case, "ring": {"size": 3}})
    assert list(tmp_path.iterdir()) == []


def test_a_ring_from_a_swept_workspace_exports_and_reports(swept_db, tmp_path):
    """Integration with investigate.py: the top ring of a real sweep, in every format and as both reports."""
    from fraudgraph.app.investigate import case_report_inputs, subgraph
    from fraudgraph.outputs.export import FORMATS, export_graph
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    with SqliteWorkspace(swept_db, create=False) as ws:
        rings = ws.table("rings").sort_values("score", ascending=False)
        ring_id = rings["ring_id"].iloc[0]
        graph = subgraph(ws, ring=ring_id)
        inputs = case_report_inputs(ws, ring_id)
    for fmt in FORMATS:
        assert all(p.stat().st_size > 0 for p in export_graph(graph, tmp_path / f"ring.{fmt}", fmt))
    (html_path,) = write_report(tmp_path / "case.html", **inputs)
    text = html_path.read_text(encoding="utf-8")
    for account in inputs["members"]["account_id"]:
        assert f"<td>{account}</td>" in text
    assert text.count("<img") == 2
    md = write_report(tmp_path / "case.md", **inputs)
    assert [p.name for p in md] == ["case.md", "case.png", "case.timeline.png"]
