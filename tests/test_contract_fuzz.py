"""Fuzz: random defects written into a small valid folder never crash a load nor touch the workspace.

Every defect drawn here breaks the contract for sure (a bad cell, a wrong Parquet column type, a
truncated gzip or Parquet file, a missing required column), so each load must exit 1 with one
``Error:`` line naming a file of the folder, print no traceback or "internal error", and leave
the workspace file byte for byte as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from fraudgraph.cli import cli

VALID = {
    "accounts": {
        "account_id": ["A1", "A2", "A3"],
        "created_at": ["2024-01-01", "2024-01-02", "2024-01-03"],
        "credit_limit": ["1000", "", "2500.50"],
        "overdue_days": ["0", "", "30"],
    },
    "links": {
        "account_id": ["A1", "A2", "A3"],
        "kind": ["email", "email", "device"],
        "value": ["a@b.com", "a@b.com", "dev-1"],
        "first_seen": ["2024-01-05", "", "2024-02-01"],
    },
    "transactions": {
        "txn_id": ["T1", "T2"],
        "account_id": ["A1", "A2"],
        "counterparty": ["A2", "M-77"],
        "counterparty_kind": ["account", "merchant"],
        "amount": ["120.5", "3"],
        "timestamp": ["2024-03-01T14:30:00Z", "2024-03-02"],
    },
}

control = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\n", "\r"])
printable = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=8)
with_control = st.builds(lambda a, c, b: a + c + b, printable, control, printable)
too_long_id = st.integers(129, 5000).map(lambda n: "i" * n)
too_long_value = st.integers(513, 20000).map(lambda n: "v" * n)
# Cell values that break the contract whatever the row, by kind of column.
BAD_CELLS = {
    ("accounts", "account_id"): st.one_of(with_control, too_long_id, st.just("")),
    ("accounts", "created_at"): st.sampled_from(["1900-01-01", "2199-01-01", "yesterday", "", "2024-13-01"]),
    ("accounts", "credit_limit"): st.sampled_from(["1e308", "-5", "2e12", "inf", "lots", "NaN"]),
    ("accounts", "overdue_days"): st.sampled_from(["-1", "1.5", "x", "1e300"]),
    ("links", "account_id"): st.one_of(with_control, too_long_id, st.just("ghost")),
    ("links", "kind"): st.sampled_from(["fax", "", "Email"]),
    ("links", "value"): st.one_of(with_control, too_long_value),
    ("links", "first_seen"): st.sampled_from(["1800-01-01", "1969-12-31T23:59:59Z", "2199-01-01", "soon"]),
    ("transactions", "txn_id"): st.one_of(with_control, too_long_id, st.just("")),
    ("transactions", "amount"): st.sampled_from(["1e308", "0", "-3", "", "-inf"]),
    ("transactions", "timestamp"): st.sampled_from(["1900-01-01T00:00:00Z", "2300-01-01", ""]),
    ("transactions", "counterparty_kind"): st.sampled_from(["bank", ""]),
}
WRONG_PARQUET_TYPES = [
    ("accounts", "account_id", pa.array([1, 2, 3])),
    ("links", "account_id", pa.array([1.0, 2.0, 3.0])),
    ("links", "value", pa.array([{"x": 1}, {"x": 2}, {"x": 3}])),
    ("accounts", "overdue_days", pa.array([0.0, float("nan"), 1.0])),
    ("accounts", "created_at", pa.array([True, False, True])),
    ("transactions", "amount", pa.array([[1.0], [2.0]])),
    ("accounts", "nested", pa.array([[1], [], [2]])),
]


@st.composite
def defects(draw):
    fmt = draw(st.sampled_from(["csv", "csv.gz", "parquet"]))
    how = draw(st.sampled_from(["cell", "cell", "cell", "drop column", "truncate", "type"]))
    if how == "type":
        fmt = "parquet"
    if how == "truncate" and fmt == "csv":
        fmt = draw(st.sampled_from(["csv.gz", "parquet"]))
    if how == "cell":
        table, column = draw(st.sampled_from(sorted(BAD_CELLS)))
        row = draw(st.integers(0, len(VALID[table][column]) - 1))
        return fmt, how, (table, column, row, draw(BAD_CELLS[(table, column)]))
    if how == "drop column":
        table = draw(st.sampled_from(["accounts", "links"]))
        return fmt, how, (table, draw(st.sampled_from(["account_id", "created_at" if table == "accounts" else "kind"])))
    if how == "truncate":
        return fmt, how, (draw(st.sampled_from(sorted(VALID))), draw(st.floats(0.0, 1.0)))
    return fmt, how, draw(st.sampled_from(WRONG_PARQUET_TYPES))


def write_table(folder: Path, name: str, table: pa.Table, fmt: str) -> Path:
    if fmt == "parquet":
        path = folder / f"{name}.parquet"
        pq.write_table(table, path)
        return path
    text = table.to_pandas().to_csv(index=False).encode("utf-8")
    path = folder / f"{name}.{fmt}"
    path.write_bytes(gzip.compress(text) if fmt == "csv.gz" else text)
    return path


def broken_folder(folder: Path, fmt: str, how: str, detail) -> None:
    data = {name: dict(columns) for name, columns in VALID.items()}
    if how == "cell":
        table, column, row, value = detail
        data[table][column] = list(data[table][column])
        data[table][column][row] = value
    elif how == "drop column":
        del data[detail[0]][detail[1]]
    arrow = {name: pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()}) for name, cols in data.items()}
    if how == "type":
        table, column, array = detail
        current = arrow[table]
        if column in current.column_names:
            arrow[table] = current.set_column(current.column_names.index(column), column, array)
        else:
            arrow[table] = current.append_column(column, array)
    for name, table in arrow.items():
        path = write_table(folder, name, table, fmt)
        if how == "truncate" and name == detail[0]:
            raw = path.read_bytes()
            # gzip: cut before the end of the deflate stream; Parquet: the footer is then missing
            cut = int(detail[1] * (len(raw) - 9 if fmt == "csv.gz" else len(raw) - 1))
            path.write_bytes(raw[:cut])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    good = root / "good"
    good.mkdir()
    for name, columns in VALID.items():
        pd.DataFrame(columns).to_csv(good / f"{name}.csv", index=False)
    db = root / "ws.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "load", str(good)])
    assert result.exit_code == 0, result.output
    return db


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(defect=defects())
def test_random_defects_are_one_line_input_errors_and_change_nothing(workspace, defect):
    fmt, how, detail = defect
    before = hashlib.sha256(workspace.read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        broken_folder(folder, fmt, how, detail)
        result = CliRunner().invoke(cli, ["--db", str(workspace), "load", str(folder)])
    assert result.exit_code == 1, (defect, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    names = [f"{name}.{fmt}" for name in VALID]
    assert any(name in errors[0] for name in names), errors[0]
    assert hashlib.sha256(workspace.read_bytes()).hexdigest() == before
