"""What the real-time check tests (command and workbench API) look up in a swept test world."""

from __future__ import annotations

import re
import sqlite3

import pandas as pd

STRONG = ("card", "device", "bank_account", "national_id")


def links_table(con: sqlite3.Connection, db) -> sqlite3.Connection:
    """``con`` with a temporary table ``links`` (account_id, kind, value, key, first_seen in ns) of
    every link the workspace ``db`` holds, as the workspace API reads them (schema 3 keeps no row
    per link in SQLite), so that tests can ask SQL about them. Refilled on every call."""
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    with SqliteWorkspace(db, create=False) as ws:
        links = ws.links()
    ns = links["first_seen"].astype("datetime64[ns]")
    rows = zip(
        links["account_id"].astype(object),
        links["kind"].astype(object),
        links["value"].astype(object),
        links["key"].astype(object).where(links["key"].notna(), None),
        [None if pd.isna(t) else int(t.value) for t in ns],
        strict=True,
    )
    con.execute("CREATE TEMP TABLE IF NOT EXISTS links (account_id, kind, value, key, first_seen)")
    con.execute("DELETE FROM temp.links")
    con.executemany("INSERT INTO temp.links VALUES (?, ?, ?, ?, ?)", rows)
    return con


def connect_with_links(db) -> sqlite3.Connection:
    """A connection to the workspace file ``db`` with its links as a table (``links_table``)."""
    return links_table(sqlite3.connect(db), db)


def suspended_strong_link(db) -> tuple[str, str, str, str]:
    """(account, ring, kind, raw value) of a suspended ring member's strong identifier (no hub)."""
    con = connect_with_links(db)
    try:
        row = con.execute(
            f"""SELECT d.account_id, d.ring_id, l.kind, l.value FROM decisions d
                JOIN links l ON l.account_id = d.account_id
                WHERE d.action = 'suspend' AND d.ring_id IS NOT NULL AND l.key IS NOT NULL
                  AND l.kind IN ({", ".join("?" * len(STRONG))})
                  AND NOT EXISTS (SELECT 1 FROM hubs h WHERE h.kind = l.kind AND h.key = l.key)
                ORDER BY d.account_id, l.kind, l.value LIMIT 1""",
            STRONG,
        ).fetchone()
    finally:
        con.close()
    assert row, "the test world has no suspended ring"
    return row


def sql_rows(db, sql: str, *params) -> list[tuple]:
    """Rows of one query against a workspace file, read outside the workspace API (its links as
    ``links_table`` gives them, when the query reads them)."""
    con = connect_with_links(db) if re.search(r"\blinks\b", sql) else sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
