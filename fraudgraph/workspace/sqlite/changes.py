"""What changed in a workspace's data since a data version: the change log a delta sweep reads.

Every small load (``check --apply``, ``load --delta`` of up to ``_SMALL_LOAD`` rows) and every
analyst label records the accounts whose rows it wrote (an account row; a link; a transaction, as
payer or paying account) and the identifiers (kind, key) its links hold now or held before, in
the same transaction as the rows. A big load records nothing: a sweep after it recomputes whole.

The log is one table, created on first use (a workspace from before it has none: its next sweep
recomputes whole, as after a big load). Each recorded change set has a marker row (no account,
no identifier) so a missing set is told from an empty one. A written sweep forgets the sets it
has taken in, so the log holds only what came after the last sweep.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from fraudgraph.workspace.sqlite.bulk import insert_head, insert_rows

_COLUMNS = ["source", "seq", "account_id", "kind", "key"]

_TABLE = (
    "CREATE TABLE IF NOT EXISTS data_changes (source TEXT NOT NULL, seq INTEGER NOT NULL, "
    "account_id TEXT, kind TEXT, key TEXT)"
)
_INDEX = "CREATE INDEX IF NOT EXISTS data_changes_by_seq ON data_changes (source, seq)"


def record(db: sqlite3.Connection, source: str, seq: int, accounts: Iterable[str], pairs: Iterable[tuple]) -> None:
    """Record one change set (``source`` 'load' with its load_id, or 'label' with the labels
    version it made), inside the caller's transaction."""
    db.execute(_TABLE)
    db.execute(_INDEX)
    rows: list[tuple[str, int, str | None, str | None, str | None]] = [(source, seq, None, None, None)]
    rows += [(source, seq, str(a), None, None) for a in sorted(set(accounts))]
    rows += [(source, seq, None, str(k), str(v)) for k, v in sorted(set(pairs)) if isinstance(v, str)]
    insert_rows(db, insert_head("data_changes", _COLUMNS), len(_COLUMNS), rows)


def parse_version(version: str) -> tuple[int, int] | None:
    """(last load id, labels version) of a ``data_version`` string ("12/3"); None if it is not one."""
    try:
        load, labels = str(version).split("/")
        return int(load), int(labels)
    except ValueError:
        return None


def since(db: sqlite3.Connection, before: str, now: str) -> tuple[set[str], set[tuple[str, str]]] | None:
    """The accounts and identifiers changed between data versions ``before`` and ``now``; None
    when some change in between was not recorded (a big load, a workspace older than the log)."""
    old, new = parse_version(before), parse_version(now)
    if old is None or new is None or old[0] > new[0] or old[1] > new[1]:
        return None
    try:
        sets = db.execute(
            "SELECT source, seq FROM data_changes WHERE account_id IS NULL AND kind IS NULL AND "
            "((source = 'load' AND seq > ? AND seq <= ?) OR (source = 'label' AND seq > ? AND seq <= ?))",
            (old[0], new[0], old[1], new[1]),
        ).fetchall()
    except sqlite3.OperationalError:  # no log yet
        return None if old != new else (set(), set())
    if len(set(sets)) != (new[0] - old[0]) + (new[1] - old[1]):
        return None
    rows = db.execute(
        "SELECT account_id, kind, key FROM data_changes WHERE "
        "((source = 'load' AND seq > ? AND seq <= ?) OR (source = 'label' AND seq > ? AND seq <= ?)) "
        "AND (account_id IS NOT NULL OR kind IS NOT NULL)",
        (old[0], new[0], old[1], new[1]),
    ).fetchall()
    accounts = {a for a, _, _ in rows if a is not None}
    pairs = {(k, v) for _, k, v in rows if k is not None}
    return accounts, pairs


def prune(db: sqlite3.Connection, version: str | None) -> None:
    """Forget the change sets a sweep at data version ``version`` has taken in (the next sweep asks
    only for what came after it), inside the caller's transaction."""
    at = parse_version(version) if version else None
    if at is None:
        return
    try:
        db.execute(
            "DELETE FROM data_changes WHERE (source = 'load' AND seq <= ?) OR (source = 'label' AND seq <= ?)", at
        )
    except sqlite3.OperationalError:  # no log yet
        pass
