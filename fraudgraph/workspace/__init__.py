"""Storage behind one small interface: SQLite by default, Neo4j over Bolt for scale."""

from fraudgraph.workspace.base import LoadSummary, Neighbourhood, SweepRecord, Workspace
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

__all__ = ["LoadSummary", "Neighbourhood", "SqliteWorkspace", "SweepRecord", "Workspace"]
