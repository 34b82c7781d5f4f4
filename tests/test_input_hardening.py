"""Input hardening (issue 14): limits on values, unreadable files, Parquet types checked per column,
and a fuzz test that a broken folder never crashes and never changes the workspace."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from fraudgraph.cli import cli
from fraudgraph.errors import InputError
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.model.limits import InputLimits

ACCOUNTS = "account_id,created_at,credit_limit,balance,overdue_days\nA1,2026-01-01,1000,10,0\nA2,2026-01-02,2000,0,0\n"
LINKS = (
    "account_id,kind,value,first_seen\nA1,card,4111 1111 1111 1111,2026-01-03\nA2,card,4111111111111111,2026-01-04\n"
)
TXNS = (
    "txn_id,account_id,counterparty,counterparty_kind,amount,timestamp\n"
    "T1,A1,A2,account,50,2026-01-05\nT2,A2,shop-1,merchant,20,2026-01-06\n"
)


def folder(tmp_path: Path, **tables: str) -> Path:
    out = tmp_path / "data"
    out.mkdir(exist_ok=True)
    for name, text in {"accounts": ACCOUNTS, "links": LINKS, "transactions": TXNS, **tables}.items():
        if text is not None:
            (out / f"{name}.csv").write_text(text, encoding="utf-8")
    return out


def problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(InputError) as err:
        read_dataset(path, **kwargs)
    return [str(p) for p in err.value.problems]


def load(db: Path, data: Path):
    return CliRunner().invoke(cli, ["--db", str(db), "-q", "load", str(data)])


def snapshot(db: Path) -> dict[str, list]:
    """Every table's rows: what a rejected load must leave exactly as it was."""
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: sorted(map(repr, con.execute(f"SELECT * FROM {n}"))) for n in names if n != "loads"}
    finally:
        con.close()


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 1 and len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_a_good_folder_passes_every_limit(tmp_path):
    ds = read_dataset(folder(tmp_path))
    assert len(ds.accounts) == 2 and len(ds.links) == 2 and len(ds.transactions) == 2


def test_a_nul_byte_in_an_identifier_value_is_refused_on_one_line(tmp_path):
    data = folder(tmp_path, links="account_id,kind,value\nA1,device,dev\x00ice\nA2,card,4111111111111111\n")
    assert problems(data) == ["links.csv:2: column value: value 'dev\\x00ice' holds a control character"]


def test_a_multi_line_address_is_fine_but_a_newline_in_an_id_is_not(tmp_path):
    accounts = ACCOUNTS + '"A\n3",2026-01-03,10,0,0\n'
    links = 'account_id,kind,value\nA1,address,"1 Main St\nApt 4"\nA2,card,4111111111111111\n'
    found = problems(folder(tmp_path, accounts=accounts, links=links))
    assert found == ["accounts.csv:4: column account_id: account_id 'A\\n3' holds a control character"]


def test_megabyte_ids_and_values_are_refused_without_printing_them(tmp_path):
    big = "x" * 1_000_000
    data = folder(tmp_path, links=f"account_id,kind,value\nA1,device,{big}\nA2,card,4111111111111111\n")
    (line,) = problems(data)
    assert line.startswith("links.csv:2: column value: value 'xxxx") and "1,000,000 characters (at most 512)" in line
    assert len(line) < 200
    data = folder(tmp_path, accounts=ACCOUNTS + f"{big},2026-01-03,10,0,0\n")
    assert any("account_id 'xxx" in p and "(at most 128)" in p for p in problems(data))


def test_money_beyond_the_limit_is_refused(tmp_path):
    accounts = "account_id,created_at,credit_limit\nA1,2026-01-01,1e308\nA2,2026-01-02,2000\n"
    txns = TXNS.replace(",50,", ",2e9,")
    found = problems(folder(tmp_path, accounts=accounts, transactions=txns))
    assert "accounts.csv:2: column credit_limit: credit_limit 1e+308 is beyond +/-1,000,000,000" in found
    assert any(p.startswith("transactions.csv:2: column amount: amount 2000000000.0 is beyond") for p in found)


