"""The SQLite workspace's schema: tables, the indexes built after a first bulk load, and the
upsert statements a load runs."""

from __future__ import annotations

from fraudgraph.model.frames import ACTIONS

SCHEMA_VERSION = 4

# 16 KB pages: a load or sweep writes a quarter of the pages (and the WAL frames) 4 KB ones take,
# and rows of 2-3 KB (a ring's features and reasons) no longer take a page each: the 1M load 66 -> 61 s,
# its sweep's commit 6.8 -> 4.7 s; `check` and the investigation answer as fast (measured). A
# workspace's staging files take them too (``staging``).
PAGE_SIZE = 16384

# Who holds an identifier: one row per link that carries an identity, under a 64-bit hash of its
# kind and key, with the account and the raw spelling. The links themselves are in the columnar
# snapshot only, read by account from its small parts (see sqlite/linkrows.py). Schema 2 had a
# text row per link instead (a workspace of it is rewritten when first opened).
LINK_TABLES = """
CREATE TABLE IF NOT EXISTS identifier_accounts (
    h INTEGER NOT NULL, account_id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (h, account_id, value)
) WITHOUT ROWID;
"""

# Who was paid by account: only transactions to an account are looked up by counterparty (an
# account's page, who paid whom in a ring), a ninth of them in a bank's data; a merchant's id is
# not an account's. Schema 3 indexed every counterparty.
PAYEE_INDEX = (
    "CREATE INDEX IF NOT EXISTS transactions_by_payee ON transactions (counterparty) "
    "WHERE counterparty_kind = 'account'"
)

# Schema 4: the holders are the ``holders`` snapshot's parts, sorted by hash (sqlite/holders.py);
# ``identifier_accounts`` holds those added since it was written, this table those gone (the part
# that can hold a hash is found by the parts' ranges, ``snapshot_ranges``); and the payee index.
# Schema 3 had every holder in ``identifier_accounts`` (read the same way: no part, nothing gone).
SCHEMA_4 = f"""
CREATE TABLE IF NOT EXISTS identifier_gone (
    h INTEGER NOT NULL, account_id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (h, account_id, value)
) WITHOUT ROWID;
DROP INDEX IF EXISTS transactions_by_counterparty;
{PAYEE_INDEX};
"""

# Which accounts each snapshot part holds, read without touching its data: the columns after a
# blob are read by walking the blob's pages (60 ms for the 520 parts of the 1M links, 1 ms here).
SNAPSHOT_RANGES = "CREATE INDEX IF NOT EXISTS snapshot_ranges ON snapshots (name, part, first_id, last_id);"

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    created_at INTEGER,
    credit_limit REAL,
    balance REAL,
    overdue_days INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',
    label TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    analyst_label TEXT,
    analyst_label_set INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""
    + LINK_TABLES
    + """CREATE TABLE IF NOT EXISTS transactions (
    txn_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    counterparty TEXT NOT NULL,
    counterparty_kind TEXT NOT NULL,
    amount REAL NOT NULL,
    timestamp INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'settled'
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transactions_by_account ON transactions (account_id);
CREATE TABLE IF NOT EXISTS loads (
    load_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    as_of TEXT,
    seed INTEGER,
    engine TEXT,
    policy_hash TEXT,
    dry_run INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL,
    diff TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rings (
    ring_id TEXT PRIMARY KEY, size INTEGER, score REAL, exposure REAL, features TEXT, reasons TEXT
);
CREATE TABLE IF NOT EXISTS ring_members (ring_id TEXT NOT NULL, account_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rings_by_score ON rings (score DESC, exposure DESC, ring_id);
CREATE INDEX IF NOT EXISTS ring_members_by_ring ON ring_members (ring_id);
CREATE INDEX IF NOT EXISTS ring_members_by_account ON ring_members (account_id);
CREATE TABLE IF NOT EXISTS ring_identifiers (
    ring_id TEXT NOT NULL, kind TEXT, key TEXT, n_members INTEGER, n_accounts INTEGER, raw_values TEXT
);
CREATE INDEX IF NOT EXISTS ring_identifiers_by_ring ON ring_identifiers (ring_id);
CREATE TABLE IF NOT EXISTS account_scores (
    account_id TEXT PRIMARY KEY, score REAL, ring_id TEXT, reasons TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hubs (kind TEXT, key TEXT, n_accounts INTEGER, reason TEXT);
CREATE INDEX IF NOT EXISTS hubs_by_identifier ON hubs (kind, key);
CREATE TABLE IF NOT EXISTS decisions (
    account_id TEXT PRIMARY KEY, action TEXT, trigger TEXT, score REAL, ring_id TEXT, reasons TEXT,
    credit_limit REAL, new_credit_limit REAL, evidence TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_by_action ON decisions (action);
CREATE TABLE IF NOT EXISTS account_state (
    account_id TEXT PRIMARY KEY, action TEXT, trigger TEXT, status TEXT, credit_limit REAL,
    original_credit_limit REAL, manual INTEGER NOT NULL DEFAULT 0, evidence TEXT, updated_at TEXT,
    sweep_id TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, sweep_id TEXT, actor TEXT NOT NULL, account_id TEXT NOT NULL, event TEXT NOT NULL,
    previous_action TEXT, new_action TEXT, previous_status TEXT, new_status TEXT,
    previous_limit REAL, new_limit REAL, score REAL, reasons TEXT, policy_hash TEXT, note TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_account ON audit (account_id);
-- The audit trail is append-only: the database itself refuses to rewrite history.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS notices (
    notice_id TEXT PRIMARY KEY, sweep_id TEXT, account_id TEXT NOT NULL, created_at TEXT,
    category TEXT, action TEXT, subject TEXT, body TEXT, customer_actions TEXT, repayment_plan TEXT,
    seq INTEGER
);
-- Columnar copies (Parquet, in parts) of the three data tables, kept by each load in the same
-- transaction: a sweep reads millions of links in a second instead of a minute of rows. Parts
-- numbered from 1000000 hold later loads' rows (merged over the others when read) until a load
-- rewrites the copy whole. The counts `status` shows are kept by the loads too (meta
-- 'status_counts'), so it never counts millions of links.
CREATE TABLE IF NOT EXISTS snapshots (name TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL,
    first_id TEXT, last_id TEXT, PRIMARY KEY (name, part));
"""
    + SNAPSHOT_RANGES
    + SCHEMA_4
    + """
CREATE TABLE IF NOT EXISTS reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL, verdict TEXT NOT NULL, note TEXT, actor TEXT, at TEXT NOT NULL, evidence TEXT
);
"""
)

