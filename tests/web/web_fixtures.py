"""The workbench app over a workspace file, as `fraudgraph serve` builds it (shared by the tests)."""

from __future__ import annotations


def make_app(db_path, policy=None):
    from fraudgraph.model.config import load_config
    from fraudgraph.web.app import create_app
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    hub_cap = load_config(None).detection_config().hub_cap
    return create_app(lambda: SqliteWorkspace(db_path, create=False), hub_threshold=hub_cap, policy=policy)