def test_dates_in_1900_and_in_the_future_are_refused_relative_to_as_of(tmp_path):
    accounts = "account_id,created_at\nA1,1900-01-01\nA2,2026-01-02\n"
    txns = TXNS.replace("2026-01-06", "2026-03-01")
    data = folder(tmp_path, accounts=accounts, transactions=txns)
    found = problems(data, as_of="2026-02-01")
    assert "accounts.csv:2: column created_at: created_at 1900-01-01 00:00:00 is before 1950-01-01" in found
    assert any(p.startswith("transactions.csv:3: column timestamp:") and "in the future" in p for p in found)
    # The same folder read as of a later date has only the 1900 problem.
    assert len(problems(data, as_of="2026-06-01")) == 1


def test_limits_are_configurable(tmp_path):
    data = folder(tmp_path)
    with pytest.raises(InputError, match="credit_limit 2000.0 is beyond"):
        read_dataset(data, limits=InputLimits(max_money=1500))
    assert len(read_dataset(data, limits=InputLimits(max_id_length=6)).accounts) == 2
    with pytest.raises(InputError, match="at most 1\\)"):
        read_dataset(data, limits=InputLimits(max_id_length=1))
    with pytest.raises(ValueError):
        InputLimits(max_money=0)


def test_the_workspace_configuration_sets_the_limits(tmp_path):
    config = tmp_path / "fraudgraph.toml"
    config.write_text("[limits]\nmax_money = 1500\n")
    data, db = folder(tmp_path), tmp_path / "ws.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "-q", "load", str(data)])
    assert "credit_limit 2000.0 is beyond +/-1,500" in one_error_line(result)
    config.write_text("[limits]\nmax_money = -1\n")
    result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "-q", "load", str(data)])
    assert "limits" in one_error_line(result) and "max_money" in result.stderr


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_a_broken_gzip_is_an_input_error_naming_the_file(tmp_path, damage):
    data = folder(tmp_path)
    packed = gzip.compress(LINKS.encode() * 500)
    (data / "links.csv").unlink()
    (data / "links.csv.gz").write_bytes(
        packed[: len(packed) // 2] if damage == "truncated" else b"\x1f\x8b\x08\x00junk!"
    )
    db = tmp_path / "ws.db"
    line = one_error_line(load(db, data))
    assert line.startswith("Error: links.csv.gz: cannot read the file: the gzip data is corrupt or truncated")
    assert "internal error" not in line and not db.exists()


def test_an_io_error_while_reading_is_an_input_error_naming_the_file(tmp_path, monkeypatch):
    data = folder(tmp_path)
    real = pa.input_stream

    def failing(path, *args, **kwargs):
        if str(path).endswith("links.csv"):
            raise OSError(5, "Input/output error")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pa, "input_stream", failing)
    assert problems(data) == ["links.csv: cannot read the file: Input/output error"]


def write_parquet(data: Path, name: str, table: pa.Table) -> None:
    (data / f"{name}.csv").unlink(missing_ok=True)
    pq.write_table(table, data / f"{name}.parquet")


