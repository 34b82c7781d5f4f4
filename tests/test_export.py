"""Subgraph exports: every format reads back to the same graph, and hostile ids cannot break any of them."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import random
import re
from html.parser import HTMLParser

import matplotlib.image
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from fraudgraph.outputs import export, formats, html as html_view, png, subgraph
from fraudgraph.outputs.export import (
    FORMATS,
    ExportError,
    csv_paths,
    export_graph,
    format_from_path,
    graph_to_cypher,
    prepare_graph,
)

HOSTILE = [
    "O'Brien",
    'say "hi"',
    "<script>alert(1)</script>",
    "back\\slash\\",
    "line1\nline2\r\n",
    "ünïcødé 🕵️ 日本",
    "}) DETACH DELETE n //",
    "</script><!--",
    "\u2028sep\u2029",
    "N/A",
    "tab\there & ' \\' \\\\'",
]


def build_subgraph(n_ring: int = 8, n_other: int = 6, seed: int = 1, hostile: bool = True) -> nx.DiGraph:
    """A ring export as investigate.py builds it: seed accounts, neighbours, identifiers (one hub), payments."""
    rng = random.Random(seed)
    G = nx.DiGraph(
        title="Ring R-000004 <b>bold</b> </script>",
        center="ring R-000004",
        reasons=[
            {
                "code": "SHARED_DEVICE",
                "text": "6 accounts use device dev-1",
                "evidence": {
                    "device": "dev-1",
                    "accounts": ["A1", "<script>alert(2)</script>"],
                    "gap": float("nan"),
                },
            },
            {"code": "SYNCHRONY", "text": "opened within 3 days", "evidence": {"days": np.int64(3)}},
        ],
        notes=[
            "1 hub shown but not expanded: ip 10.0.0.1 (4,210 accounts)",
            "neighbourhood capped at 500 nodes",
        ],
    )
    accounts = [f"A{i:03d}" for i in range(n_ring + n_other)]
    if hostile:
        accounts[: len(HOSTILE)] = HOSTILE[: len(accounts)]
    for i, account in enumerate(accounts):
        in_ring = i < n_ring
        G.add_node(
            f"account:{account}",
            node_type="account",
            label=account,
            account_id=account,
            status=rng.choice(["active", "suspended"]),
            score=(0.55 + 0.4 * rng.random()) if in_ring else 0.3 * rng.random(),
            action=rng.choice(["review", "suspend", "none", "monitor"]),
            ring_id="R-000004" if in_ring else "",
            created_at=f"2024-03-{1 + i % 28:02d}T00:00:00",
            credit_limit=float("nan") if i == 2 else 1000.0 * (i + 1),
            balance=float("nan") if i == 3 else 500.0 * i - 250.0,
            overdue_days=i % 4 * 30,
            fraud_label="fraud" if i == 0 else ("legit" if i == n_ring else ""),
            seed=in_ring,
        )
    identifiers = []
    for j, kind in enumerate(["device", "address", "card", "phone", "email", "ip"]):
        key = f"{kind}:{HOSTILE[j % len(HOSTILE)]}" if hostile else f"{kind}-{j}"
        node = f"identifier:{kind}:{key}"
        hub = kind == "ip"
        G.add_node(
            node,
            node_type="identifier",
            label=key[:20],
            kind=kind,
            key=key,
            raw_values=json.dumps([key, key.upper()]),
            n_accounts=4210 if hub else rng.randint(2, 9),
            is_hub=hub,
            expanded=not hub,
        )
        identifiers.append(node)
    for i, account in enumerate(accounts):
        for node in rng.sample(identifiers, 2 if i < n_ring else 1):
            G.add_edge(
                f"account:{account}",
                node,
                edge_type="uses",
                first_seen=f"2024-03-{1 + i % 28:02d}T10:00:00" if i % 5 else "",
            )
    for i in range(n_ring - 1):
        G.add_edge(
            f"account:{accounts[i]}",
            f"account:{accounts[i + 1]}",
            edge_type="paid",
            amount=100.0 * (i + 1) + 0.25,
            count=i + 1,
            first_ts="2024-04-01T00:00:00",
            last_ts="2024-04-05T12:30:00",
        )
    return G


@pytest.fixture
def graph() -> nx.DiGraph:
    return build_subgraph()


@pytest.fixture
def prepared(graph) -> nx.DiGraph:
    return prepare_graph(graph)


def assert_same_graph(expected: nx.DiGraph, actual: nx.Graph, *, graph_attributes: bool = True) -> None:
    """Same nodes, edges, attribute values and attribute types."""
    assert set(actual.nodes) == set(expected.nodes)
    assert set(actual.edges) == set(expected.edges)
    for node, data in expected.nodes(data=True):
        got = actual.nodes[node]
        for name, value in data.items():
            assert got.get(name) == value and type(got.get(name)) is type(value), (
                node,
                name,
                value,
                got.get(name),
            )
    for u, v, data in expected.edges(data=True):
        got = actual.edges[u, v]
        for name, value in data.items():
            assert got.get(name) == value and type(got.get(name)) is type(value), (
                u,
                v,
                name,
                value,
                got.get(name),
            )
    if graph_attributes:
        for name in ("title", "center", "reasons", "notes"):
            assert actual.graph[name] == expected.graph[name]


# ---- paths and formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("r.graphml", "graphml"),
        ("r.GEXF", "gexf"),
        ("r.json", "json"),
        ("r.csv", "csv"),
        ("r.cypher", "cypher"),
        ("r.cql", "cypher"),
        ("r.html", "html"),
        ("r.htm", "html"),
        ("a.b/r.png", "png"),
    ],
)
def test_format_from_path_reads_the_suffix(name, fmt):
    assert format_from_path(name) == fmt


def test_unknown_suffix_names_the_suffix_and_the_formats():
    with pytest.raises(ValueError, match=r"'\.xlsx'.*graphml.*png") as info:
        format_from_path("ring.xlsx")
    assert isinstance(info.value, ExportError)
    with pytest.raises(ExportError, match="no suffix"):
        format_from_path("ring")


def test_existing_directory_means_csv_inside_it(tmp_path, graph):
    assert format_from_path(tmp_path) == "csv"
    written = export_graph(graph, tmp_path)
    assert written == [tmp_path / "nodes.csv", tmp_path / "edges.csv"]
    assert all(p.stat().st_size > 0 for p in written)


def test_export_rejects_unknown_format_and_missing_directory(tmp_path, graph):
    with pytest.raises(ExportError, match="'xls'.*graphml"):
        export_graph(graph, tmp_path / "x.graphml", fmt="xls")
    with pytest.raises(ExportError, match="does not exist"):
        export_graph(graph, tmp_path / "nowhere" / "x.json")


# ---- prepare_graph: one representation for every format -----------------------------------------


def test_prepare_graph_replaces_missing_numbers_with_zero_and_a_known_flag(graph, prepared):
    nan_limit = prepared.nodes["account:<script>alert(1)</script>"]
    assert nan_limit["credit_limit"] == 0.0 and nan_limit["credit_limit_known"] is False
    nan_balance = prepared.nodes["account:back\\slash\\"]
    assert nan_balance["balance"] == 0.0 and nan_balance["balance_known"] is False
    known = prepared.nodes["account:O'Brien"]
    assert known["credit_limit"] == 1000.0 and known["credit_limit_known"] is True
    for _, data in prepared.nodes(data=True):
        for value in data.values():
            assert type(value) in (str, int, float, bool)
            assert not (isinstance(value, float) and math.isnan(value))
    # every node of a type has the same attribute names
    names = {
        t: {tuple(d) for _, d in prepared.nodes(data=True) if d["node_type"] == t} for t in ("account", "identifier")
    }
    assert all(len(v) == 1 for v in names.values())
    assert json.loads(prepared.graph["reasons"])[0]["code"] == "SHARED_DEVICE"
    assert json.loads(prepared.graph["reasons"])[0]["evidence"]["gap"] is None  # NaN in evidence -> null


def test_prepare_graph_is_idempotent_and_normalizes_foreign_types(graph):
    graph.add_node(
        "account:T1",
        node_type="account",
        account_id="T1",
        score=np.float32(0.5),
        overdue_days=np.int64(7),
        created_at=pd.Timestamp("2024-01-02 03:04:05"),
        seed=np.bool_(True),
        credit_limit=None,
        balance=float("inf"),
    )
    graph.add_node(
        "identifier:email:x",
        node_type="identifier",
        kind="email",
        key="x",
        raw_values=["X", "x"],
        n_accounts=np.int32(2),
        is_hub=False,
        expanded=True,
    )
    once = prepare_graph(graph)
    t1 = once.nodes["account:T1"]
    assert (t1["score"], t1["overdue_days"], t1["created_at"], t1["seed"]) == (
        0.5,
        7,
        "2024-01-02T03:04:05",
        True,
    )
    assert (t1["label"], t1["status"], t1["balance_known"], t1["credit_limit_known"]) == (
        "T1",
        "",
        False,
        False,
    )
    assert json.loads(once.nodes["identifier:email:x"]["raw_values"]) == ["X", "x"]
    assert nx.utils.graphs_equal(prepare_graph(once), once)
    assert all(prepare_graph(once).nodes[n] == once.nodes[n] for n in once)


def test_prepare_graph_gives_attributes_outside_the_schema_one_type(graph):
    nodes = list(graph.nodes)
    graph.nodes[nodes[0]]["velocity"] = 3
    graph.nodes[nodes[1]]["velocity"] = float("nan")
    graph.nodes[nodes[2]]["note"] = 5
    graph.nodes[nodes[3]]["note"] = "text"
    prepared = prepare_graph(graph)
    assert prepared.nodes[nodes[0]]["velocity"] == 3.0 and prepared.nodes[nodes[0]]["velocity_known"] is True
    assert prepared.nodes[nodes[1]]["velocity"] == 0.0 and prepared.nodes[nodes[1]]["velocity_known"] is False
    assert (prepared.nodes[nodes[2]]["note"], prepared.nodes[nodes[3]]["note"]) == ("5", "text")


def test_prepare_graph_rejects_unknown_node_types():
    G = nx.DiGraph()
    G.add_node("merchant:M1", node_type="merchant")
    with pytest.raises(ExportError, match=r"'merchant:M1'.*'merchant'.*account, identifier"):
        prepare_graph(G)


# ---- round trips through the networkx readers ------------------------------------------------------


def test_graphml_round_trip_keeps_nodes_edges_attributes_and_types(tmp_path, graph, prepared):
    (path,) = export_graph(graph, tmp_path / "ring.graphml")
    back = nx.read_graphml(path)
    assert isinstance(back, nx.DiGraph)
    assert_same_graph(prepared, back)
    assert json.loads(back.graph["notes"])[1] == "neighbourhood capped at 500 nodes"


def test_gexf_round_trip_keeps_nodes_edges_attributes_and_types(tmp_path, graph, prepared):
    (path,) = export_graph(graph, tmp_path / "ring.gexf")
    back = nx.read_gexf(path)
    assert back.is_directed()
    assert_same_graph(prepared, back, graph_attributes=False)
    # GEXF has no graph attributes: title, centre, reasons and notes sit in <meta><description>
    from xml.etree import ElementTree

    ns = {"g": "http://www.gexf.net/1.2draft"}
    description = json.loads(ElementTree.parse(path).getroot().find("g:meta/g:description", ns).text)
    assert description["title"] == graph.graph["title"]
    assert json.loads(description["reasons"])[1]["code"] == "SYNCHRONY"
    assert back.graph["name"] == graph.graph["title"]


def strings_in(value):
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def as_json_means_it(prepared: nx.DiGraph) -> nx.DiGraph:
    """The prepared graph as the JSON export states it: raw_values a list, an unknown number or an
    absent date, ring, status or label null."""
    G = prepared.copy()
    items = [d for _, d in G.nodes(data=True)] + [d for _, _, d in G.edges(data=True)]
    for data in items:
        for name, value in list(data.items()):
            if name == "raw_values":
                data[name] = json.loads(value)
            elif name in ("status", "ring_id", "created_at", "fraud_label", "first_seen", "first_ts", "last_ts"):
                data[name] = value or None
            elif name.endswith("_known") and value is False:
                data[name[: -len("_known")]] = None
    return G


def test_node_link_json_is_strict_json_nests_real_values_and_round_trips(tmp_path, graph, prepared):
    (path,) = export_graph(graph, tmp_path / "ring.json")

    def no_nan(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_nan)
    assert set(data) >= {"nodes", "edges", "graph", "directed"} and data["directed"] is True
    assert {"id", "node_type", "label"} <= set(data["nodes"][0])
    assert {"source", "target", "edge_type"} <= set(data["edges"][0])
    # Never JSON inside JSON: lists and objects are nested, absent values are null.
    for text in strings_in(data):
        if text[:1] in "[{":
            with pytest.raises(ValueError):
                json.loads(text)
    assert data["graph"]["reasons"][0]["code"] == "SHARED_DEVICE"
    assert data["graph"]["reasons"][0]["evidence"]["gap"] is None  # NaN in evidence -> null
    assert data["graph"]["notes"] == graph.graph["notes"]
    identifiers = [n for n in data["nodes"] if n["node_type"] == "identifier"]
    assert identifiers and all(isinstance(n["raw_values"], list) and len(n["raw_values"]) == 2 for n in identifiers)
    unknown = next(n for n in data["nodes"] if n["node_type"] == "account" and not n["credit_limit_known"])
    assert unknown["credit_limit"] is None
    outside = next(n for n in data["nodes"] if n["node_type"] == "account" and not n["ring_id"])
    assert outside["ring_id"] is None and outside["credit_limit"] is not None
    assert_same_graph(as_json_means_it(prepared), nx.node_link_graph(data, edges="edges"), graph_attributes=False)


def test_json_export_nests_list_attributes_outside_the_schema(tmp_path):
    G = build_subgraph(n_ring=3, n_other=1, hostile=False)
    first = next(iter(G.nodes))
    G.nodes[first]["aliases"] = ["a", "b"]
    G.nodes[first]["looks_like_json"] = "[1, 2]"  # a text that happens to read as JSON stays text
    G.graph["sources"] = {"world": "demo", "rows": [1, 2]}
    (path,) = export_graph(G, tmp_path / "x.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    node = next(n for n in data["nodes"] if n["id"] == first)
    assert node["aliases"] == ["a", "b"] and node["looks_like_json"] == "[1, 2]"
    assert data["graph"]["sources"] == {"world": "demo", "rows": [1, 2]}


def read_csv_export(nodes_path, edges_path) -> nx.DiGraph:
    """Rebuild the graph from the CSV pair, typing each column by the export schema."""
    typed = {**{f"{n}_known": bool for s in subgraph.NODE_SCHEMAS.values() for n, k in s.items() if k is float}}
    for schema in [*subgraph.NODE_SCHEMAS.values(), *subgraph.EDGE_SCHEMAS.values()]:
        typed.update(schema)
    convert = {str: str, float: float, int: int, bool: lambda s: {"True": True, "False": False}[s]}
    G = nx.DiGraph()
    # keep_default_na=False: "N/A", "" and "nan" are identifiers here, not missing values
    nodes = pd.read_csv(nodes_path, dtype=str, keep_default_na=False)
    schema_by_type = {
        t: set(subgraph.NODE_COLUMNS) & ({*s} | {f"{n}_known" for n, k in s.items() if k is float})
        for t, s in subgraph.NODE_SCHEMAS.items()
    }
    for row in nodes.to_dict("records"):
        names = schema_by_type[row["node_type"]]
        G.add_node(row["id"], **{k: convert[typed[k]](v) for k, v in row.items() if k in names})
    edges = pd.read_csv(edges_path, dtype=str, keep_default_na=False)
    for row in edges.to_dict("records"):
        names = set(subgraph.EDGE_SCHEMAS[row["edge_type"]])
        G.add_edge(row["source"], row["target"], **{k: convert[typed[k]](v) for k, v in row.items() if k in names})
    return G


def test_csv_writes_a_nodes_file_and_an_edges_file_that_round_trip(tmp_path, graph, prepared):
    written = export_graph(graph, tmp_path / "ring.csv")
    assert written == [tmp_path / "ring.nodes.csv", tmp_path / "ring.edges.csv"]
    assert written == list(csv_paths(tmp_path / "ring.csv"))
    nodes = pd.read_csv(written[0], dtype=str, keep_default_na=False)
    assert list(nodes.columns[:4]) == ["id", "node_type", "label", "account_id"]
    assert list(pd.read_csv(written[1], nrows=0).columns[:3]) == ["source", "target", "edge_type"]
    assert_same_graph(prepared, read_csv_export(*written), graph_attributes=False)


# ---- Cypher: a tokenizer that reads the literals back ---------------------------------------------

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class CypherReader:
    """Just enough of a Cypher parser for the export: patterns, property maps, literals, one statement per line."""

    def __init__(self, text: str):
        self.text, self.i = text, 0

    def skip_space(self):
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def expect(self, token: str):
        self.skip_space()
        assert self.text.startswith(token, self.i), (token, self.text[self.i : self.i + 40])
        self.i += len(token)

    def name(self) -> str:
        self.skip_space()
        if self.text[self.i] == "`":
            end = self.i + 1
            out = []
            while True:
                if self.text[end] == "`":
                    if self.text[end + 1 : end + 2] == "`":
                        out.append("`")
                        end += 2
                        continue
                    break
                out.append(self.text[end])
                end += 1
            self.i = end + 1
            return "".join(out)
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.i)
        self.i = match.end()
        return match.group()

    def string(self) -> str:
        assert self.text[self.i] == "'"
        self.i += 1
        out = []
        while True:
            ch = self.text[self.i]
            assert ch not in "\n\r\u2028\u2029", "raw line break inside a literal"
            if ch == "'":
                self.i += 1
                return "".join(out)
            if ch == "\\":
                code = self.text[self.i + 1]
                if code == "u":
                    out.append(chr(int(self.text[self.i + 2 : self.i + 6], 16)))
                    self.i += 6
                    continue
                out.append(_ESCAPES[code])
                self.i += 2
                continue
            out.append(ch)
            self.i += 1

    def literal(self):
        self.skip_space()
        if self.text[self.i] == "'":
            return self.string()
        match = re.compile(r"true|false|-?\d+(\.\d+)?(e-?\d+)?").match(self.text, self.i)
        assert match, self.text[self.i : self.i + 30]
        self.i = match.end()
        token = match.group()
        if token in ("true", "false"):
            return token == "true"
        return float(token) if ("." in token or "e" in token) else int(token)

    def properties(self) -> dict:
        self.expect("{")
        out = {}
        self.skip_space()
        while self.text[self.i] != "}":
            key = self.name()
            self.expect(":")
            out[key] = self.literal()
            self.skip_space()
            if self.text[self.i] == ",":
                self.i += 1
                self.skip_space()
        self.i += 1
        return out

    def node_pattern(self) -> tuple[str, dict]:
        self.expect("(")
        self.name()
        self.expect(":")
        label = self.name()
        props = self.properties()
        self.expect(")")
        return label, props

    def statement(self):
        self.skip_space()
        if self.text.startswith("MERGE (n:", self.i):
            self.expect("MERGE")
            label, keys = self.node_pattern()
            self.expect("SET n +=")
            rest = self.properties()
            self.expect(";")
            return "node", label, {**keys, **rest}
        self.expect("MATCH")
        source = self.node_pattern()
        self.expect("MATCH")
        target = self.node_pattern()
        self.expect("MERGE (a)-[r:")
        rel = self.name()
        self.expect("]->(b) SET r +=")
        props = self.properties()
        self.expect(";")
        return "edge", rel, (source, target, props)


def parse_cypher_script(text: str):
    statements = []
    for line in text.split("\n"):
        if not line or line.startswith("//"):
            continue
        reader = CypherReader(line)
        statements.append(reader.statement())
        assert reader.i == len(line), f"trailing text after a statement: {line[reader.i :]!r}"
    return statements


def test_cypher_string_literals_parse_back_to_the_original_values():
    values = [*HOSTILE, "", "\\", "'", "\\'", "a\x00b\x1f", "\u202eevil", "emoji 👨‍👩‍👧", "\ud800"]
    for value in values:
        literal = formats.cypher_string(value)
        reader = CypherReader(literal)
        assert reader.string() == value and reader.i == len(literal)
        assert "\n" not in literal and "\u2028" not in literal and "\u202e" not in literal


def test_cypher_script_recreates_every_node_and_edge_with_its_properties(tmp_path, graph, prepared):
    (path,) = export_graph(graph, tmp_path / "ring.cql")
    text = path.read_text(encoding="utf-8")
    statements = parse_cypher_script(text)
    nodes = [s for s in statements if s[0] == "node"]
    edges = [s for s in statements if s[0] == "edge"]
    assert len(nodes) == prepared.number_of_nodes() and len(edges) == prepared.number_of_edges()
    by_key = {}
    for _, label, props in nodes:
        key = ("account", props["account_id"]) if label == "Account" else ("identifier", props["kind"], props["key"])
        by_key[key] = props
    for node, data in prepared.nodes(data=True):
        key = (
            ("account", data["account_id"])
            if data["node_type"] == "account"
            else ("identifier", data["kind"], data["key"])
        )
        expected = {k: v for k, v in data.items() if k != "node_type"}
        got = by_key[key]
        assert got == expected and all(type(got[k]) is type(v) for k, v in expected.items()), node
    rels = {}
    for _, rel, (source, target, props) in edges:
        rels[
            (
                source[1].get("account_id"),
                target[1].get("account_id") or (target[1]["kind"], target[1]["key"]),
            )
        ] = (rel, props)
    for u, v, data in prepared.edges(data=True):
        target = prepared.nodes[v]
        target_key = target["account_id"] if target["node_type"] == "account" else (target["kind"], target["key"])
        rel, props = rels[(prepared.nodes[u]["account_id"], target_key)]
        assert rel == data["edge_type"].upper()
        assert props == {k: v for k, v in data.items() if k != "edge_type"}
    assert "<script>" in text  # kept verbatim inside literals: Cypher needs no HTML escaping


def test_cypher_numbers_and_names_are_valid_literals():
    assert formats.cypher_value(1e16) == "1e16" and formats.cypher_value(2.0) == "2.0"
    assert formats.cypher_value(-1.5e-07) == "-1.5e-07" and formats.cypher_value(True) == "true"
    assert formats.cypher_name("a b`c") == "`a b``c`" and formats.cypher_name("score") == "score"
    with pytest.raises(ExportError, match="nan"):
        formats.cypher_value(float("nan"))
    G = nx.DiGraph(title="x\n// DETACH DELETE everything\u2028MATCH (n) DELETE n")
    header = graph_to_cypher(prepare_graph(G)).split("\n")
    assert all(line.startswith("//") or line == "" for line in header)


# ---- HTML ------------------------------------------------------------------------------------------


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.styles: list[str] = []
        self._in: tuple[str, dict] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = (tag, dict(attrs))

    def handle_data(self, data):
        if self._in and self._in[0] == "script":
            self.scripts.append((self._in[1], data))
        elif self._in:
            self.styles.append(data)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._in = None


def test_html_is_self_contained_and_hostile_ids_cannot_break_out(tmp_path, graph, prepared):
    (path,) = export_graph(graph, tmp_path / "ring.html")
    text = path.read_text(encoding="utf-8")
    parser = TagCollector()
    parser.feed(text)
    for tag, attrs in parser.tags:
        for name in ("src", "href", "action", "data"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(name) or ""), (tag, attrs)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    assert "<script>alert" not in text and "</script><!--" not in text
    assert [t for t, _ in parser.tags].count("script") == 2  # the data block and the view; nothing injected
    (data_attrs, data_text), (code_attrs, code_text) = parser.scripts
    assert data_attrs == {"type": "application/json", "id": "fraudgraph-data"} and code_attrs == {}
    data = json.loads(data_text)
    assert {n["id"] for n in data["nodes"]} == set(prepared.nodes)
    assert {(e["source"], e["target"]) for e in data["edges"]} == set(prepared.edges)
    assert data["reasons"][0]["evidence"]["accounts"][1] == "<script>alert(2)</script>"
    assert data["notes"] == graph.graph["notes"]
    # the Content-Security-Policy forbids any network use and pins the page's own script and style
    csp = next(a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    for body in (code_text, parser.styles[0]):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    title = re.search(r"<title>(.*)</title>", text).group(1)
    assert title == "Ring R-000004 &lt;b&gt;bold&lt;/b&gt; &lt;/script&gt;"


def test_html_view_puts_data_into_the_page_as_text_only():
    js = html_view.graph_view_js()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "http",
    ):
        assert sink not in js
    assert "<script" not in js.lower() and "</" not in js and "<!--" not in js  # it is inlined in a script element


def test_script_json_escapes_everything_that_could_end_a_script_element():
    value = {"a": "</script><script>alert(1)</script>", "b": "<!-- & \u2028 \u2029 >"}
    text = html_view.script_json(value)
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == value


# ---- PNG -------------------------------------------------------------------------------------------


def test_png_is_a_valid_image_whose_size_grows_with_the_graph(tmp_path, graph):
    (small,) = export_graph(graph, tmp_path / "small.png")
    assert small.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(small)
    assert image.shape[0] >= 500 and image.shape[1] >= 800 and image.shape[2] in (3, 4)
    big_graph = build_subgraph(n_ring=60, n_other=240, seed=2, hostile=False)
    (big,) = export_graph(big_graph, tmp_path / "big.png")
    big_image = matplotlib.image.imread(big)
    assert big_image.shape[0] > image.shape[0] * 1.3 and big_image.shape[1] > image.shape[1] * 1.2
    # the risk colours and an identifier kind colour are drawn
    rgb = (big_image[..., :3] * 255).round().astype(int).reshape(-1, 3)
    for colour in (subgraph.RISK_STOPS[-1][1], subgraph.KIND_COLOURS["device"]):
        target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(rgb - target).sum(axis=1) <= 12).sum() > 50, colour


# ---- every format, hostile input, atomic writes ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_an_empty_graph_and_a_control_character(tmp_path, fmt, caplog):
    G = nx.DiGraph(title="empty")
    written = export_graph(G, tmp_path / f"empty.{fmt}", fmt=fmt)
    assert all(p.exists() for p in written)
    G = build_subgraph(n_ring=3, n_other=1, hostile=False)
    G.add_node("account:bell\x07", node_type="account", account_id="bell\x07", label="bell\x07", score=0.9)
    written = export_graph(G, tmp_path / f"ctrl.{fmt}", fmt=fmt)
    if fmt in ("graphml", "gexf"):  # XML cannot hold U+0007: replaced, with a warning
        back = (nx.read_graphml if fmt == "graphml" else nx.read_gexf)(written[0])
        assert "account:bell\ufffd" in back and "replacing characters" in caplog.text


def test_a_failed_export_leaves_the_previous_file_and_no_temporary_files(tmp_path, graph, monkeypatch):
    target = tmp_path / "ring.json"
    target.write_text("previous", encoding="utf-8")

    def half_then_fail(H, G, path):
        path.write_text('{"nodes": [', encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setitem(export.WRITERS, "json", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_graph(graph, target)
    assert target.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ring.json"]


def test_exports_get_ordinary_file_permissions(tmp_path, graph):
    umask = os.umask(0o022)
    try:
        (path,) = export_graph(graph, tmp_path / "ring.json")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_dense_spring_layout_is_seeded_and_keeps_neighbours_close():
    G = nx.connected_caveman_graph(12, 8)  # 96 nodes in 12 tight groups
    first = png.dense_spring_layout(G, seed=3, k=0.1, iterations=80)
    again = png.dense_spring_layout(G, seed=3, k=0.1, iterations=80)
    assert all(np.array_equal(first[v], again[v]) for v in G)
    xy = np.array([first[v] for v in G])
    assert np.isfinite(xy).all() and np.abs(xy).max() <= 1.0 + 1e-9
    edge_length = np.mean([np.linalg.norm(first[u] - first[v]) for u, v in G.edges])
    pair_length = np.mean([np.linalg.norm(xy[i] - xy[j]) for i in range(0, 96, 5) for j in range(1, 96, 7)])
    assert edge_length < 0.4 * pair_length


def test_pictures_label_accounts_and_shared_identifiers_but_not_single_use_ones():
    small = prepare_graph(build_subgraph(n_ring=4, n_other=2, hostile=False))
    assert subgraph.labelled_nodes(small) == set(small)  # 12 nodes: everything
    mid = prepare_graph(build_subgraph(n_ring=20, n_other=20, hostile=False))
    mid.add_edge("account:A000", "identifier:device:lonely")
    mid.nodes["identifier:device:lonely"].update(
        node_type="identifier",
        kind="device",
        key="lonely",
        label="lonely",
        raw_values="[]",
        n_accounts=1,
        is_hub=False,
        expanded=True,
    )
    labelled = subgraph.labelled_nodes(mid)
    assert {v for v, d in mid.nodes(data=True) if d["node_type"] == "account"} <= labelled
    assert "identifier:device:lonely" not in labelled and "identifier:ip:ip-5" in labelled  # the hub


def test_the_html_view_labels_the_nodes_the_png_labels_with_the_same_text():
    """One labelling rule: the view gets the flag and the text from Python, the JS computes neither."""
    H = prepare_graph(build_subgraph(n_ring=40, n_other=60, hostile=False))
    data = html_view.view_data(H)
    ids = [node["id"] for node in data["nodes"]]
    assert {n for n, flag in zip(ids, data["labelled"]) if flag} == subgraph.labelled_nodes(H)
    assert 0 < sum(data["labelled"]) < len(ids)  # big enough that single-use identifiers go unlabelled
    long = html_view.view_data(prepare_graph(build_subgraph()))
    texts = {n["label"]: text for n, text in zip(long["nodes"], long["label_text"])}
    assert texts["<script>alert(1)</script>"] == "<script>alert(1)</script>"  # 25 characters: kept whole
    assert texts["line1\nline2\r\n"] == "line1 line2"  # one line
    assert all(len(t) <= 26 for t in texts.values())
    assert "nAccounts" not in html_view.graph_view_js()  # the rule is not re-implemented in the view
