"""Workbench fixtures: the swept 3,000-account world of tests/conftest.py behind the web app."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from web_fixtures import make_app


@pytest.fixture
def client(db_copy):
    """A test client of the workbench over a private copy of the swept workspace."""
    from starlette.testclient import TestClient

    with TestClient(make_app(db_copy)) as c:
        yield c


@pytest.fixture
def read_ws(db_copy):
    """Open the same workspace file to check what the workbench wrote."""
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    opened = []

    def open_():
        ws = SqliteWorkspace(db_copy, create=False)
        opened.append(ws)
        return ws

    yield open_
    for ws in opened:
        ws.close()
