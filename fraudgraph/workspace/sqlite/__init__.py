"""The embedded workspace: one SQLite file (WAL), its schema, queries and sweep lock."""

from fraudgraph.workspace.sqlite.store import SqliteWorkspace

__all__ = ["SqliteWorkspace"]
