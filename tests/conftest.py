"""Shared fixtures: a small synthetic world written to disk, and a workspace loaded and swept from it."""

from __future__ import annotations

import pytest

_WORKSPACE_VARIABLES = (
    "FRAUDGRAPH_DB",
    "FRAUDGRAPH_CONFIG",
    "FRAUDGRAPH_NEO4J_URI",
    "FRAUDGRAPH_NEO4J_USER",
    "FRAUDGRAPH_NEO4J_PASSWORD",
    "FRAUDGRAPH_NEO4J_DATABASE",
)


@pytest.fixture(autouse=True)
def _workspace_from_arguments_only(monkeypatch, request):
    """Tests choose their workspace explicitly: a developer's FRAUDGRAPH_* settings (or the local
    Bolt server's exports) must never send a SQLite test's CLI calls to another workspace."""
    if request.node.get_closest_marker("neo4j") is None:
        for name in _WORKSPACE_VARIABLES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _the_width_of_a_pipe(monkeypatch):
    """The CLI's tables take the terminal's width, and 100 columns when stdout is not a terminal:
    the tests read them at those 100 columns, whatever terminal (or pytest-xdist's worker, which
    sets COLUMNS to the controller's width) runs them. A test that wants another width says so."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory):
    """A 3,000-account synthetic world in the data contract's CSV form (plus truth.csv)."""
    from fraudgraph.synthetic.world import generate_world, write_world

    out = tmp_path_factory.mktemp("world")
    write_world(generate_world(3000, seed=11), out)
    return out


@pytest.fixture(scope="session")
def swept_db(tmp_path_factory, world_dir):
    """A workspace file with the world loaded and one sweep done; tests copy it before writing."""
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    path = tmp_path_factory.mktemp("ws") / "swept.db"
    with SqliteWorkspace(path) as ws:
        ws.load(read_dataset(world_dir))
        run_sweep(ws, seed=0)
    return path


@pytest.fixture
def db_copy(swept_db, tmp_path):
    """A private copy of the swept workspace a test may change."""
    import sqlite3

    dst = tmp_path / "ws.db"
    src = sqlite3.connect(swept_db)
    out = sqlite3.connect(dst)
    src.backup(out)
    src.close()
    out.close()
    return dst
