"""benchmarks/bench_txn_store.py answers as the workspace does: its holder view of the
transactions gives an account's transactions and the payments among accounts as the indexed rows
give them, so the read times it compares are of the same answer."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from fraudgraph.workspace.sqlite.store import SqliteWorkspace


@pytest.fixture(scope="module")
def bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_txn_store.py"
    spec = importlib.util.spec_from_file_location("bench_txn_store", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _paying_groups(txns, n: int) -> list[list[str]]:
    """Groups of accounts that pay each other: each a payer and its paid accounts."""
    paid = txns[txns["counterparty_kind"] == "account"]
    groups = []
    for payer, rows in paid.groupby("account_id", sort=True):
        groups.append(sorted({str(payer), *map(str, rows["counterparty"])}))
        if len(groups) == n:
            break
    return groups


def test_the_holder_view_answers_as_the_rows_do(bench, db_copy):
    with SqliteWorkspace(db_copy) as ws:
        txns = ws.transactions()
        _, parts = bench.write_view(txns, ws.accounts()["account_id"])
        groups = _paying_groups(txns, 5)
        assert groups, "the test world has no payments between accounts"
        unknown = ["A-nobody"]
        asked = [*groups, sorted({a for g in groups for a in g}), unknown, sorted(txns["account_id"].astype(str))[:40]]
        among = 0
        for ids in asked:
            sql_rows, sql_paid = ws.transactions(ids), ws.paid_between(ids)
            view_rows, view_paid = bench.read_view(parts, ids)
            assert bench.same_answer(sql_rows, sql_paid, view_rows, view_paid) == (True, True), ids
            among += len(sql_paid)
        assert among > 0  # payments among the accounts asked were compared, not only none


def test_a_different_answer_is_caught(bench, db_copy):
    with SqliteWorkspace(db_copy) as ws:
        txns = ws.transactions()
        _, parts = bench.write_view(txns, ws.accounts()["account_id"])
        ids = _paying_groups(txns, 1)[0]
        sql_rows, sql_paid = ws.transactions(ids), ws.paid_between(ids)
        view_rows, view_paid = bench.read_view(parts, ids)
        assert bench.same_answer(sql_rows.iloc[1:], sql_paid, view_rows, view_paid)[0] is False
        assert bench.same_answer(sql_rows, sql_paid.iloc[:0], view_rows, view_paid)[1] is False


def test_the_benchmark_runs_on_a_workspace(bench, db_copy, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["bench_txn_store.py", "--db", str(db_copy), "--repeat", "1"])
    bench.main()
    out = capsys.readouterr().out
    assert "the same answer both ways" in out
    assert "read, holder view:" in out and "write, SQLite rows:" in out