def test_parquet_column_types_are_checked_once_per_column(tmp_path):
    data = folder(tmp_path)
    n = 1658
    write_parquet(
        data,
        "accounts",
        pa.table(
            {
                "account_id": pa.array(range(n), pa.int64()),
                "created_at": ["2026-01-01"] * n,
                "overdue_days": pa.array([1.0, float("nan")] * (n // 2)),
                "extra": pa.array([{"a": 1}] * n),
            }
        ),
    )
    found = problems(data)
    assert "accounts.parquet: column account_id: expected text, found int64" in found
    assert "accounts.parquet: column overdue_days: expected a whole number, found 829 NaN value(s)" in found
    assert any(p.startswith("accounts.parquet: column extra: expected plain values") for p in found)
    assert not any("not in the accounts table" in p for p in found)


def test_parquet_whole_float_days_are_accepted_as_pandas_writes_them(tmp_path):
    """pandas stores an integer column with gaps as float: whole values without NaN are day counts."""
    data = folder(tmp_path)
    write_parquet(
        data,
        "accounts",
        pa.table({"account_id": ["A1", "A2"], "created_at": ["2026-01-01"] * 2, "overdue_days": [3.0, 0.0]}),
    )
    assert read_dataset(data).accounts["overdue_days"].tolist() == [3, 0]


def test_parquet_decimal_money_out_of_range_is_refused(tmp_path):
    data = folder(tmp_path)
    from decimal import Decimal

    write_parquet(
        data,
        "accounts",
        pa.table(
            {
                "account_id": ["A1", "A2"],
                "created_at": ["2026-01-01", "2026-01-02"],
                "credit_limit": pa.array([Decimal("1000.00"), Decimal("99999999999999.00")], pa.decimal128(20, 2)),
            }
        ),
    )
    assert any("accounts.parquet:2: column credit_limit" in p and "beyond" in p for p in problems(data))


# -- fuzz: random defects in a small valid folder ----------------------------------------------
DEFECTS = st.sampled_from(
    [
        "nul",
        "long_id",
        "huge_money",
        "old_date",
        "future_date",
        "drop_column",
        "ragged_row",
        "bad_utf8",
        "gzip_cut",
        "parquet_int_ids",
        "parquet_struct",
        "bad_kind",
    ]
)


def damage(data: Path, defect: str, where: int) -> None:
    """Write one defect into the folder (``where`` picks the row or table)."""
    accounts = data / "accounts.csv"
    links = data / "links.csv"
    rows = accounts.read_text().splitlines()
    row = 1 + where % (len(rows) - 1)
    if defect == "nul":
        links.write_text(LINKS.replace("4111 1111", "41\x0011 1111"))
    elif defect == "long_id":
        rows[row] = "Z" * 5000 + rows[row][2:]
        accounts.write_text("\n".join(rows) + "\n")
    elif defect == "huge_money":
        accounts.write_text(ACCOUNTS.replace("1000", "9e300"))
    elif defect == "old_date":
        accounts.write_text(ACCOUNTS.replace("2026-01-01", "1899-12-31"))
    elif defect == "future_date":
        links.write_text(LINKS.replace("2026-01-03", "2099-01-03"))
    elif defect == "drop_column":
        accounts.write_text("\n".join(",".join(r.split(",")[1:]) for r in rows) + "\n")
    elif defect == "ragged_row":
        accounts.write_text(ACCOUNTS + "A3,2026-01-01,1,2,3,4,5\n")
    elif defect == "bad_utf8":
        links.write_bytes(LINKS.encode() + b"A1,email,\xff\xfe@x.com\n")
    elif defect == "gzip_cut":
        packed = gzip.compress(LINKS.encode() * 300)
        links.unlink()
        (data / "links.csv.gz").write_bytes(packed[: max(12, len(packed) * (where % 9 + 1) // 10)])
    elif defect == "parquet_int_ids":
        write_parquet(data, "accounts", pa.table({"account_id": [1, 2], "created_at": ["2026-01-01"] * 2}))
    elif defect == "parquet_struct":
        table = pa.table({"account_id": ["A1", "A2"], "created_at": ["2026-01-01"] * 2, "x": [{"a": 1}, {"a": 2}]})
        write_parquet(data, "accounts", table)
    elif defect == "bad_kind":
        links.write_text(LINKS.replace("card", "Card", 1))


@settings(max_examples=36, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(defect=DEFECTS, where=st.integers(min_value=0, max_value=1000))
def test_fuzz_a_broken_folder_never_crashes_and_never_changes_the_workspace(tmp_path_factory, defect, where):
    base = tmp_path_factory.mktemp("fuzz")
    db = base / "ws.db"
    good = folder(base)
    assert load(db, good).exit_code == 0
    before = snapshot(db)
    broken = base / "broken"
    shutil.copytree(good, broken)
    damage(broken, defect, where)
    result = load(db, broken)
    line = one_error_line(result)
    assert any(name in line for name in ("accounts.", "links.", "transactions.")), line
    assert "internal error" not in line
    assert snapshot(db) == before


def test_parquet_text_column_with_no_value_written_by_pandas_as_float_is_accepted(tmp_path):
    """pandas writes an all-empty ``label`` column as float64 NaN: that is an empty text column,
    loaded as no label; a float column with values in a text column is still refused."""
    import numpy as np
    import pandas as pd

    folder = tmp_path / "data"
    folder.mkdir()
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "created_at": ["2026-01-01"] * 3, "label": [np.nan] * 3})
    accounts.to_parquet(folder / "accounts.parquet")
    pd.DataFrame({"account_id": ["A1", "A2"], "kind": ["card", "card"], "value": ["4111", "4111"]}).to_parquet(
        folder / "links.parquet"
    )
    db = str(tmp_path / "ws.db")
    r = CliRunner().invoke(cli, ["--db", db, "-q", "load", str(folder)])
    assert r.exit_code == 0, r.output
    accounts.assign(label=[1.5, np.nan, np.nan]).to_parquet(folder / "accounts.parquet")
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "ws2.db"), "load", str(folder)])
    assert r.exit_code != 0 and "label" in r.output and "expected text" in r.output
