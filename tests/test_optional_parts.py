"""The Neo4j driver and matplotlib are optional extras: without them, the rest works and the
parts that need them say which extra to install, in one line."""

from __future__ import annotations

import builtins

import networkx as nx
import pytest

from fraudgraph.errors import FraudGraphError, WorkspaceError


@pytest.fixture
def without(monkeypatch):
    """Make ``import NAME`` (and its submodules) fail, as when the extra is not installed."""

    def block(*names: str) -> None:
        real = builtins.__import__

        def fake(name, *args, **kwargs):
            if name.split(".")[0] in names:
                raise ImportError(f"No module named {name!r}")
            return real(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", fake)

    return block


def test_a_neo4j_workspace_without_the_driver_names_the_extra(without):
    from fraudgraph.workspace.neo4j.store import connect

    without("neo4j")
    with pytest.raises(WorkspaceError, match=r"pip install 'fraudgraph\[neo4j\]'"):
        connect("bolt://127.0.0.1:7687", "neo4j", "secret")


def test_a_png_without_matplotlib_names_the_extra_and_other_formats_work(without, tmp_path):
    from fraudgraph.outputs.export import export_graph

    G = nx.Graph()
    G.add_node(("account", "A1"), node_type="account")
    without("matplotlib")
    with pytest.raises(FraudGraphError, match=r"pip install 'fraudgraph\[png\]'"):
        export_graph(G, tmp_path / "g.png")
    export_graph(G, tmp_path / "g.graphml")
    assert (tmp_path / "g.graphml").stat().st_size > 0
