"""The SQLite workspace keeps the transactions in the columnar snapshot only (schema 5): by id, by
payer and by the account paid. Whatever way a load reaches them (a small load's delta parts, a
big load's, a whole rewrite), the reads by account must say what the whole table says, also when
a transaction moves to another payer or payee, or stops being a payment to an account."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from workspace_data import ACCOUNTS, LINKS, TXNS, make_dataset

from fraudgraph.model.frames import TRANSACTION_COLUMNS
from fraudgraph.workspace.sqlite import store
from fraudgraph.workspace.sqlite.schema import SCHEMA_VERSION
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

IDS = [a[0] for a in ACCOUNTS]

# Each load's transactions (merged over the stored ones by txn_id).
LOADS = [
    [  # t1's payer corrected from 007 to A3, a payment to A2 added
        ("t1", "A3", "A2", "account", 55.0, "2024-05-01T10:00:00", "settled"),
        ("t3", "A4", "A2", "account", 7.0, "2024-06-01T09:00:00", "settled"),
    ],
    [  # t1 was to a merchant after all; t3 paid 007, not A2
        ("t1", "A3", "A2", "merchant", 55.0, "2024-05-01T10:00:00", "settled"),
        ("t3", "A4", "007", "account", 7.0, "2024-06-01T09:00:00", "settled"),
    ],
    [  # t1 back as first loaded; t2 now to an account
        TXNS[0],
        ("t2", "A2", "A4", "account", 20.0, "2024-05-02T10:00:00", "chargeback"),
    ],
]


def _expected_of(everything: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    mine = everything["account_id"].isin(ids) | (
        everything["counterparty"].isin(ids) & (everything["counterparty_kind"] == "account")
    )
    return everything[mine].sort_values("txn_id").reset_index(drop=True)


def _expected_paid(everything: pd.DataFrame, ids: list[str]) -> list[tuple]:
    among = everything[
        everything["account_id"].isin(ids)
        & everything["counterparty"].isin(ids)
        & (everything["counterparty_kind"] == "account")
    ]
    out = []
    for (payer, payee), g in among.groupby(["account_id", "counterparty"], sort=True):
        out.append((payer, payee, g["amount"].sum(), len(g), g["timestamp"].min(), g["timestamp"].max()))
    return out


def _check_reads(ws: SqliteWorkspace) -> None:
    everything = ws.transactions()
    assert list(everything.columns) == TRANSACTION_COLUMNS
    for ids in [[a] for a in IDS] + [IDS, ["A2", "A4"], ["nobody"]]:
        got = ws.transactions(ids)
        pd.testing.assert_frame_equal(got, _expected_of(everything, ids), check_dtype=False, obj=str(ids))
        assert got["timestamp"].dtype == "datetime64[ns]" and got["amount"].dtype == "float64"
        paid = ws.paid_between(ids)
        assert list(paid.itertuples(index=False, name=None)) == _expected_paid(everything, ids)
    links = ws.links()
    accounts = ws.accounts()
    for account in IDS:
        times = [
            *accounts.loc[accounts["account_id"] == account, "created_at"].dropna(),
            *links.loc[links["account_id"] == account, "first_seen"].dropna(),
            *_expected_of(everything, [account])["timestamp"],
        ]
        assert ws.latest_timestamp_of([account]) == ((max(times), [account]) if times else (None, []))


@pytest.mark.parametrize("how", ["small", "big", "whole"], ids=["small-loads", "big-delta-loads", "rewritten-whole"])
def test_reads_by_account_follow_every_load(tmp_path, monkeypatch, how):
    if how == "big":  # big loads that add delta parts (the whole snapshot read to plan them)
        monkeypatch.setattr(store, "_SMALL_LOAD", 0)
    if how == "whole":
        monkeypatch.setattr(SqliteWorkspace, "_delta_room", lambda self: -1)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    _check_reads(ws)
    for txns in LOADS:
        ws.load(make_dataset(ACCOUNTS, LINKS, txns))
        _check_reads(ws)
        deltas = ws._count("snapshots WHERE name IN ('payments_out', 'payments_in') AND part >= 1000000")
        assert (deltas == 0) == (how == "whole")
    assert ws.transactions(["007"])["txn_id"].tolist() == ["t1", "t3"]
    assert ws.transactions(["A3"])["txn_id"].tolist() == []  # t1 moved back to 007
    assert ws.transactions(["A4"])["txn_id"].tolist() == ["t2", "t3"]
    tables = {r[0] for r in ws._db.execute("SELECT name FROM sqlite_master")}
    assert "transactions" not in tables
    ws.close()


def test_the_parts_know_their_ranges_and_an_account_reads_only_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(store.snapshot_parts, "ROWS_PER_PART", {"links": 2, "payments_out": 1, "payments_in": 1})
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS + LOADS[0][1:]))
    ranges = ws._db.execute(
        "SELECT name, first_id, last_id FROM snapshots WHERE name != 'holders' AND name != 'accounts' ORDER BY name, part"
    ).fetchall()
    assert [r for r in ranges if r[0] != "links"] == [
        ("payments_in", "A2", "A2"),  # t1 (007 -> A2) and t3 (A4 -> A2), by the account paid
        ("payments_in", "A2", "A2"),
        ("payments_out", "007", "007"),
        ("payments_out", "A2", "A2"),
        ("payments_out", "A4", "A4"),
        ("transactions", "t1", "t3"),
    ]
    read = []
    real = store.snapshot_parts.rows_of_parts
    monkeypatch.setattr(
        store.snapshot_parts, "rows_of_parts", lambda blobs, *a: read.append(len(blobs)) or real(blobs, *a)
    )
    assert ws.transactions(["A4"])["txn_id"].tolist() == ["t3"]
    assert read == [1]  # one part of payments_out, none of payments_in
    ws.close()


def test_a_schema_4_workspace_loses_its_table_and_answers_the_same(tmp_path, monkeypatch):
    path = tmp_path / "ws.db"
    ws = SqliteWorkspace(path)
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    ws.load(make_dataset(ACCOUNTS, LINKS, LOADS[0]))  # a small load: the snapshot has delta parts
    everything = ws.transactions()
    by_account = {a: ws.transactions([a]) for a in IDS}
    ws.close()
    # Schema 4: the transactions in a table beside the snapshot, which had no payments parts.
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE transactions (txn_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, counterparty TEXT NOT NULL,
            counterparty_kind TEXT NOT NULL, amount REAL NOT NULL, timestamp INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'settled') WITHOUT ROWID;
        CREATE INDEX transactions_by_account ON transactions (account_id);
        CREATE INDEX transactions_by_payee ON transactions (counterparty) WHERE counterparty_kind = 'account';
        DELETE FROM snapshots WHERE name IN ('payments_out', 'payments_in');
        UPDATE meta SET value = '4' WHERE key = 'schema_version';
        """
    )
    db.executemany(
        "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*r[:5], int(r[5].value), r[6]) for r in everything.itertuples(index=False, name=None)],
    )
    db.commit()
    db.close()
    ws = SqliteWorkspace(path)
    assert ws._meta_int("schema_version") == SCHEMA_VERSION
    tables = {r[0] for r in ws._db.execute("SELECT name FROM sqlite_master")}
    assert not tables & {"transactions", "transactions_by_account", "transactions_by_payee"}
    pd.testing.assert_frame_equal(ws.transactions(), everything)
    for account, expected in by_account.items():
        pd.testing.assert_frame_equal(ws.transactions([account]), expected, obj=account)
    _check_reads(ws)
    ws.load(make_dataset(ACCOUNTS, LINKS, LOADS[1]))  # a small load after it: finds t1 and t3 by id
    assert ws.last_load()["transactions_updated"] == 2
    _check_reads(ws)
    ws.close()
    SqliteWorkspace(path).close()  # opened again: nothing left to rewrite
