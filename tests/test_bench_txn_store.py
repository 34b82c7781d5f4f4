"""benchmarks/bench_txn_store.py answers as the workspace does: its holder view of the
transactions gives some accounts' transactions and the payments among them as the indexed rows
give them, so the read times it compares are of the same answer. The view's parts are made small
here (the 3,000-account world would be one part of the real size), so finding the parts that hold
an account is exercised too."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudgraph.workspace.sqlite.store import SqliteWorkspace


@pytest.fixture(scope="module")
def bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_txn_store.py"
    spec = importlib.util.spec_from_file_location("bench_txn_store", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def small_parts(bench, monkeypatch):
    monkeypatch.setattr(bench, "_PART", 512)
    monkeypatch.setattr(bench, "_GROUP", 128)


@pytest.fixture
def view(bench, small_parts, db_copy, tmp_path):
    """The loaded workspace, its transactions, and their view in parts of 512 rows."""
    with SqliteWorkspace(db_copy) as ws:
        txns = ws.transactions()
        built, db = bench.write_view(txns, ws.accounts()["account_id"], tmp_path / "view.db")
        try:
            yield ws, txns, built, db
        finally:
            db.close()


def _paying_groups(txns, n: int) -> list[list[str]]:
    """Groups of accounts that pay each other: each a payer and the accounts it paid."""
    paid = txns[txns["counterparty_kind"] == "account"]
    groups = []
    for payer, rows in paid.groupby("account_id", sort=True):
        groups.append(sorted({str(payer), *map(str, rows["counterparty"])}))
        if len(groups) == n:
            break
    return groups


def test_the_view_is_in_holder_then_txn_order_over_many_parts(bench, view):
    _, txns, built, db = view
    assert built["parts"] > 10
    assert built["rows"] == len(txns) + int((txns["counterparty_kind"] == "account").sum())
    ranges = db.execute("SELECT first_id, last_id FROM view ORDER BY part").fetchall()
    assert all(a <= b for a, b in ranges)
    assert all(ranges[i][1] <= ranges[i + 1][0] for i in range(len(ranges) - 1))
    rows = bench.view_transactions(db, sorted(set(txns["account_id"].astype(str))))
    assert len(rows) == len(txns)  # every transaction, once


def test_the_holder_view_answers_as_the_rows_do(bench, view):
    ws, txns, _, db = view
    groups = _paying_groups(txns, 5)
    assert groups, "the test world has no payments between accounts"
    payers = sorted(set(txns["account_id"].astype(str)))
    between = [payers[10] + "0", payers[200] + "0"]  # sort between two accounts: in no part's rows
    asked = [
        *groups,
        sorted({a for g in groups for a in g}),
        ["A-nobody"],
        between,
        payers[:40],
        [*payers[::97], *between],
    ]
    among = 0
    for ids in asked:
        sql_rows, sql_paid = ws.transactions(ids), ws.paid_between(ids)
        view_rows, view_paid = bench.view_transactions(db, ids), bench.view_paid_between(db, ids)
        assert bench.same_answer(sql_rows, sql_paid, view_rows, view_paid) == (True, True), ids
        among += len(sql_paid)
    assert among > 0  # payments among the accounts asked were compared, not only none


def test_a_different_answer_is_caught(bench, view):
    ws, txns, _, db = view
    ids = _paying_groups(txns, 1)[0]
    sql_rows, sql_paid = ws.transactions(ids), ws.paid_between(ids)
    view_rows, view_paid = bench.view_transactions(db, ids), bench.view_paid_between(db, ids)
    assert len(sql_rows) > 1 and len(sql_paid) > 0
    first = np.zeros(len(view_rows))
    first[0] = 1
    changed_rows = [
        view_rows.iloc[1:],
        view_rows.assign(amount=view_rows["amount"] + 0.01 * first),
        view_rows.assign(status=["reversed", *view_rows["status"].tolist()[1:]]),
        view_rows.assign(timestamp=view_rows["timestamp"] + pd.to_timedelta(first, unit="ns")),
    ]
    for changed in changed_rows:
        assert bench.same_answer(sql_rows, sql_paid, changed, view_paid)[0] is False
    changed_paid = [
        view_paid.iloc[:0],
        view_paid.assign(count=view_paid["count"] + 1),
        view_paid.assign(amount=view_paid["amount"] + 0.01),
        view_paid.assign(last_ts=view_paid["first_ts"] - pd.Timedelta(1, "ns")),
    ]
    for changed in changed_paid:
        assert bench.same_answer(sql_rows, sql_paid, view_rows, changed)[1] is False


def test_a_holder_outside_the_accounts_is_refused(bench, db_copy):
    with SqliteWorkspace(db_copy) as ws:
        txns = ws.transactions()
        accounts = ws.accounts()["account_id"]
        paid = txns.index[txns["counterparty_kind"] == "account"][0]
        with pytest.raises(ValueError, match="not among the accounts"):
            bench.holder_view(
                txns.assign(counterparty=txns["counterparty"].where(txns.index != paid, "A-zz")), accounts
            )


def test_the_benchmark_runs_on_a_workspace(bench, small_parts, db_copy, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["bench_txn_store.py", "--db", str(db_copy), "--repeat", "1"])
    bench.main()
    out = capsys.readouterr().out
    assert "the same answer both ways" in out
    assert "read paid_between, holder view:" in out and "write, SQLite rows:" in out
    assert sorted(p.name for p in db_copy.parent.iterdir()) == [db_copy.name]  # its files are gone