SECONDARY_INDEXES = [
    (
        "transactions_by_account",
        "transactions",
        "CREATE INDEX IF NOT EXISTS transactions_by_account ON transactions (account_id)",
    ),
    ("transactions_by_payee", "transactions", PAYEE_INDEX),
]


def upsert_clause(table: str, key: str, columns: list[str]) -> str:
    """The ``ON CONFLICT`` clause of an INSERT of ``columns`` that updates an existing row only
    where a value really changed, so ``total_changes`` counts real updates and an identical
    reload changes nothing."""
    rest = [c for c in columns if c != key]
    return (
        f" ON CONFLICT ({key}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)} "
        f"WHERE {' OR '.join(f'{table}.{c} IS NOT excluded.{c}' for c in rest)}"
    )


# The real-time check's point queries (Workspace.check_lookup), each through an index: hubs by
# (kind, key), holders by the identifier's hash, and the result and state tables by account_id or ring_id.
# The action and status in force: an applied state row wins over the sweep's decision.
_SEVERITY = "CASE coalesce(st.action, d.action, 'none') " + " ".join(
    f"WHEN '{action}' THEN {rank}" for rank, action in enumerate(ACTIONS)
)
_ACCOUNT_VIEW = """SELECT a.account_id, s.ring_id, s.score, coalesce(st.action, d.action, 'none'),
       coalesce(st.status, a.status), coalesce(st.trigger, d.trigger, 'none')
FROM {source}
LEFT JOIN account_scores s ON s.account_id = a.account_id
LEFT JOIN decisions d ON d.account_id = a.account_id
LEFT JOIN account_state st ON st.account_id = a.account_id"""
CHECK_HUB = "SELECT n_accounts, reason FROM hubs WHERE kind = ? AND key = ? LIMIT 1"
CHECK_ACCOUNT = _ACCOUNT_VIEW.format(source="accounts a") + " WHERE a.account_id = ?"
# A ring's action: the most severe one its members hold for fraud (not for a credit trigger).
CHECK_RING = f"""SELECT r.ring_id, r.size, r.score,
       (SELECT json_group_array(json_extract(j.value, '$.code')) FROM json_each(r.reasons) j),
       (SELECT max({_SEVERITY} ELSE 0 END) FROM ring_members m
          LEFT JOIN decisions d ON d.account_id = m.account_id
          LEFT JOIN account_state st ON st.account_id = m.account_id
        WHERE m.ring_id = r.ring_id
          AND coalesce(st.trigger, d.trigger, 'none') NOT IN ('overdue', 'utilization'))
FROM rings r WHERE r.ring_id = ?"""
