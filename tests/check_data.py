"""What the real-time check tests (command and workbench API) look up in a swept test world."""

from __future__ import annotations

import sqlite3

STRONG = ("card", "device", "bank_account", "national_id")


def suspended_strong_link(db) -> tuple[str, str, str, str]:
    """(account, ring, kind, raw value) of a suspended ring member's strong identifier (no hub)."""
    con = sqlite3.connect(db)
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
    """Rows of one query against a workspace file, read outside the workspace API."""
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
