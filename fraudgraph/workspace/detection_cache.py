"""Where a workspace keeps detection's memo (``fraudgraph.detection.memo``): one blob per name.

SQLite: a ``detection_cache`` table of the workspace file, written through a connection of its
own (the workspace's connection is left alone). Neo4j: a ``Meta`` node (key
``detection_cache.<name>``, the blob base64-encoded). The memo is content-addressed, so what is
stored here can never change a result: a lost or stale blob only costs time.
"""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

_TABLE = "CREATE TABLE IF NOT EXISTS detection_cache (name TEXT PRIMARY KEY, value BLOB NOT NULL)"


def read_blob(ws: Any, name: str) -> bytes | None:
    """The blob stored under ``name``, None when there is none (or the backend keeps none)."""
    if getattr(ws, "backend", None) == "sqlite":
        with _connect(ws, create=False) as db:
            try:
                row = db.execute("SELECT value FROM detection_cache WHERE name = ?", (name,)).fetchone()
            except sqlite3.OperationalError:  # no table yet: nothing was ever stored (reading makes none)
                return None
        return None if row is None else bytes(row[0])
    if getattr(ws, "backend", None) == "neo4j":
        rows = ws.run_query("read/meta_value", key=f"detection_cache.{name}")
        value = rows[0]["value"] if rows else None
        return base64.b64decode(value) if isinstance(value, str) and value else None
    return None


def write_blob(ws: Any, name: str, blob: bytes) -> None:
    """Store ``blob`` under ``name``, replacing what was there."""
    if getattr(ws, "backend", None) == "sqlite":
        with _connect(ws) as db:
            db.execute("INSERT OR REPLACE INTO detection_cache VALUES (?, ?)", (name, sqlite3.Binary(blob)))
    elif getattr(ws, "backend", None) == "neo4j":
        ws.run_query(
            "write/meta_value", write=True, key=f"detection_cache.{name}", value=base64.b64encode(blob).decode()
        )


class _connect:
    """A short-lived connection of our own to the workspace file; ``create`` makes the table."""

    def __init__(self, ws: Any, *, create: bool = True) -> None:
        self.db = sqlite3.connect(ws.path, timeout=30.0)
        self.create = create

    def __enter__(self) -> sqlite3.Connection:
        if self.create:
            self.db.execute(_TABLE)
        return self.db

    def __exit__(self, kind, *rest) -> None:
        if kind is None:
            self.db.commit()
        self.db.close()
