"""Reading a data folder: every contract rule, CSV and Parquet, every problem reported at once."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from fraudgraph.errors import InputError
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.model.frames import ACCOUNT_COLUMNS, LINK_COLUMNS, TRANSACTION_COLUMNS


def _keys(links) -> list:
    """The links' keys, None where a value carries no identity (the frame keeps keys as Arrow text,
    missing where there is none)."""
    return [None if pd.isna(k) else k for k in links["key"]]


def good_tables() -> dict[str, dict[str, list[str]]]:
    return {
        "accounts": {
            "account_id": ["007", "A2", "A3"],
            "created_at": ["2024-01-01", "2024-01-02T10:00:00+02:00", "2024-01-03T00:00:00Z"],
            "credit_limit": ["1000", "", "2500.50"],
            "balance": ["50", "-10.5", ""],
            "overdue_days": ["0", "", "30"],
            "status": ["active", "", "suspended"],
            "label": ["", "fraud", "legit"],
            "segment": ["retail", "smb/eu", "retail"],
        },
        "links": {
            "account_id": ["007", "A2", "A2", "A3", "A3"],
            "kind": ["email", "email", "phone", "address", "device"],
            "value": ["J.Doe+x@gmail.com", "jdoe@gmail.com", "N/A", "12 Oak St. Apt 4", "null"],
            "first_seen": ["2024-01-05", "", "2024-02-01T12:00:00-05:00", "2024-01-03", ""],
        },
        "transactions": {
            "txn_id": ["T1", "T2"],
            "account_id": ["007", "A2"],
            "counterparty": ["A2", "M-77"],
            "counterparty_kind": ["account", "merchant"],
            "amount": ["120.5", "3"],
            "timestamp": ["2024-03-01T14:30:00Z", "2024-03-02"],
            "status": ["", "chargeback"],
        },
    }


def write_folder(folder, tables, fmt="csv"):
    """Write ``tables`` (name -> column -> list of str) as CSV or all-string Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns in tables.items():
        if fmt == "csv":
            pd.DataFrame(columns).to_csv(folder / f"{name}.csv", index=False)
        else:
            pq.write_table(
                pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()}),
                folder / f"{name}.parquet",
            )
    return folder


def problems_of(folder, **kwargs) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_dataset(folder, **kwargs)
    return [str(p) for p in caught.value.problems]


@pytest.fixture(params=["csv", "parquet"])
def fmt(request):
    return request.param


def test_valid_folder_gives_the_contract_frames(tmp_path, fmt):
    ds = read_dataset(write_folder(tmp_path / "data", good_tables(), fmt))

    assert list(ds.accounts.columns) == ACCOUNT_COLUMNS
    assert list(ds.links.columns) == LINK_COLUMNS
    assert list(ds.transactions.columns) == TRANSACTION_COLUMNS
    acc = ds.accounts.set_index("account_id")
    assert list(acc.index) == ["007", "A2", "A3"]  # never parsed as a number
    assert acc.loc["A2", "created_at"] == pd.Timestamp("2024-01-02 08:00:00")  # offset -> naive UTC
    assert ds.accounts["created_at"].dtype == "datetime64[ns]"
    assert acc.loc["A3", "credit_limit"] == 2500.5 and np.isnan(acc.loc["A2", "credit_limit"])
    assert acc.loc["A2", "balance"] == -10.5
    assert acc["overdue_days"].tolist() == [0, 0, 30] and ds.accounts["overdue_days"].dtype == np.int64
    assert acc["status"].tolist() == ["active", "active", "suspended"]
    assert acc["label"].tolist() == [None, "fraud", "legit"]
    assert json.loads(acc.loc["A2", "properties"]) == {"segment": "smb/eu"}

    links = ds.links
    assert links["value"].tolist()[2] == "N/A"  # kept verbatim, not NaN
    assert _keys(links) == ["jdoe@gmail.com", "jdoe@gmail.com", None, "12 oak st unit 4", None]
    assert links.loc[2, "first_seen"] == pd.Timestamp("2024-02-01 17:00:00")
    assert pd.isna(links.loc[1, "first_seen"]) and links["first_seen"].dtype == "datetime64[ns]"

    txn = ds.transactions
    assert txn["amount"].tolist() == [120.5, 3.0]
    assert txn["status"].tolist() == ["settled", "chargeback"]
    assert txn["timestamp"].tolist() == [pd.Timestamp("2024-03-01 14:30"), pd.Timestamp("2024-03-02")]
    assert set(ds.files) == {"accounts", "links", "transactions"}
    assert ds.warnings == []


def test_transactions_are_optional(tmp_path, fmt):
    tables = good_tables()
    del tables["transactions"]
    ds = read_dataset(write_folder(tmp_path / "data", tables, fmt))
    assert list(ds.transactions.columns) == TRANSACTION_COLUMNS and len(ds.transactions) == 0
    assert "transactions" not in ds.files


def test_accounts_without_extra_columns_have_empty_properties(tmp_path):
    tables = good_tables()
    del tables["accounts"]["segment"]
    ds = read_dataset(write_folder(tmp_path / "data", tables))
    assert ds.accounts["properties"].tolist() == ["{}"] * 3


def test_gzipped_csv_is_read(tmp_path):
    folder = write_folder(tmp_path / "data", good_tables())
    raw = (folder / "links.csv").read_bytes()
    (folder / "links.csv").unlink()
    (folder / "links.csv.gz").write_bytes(gzip.compress(raw))
    ds = read_dataset(folder)
    assert len(ds.links) == 5 and ds.files["links"].name == "links.csv.gz"


def test_repeated_observation_is_one_link_with_earliest_first_seen(tmp_path, fmt):
    tables = good_tables()
    links = tables["links"]
    for column, value in zip(links, ["007", "email", "J.Doe+x@gmail.com", "2023-12-01"]):
        links[column].append(value)
    for column, value in zip(links, ["007", "email", "J.Doe+x@gmail.com", ""]):
        links[column].append(value)
    ds = read_dataset(write_folder(tmp_path / "data", tables, fmt))
    mine = ds.links[(ds.links["account_id"] == "007") & (ds.links["kind"] == "email")]
    assert len(mine) == 1 and mine["first_seen"].iloc[0] == pd.Timestamp("2023-12-01")
    assert len(ds.links) == 5
    assert any("2 repeated" in w for w in ds.warnings)


def test_extra_columns_of_links_and_transactions_are_ignored_with_a_warning(tmp_path, fmt):
    tables = good_tables()
    tables["links"]["source"] = ["crm"] * 5
    tables["transactions"]["channel"] = ["web", "pos"]
    ds = read_dataset(write_folder(tmp_path / "data", tables, fmt))
    assert "source" not in ds.links.columns and "channel" not in ds.transactions.columns
    assert any("links" in w and "'source'" in w for w in ds.warnings)
    assert any("transactions" in w and "'channel'" in w for w in ds.warnings)


def test_empty_link_value_never_links_and_is_warned(tmp_path):
    tables = good_tables()
    tables["links"]["value"][0] = ""
    ds = read_dataset(write_folder(tmp_path / "data", tables))
    assert _keys(ds.links)[0] is None
    assert any("empty value" in w for w in ds.warnings)


def test_declared_extra_kind_is_accepted(tmp_path, fmt):
    tables = good_tables()
    tables["links"]["kind"][4] = "loyalty_id"
    tables["links"]["value"][4] = " LOY-9 "
    folder = write_folder(tmp_path / "data", tables, fmt)
    assert any("'loyalty_id' is not one of" in p for p in problems_of(folder))
    ds = read_dataset(folder, extra_kinds={"loyalty_id": 0.5})
    assert ds.links["key"].iloc[4] == "loy-9"


def test_missing_folder_and_missing_tables_are_named(tmp_path):
    assert "does not exist" in problems_of(tmp_path / "nowhere")[0]
    folder = tmp_path / "data"
    folder.mkdir()
    found = problems_of(folder)
    assert any("accounts.csv" in p and str(folder) in p for p in found)
    assert any("links.csv" in p for p in found)


def test_both_csv_and_parquet_of_one_table_is_an_error(tmp_path):
    folder = write_folder(tmp_path / "data", good_tables())
    write_folder(folder, {"links": good_tables()["links"]}, "parquet")
    assert any("links.csv and links.parquet" in p for p in problems_of(folder))


def test_missing_required_column_is_named_with_a_hint(tmp_path, fmt):
    tables = good_tables()
    tables["links"]["Kind"] = tables["links"].pop("kind")
    del tables["accounts"]["created_at"]
    found = problems_of(write_folder(tmp_path / "data", tables, fmt))
    assert any("missing required column 'kind'" in p and "found 'Kind'" in p for p in found)
    assert any("missing required column 'created_at'" in p for p in found)


# (table, column, row index, bad value, expected fragment of the message)
BAD_VALUES = [
    ("accounts", "account_id", 1, "", "empty account_id"),
    ("accounts", "account_id", 2, "007", "duplicate account_id '007' (first on"),
    ("accounts", "created_at", 0, "yesterday", "'yesterday' is not an ISO-8601 date"),
    ("accounts", "created_at", 0, "2024-02-30", "not an ISO-8601 date"),
    ("accounts", "created_at", 0, "", "empty created_at"),
    ("accounts", "created_at", 0, "9999-12-31", "'9999-12-31' is outside the supported dates"),
    ("accounts", "credit_limit", 0, "-1", "credit_limit -1 is negative"),
    ("accounts", "credit_limit", 0, "1,000", "'1,000' is not a number"),
    ("accounts", "balance", 0, "lots", "'lots' is not a number"),
    ("accounts", "overdue_days", 0, "2.5", "overdue_days 2.5 is not a whole number >= 0"),
    ("accounts", "overdue_days", 0, "-3", "not a whole number >= 0"),
    ("accounts", "overdue_days", 0, "1e30", "not a whole number >= 0"),
    ("accounts", "status", 0, "frozen", "'frozen' is not one of active, suspended, closed"),
    ("accounts", "status", 0, "Active", "'Active' is not one of"),
    ("accounts", "label", 0, "maybe", "'maybe' is not one of fraud, legit"),
    ("links", "account_id", 0, "ghost", "account_id 'ghost' is not in the accounts table"),
    ("links", "account_id", 0, "", "empty account_id"),
    (
        "links",
        "kind",
        0,
        "fax",
        "'fax' is not one of device, address, card, bank_account, phone, email, ip, national_id",
    ),
    ("links", "kind", 0, "", "empty kind"),
    ("links", "first_seen", 0, "01/02/2024", "'01/02/2024' is not an ISO-8601 date"),
    ("transactions", "txn_id", 1, "T1", "duplicate txn_id 'T1'"),
    ("transactions", "txn_id", 0, "", "empty txn_id"),
    ("transactions", "account_id", 0, "ghost", "account_id 'ghost' is not in the accounts table"),
    ("transactions", "counterparty", 0, "ghost", "counterparty 'ghost' has counterparty_kind account"),
    ("transactions", "counterparty", 1, "", "empty counterparty"),
    ("transactions", "counterparty_kind", 0, "shop", "'shop' is not one of account, merchant"),
    ("transactions", "amount", 0, "0", "amount 0 is not > 0"),
    ("transactions", "amount", 0, "-5", "amount -5 is not > 0"),
    ("transactions", "amount", 0, "abc", "'abc' is not a number"),
    ("transactions", "amount", 0, "", "empty amount"),
    ("transactions", "timestamp", 0, "noon", "'noon' is not an ISO-8601 date"),
    ("transactions", "timestamp", 0, "", "empty timestamp"),
    ("transactions", "status", 0, "lost", "'lost' is not one of settled, declined, chargeback, refunded"),
]


@pytest.mark.parametrize(
    "table, column, row, value, expected", BAD_VALUES, ids=[f"{t}.{c}={v!r}" for t, c, _, v, _ in BAD_VALUES]
)
def test_each_rule_names_file_line_column_and_value(tmp_path, fmt, table, column, row, value, expected):
    tables = good_tables()
    tables[table][column][row] = value
    found = problems_of(write_folder(tmp_path / "data", tables, fmt))
    suffix = "csv" if fmt == "csv" else "parquet"
    where = f"{table}.{suffix}:{row + 2 if fmt == 'csv' else row + 1}: column {column}:"
    matching = [p for p in found if p.startswith(where) and expected in p]
    assert matching, found
    if fmt == "parquet":
        assert f"row {row + 1}:" in matching[0]


def test_duplicate_account_id_names_both_lines(tmp_path):
    tables = good_tables()
    tables["accounts"]["account_id"][2] = "007"
    found = problems_of(write_folder(tmp_path / "data", tables))
    assert "accounts.csv:4: column account_id: duplicate account_id '007' (first on line 2)" in found


def test_every_problem_is_reported_at_once(tmp_path, fmt):
    tables = good_tables()
    tables["accounts"]["created_at"][1] = "soon"
    tables["accounts"]["credit_limit"][2] = "-9"
    tables["links"]["kind"][0] = "fax"
    tables["links"]["kind"][3] = "pager"
    tables["links"]["account_id"][4] = "ghost"
    tables["transactions"]["amount"][1] = "0"
    with pytest.raises(InputError) as caught:
        read_dataset(write_folder(tmp_path / "data", tables, fmt))
    error = caught.value
    assert len(error.problems) == 6 and error.total == 6
    text = str(error)
    for fragment in ("'soon'", "-9", "'fax'", "'pager'", "'ghost'", "amount 0"):
        assert fragment in text


def test_many_bad_rows_are_counted_but_only_some_listed(tmp_path):
    n = 3000
    tables = good_tables()
    tables["links"] = {
        "account_id": ["007"] * n,
        "kind": ["fax"] * n,
        "value": [str(i) for i in range(n)],
        "first_seen": [""] * n,
    }
    with pytest.raises(InputError) as caught:
        read_dataset(write_folder(tmp_path / "data", tables))
    error = caught.value
    assert error.total == n
    assert len(error.problems) < 100
    assert str(error).startswith("3,000 problem(s)")
    assert any("2,950 more row(s)" in str(p) for p in error.problems)


def test_ragged_rows_and_bad_utf8_are_problems_with_their_line(tmp_path):
    folder = write_folder(tmp_path / "data", good_tables())
    (folder / "links.csv").write_bytes(
        b"account_id,kind,value,first_seen\n"
        b"007,email,a@b.com,2024-01-01\n"
        b"007,phone\n"
        b"A2,device,d1,2024-01-01,extra\n"
        b"A2,device,\xff\xfe-bad,2024-01-01\n"
        b"A3,device,fine,2024-01-01\n"
        b"A3,kind?,fine,2024-01-01\n"
    )
    found = problems_of(folder)
    assert "links.csv:3: row has 2 field(s), the header has 4" in found
    assert "links.csv:4: row has 5 field(s), the header has 4" in found
    assert any(p.startswith("links.csv:5: column value:") and "UTF-8" in p for p in found)
    # rows after the skipped ones keep their real line number
    assert any(p.startswith("links.csv:7: column kind: 'kind?'") for p in found)


def test_a_ragged_row_that_is_not_utf8_either_is_one_problem_with_its_line_and_no_traceback(tmp_path, capfd):
    """pyarrow cannot hand such a row to its ragged-row handler (it decodes the row first)."""
    folder = write_folder(tmp_path / "data", good_tables())
    (folder / "links.csv").write_bytes(
        b"account_id,kind,value,first_seen\n"
        b"007,email,a@b.com,2024-01-01\n"
        b"A2,device,d1,2024-01-01,\xff\xfe\n"
        b'A3,device,"two\nlines",2024-01-01\n'
        b"A3,phone\n"
    )
    found = problems_of(folder)
    assert "links.csv:3: row has 5 field(s), the header has 4" in found
    assert "links.csv:6: row has 2 field(s), the header has 4" in found
    assert "Exception ignored" not in capfd.readouterr().err


def test_values_keep_their_spelling(tmp_path):
    tables = good_tables()
    tables["links"]["value"][4] = "007"
    tables["links"]["kind"][4] = "card"
    ds = read_dataset(write_folder(tmp_path / "data", tables))
    assert ds.links["value"].tolist()[4] == "007"
    assert ds.links["value"].tolist()[2] == "N/A"


def test_parquet_native_types_are_accepted(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "account_id": pa.array(["7", "8"]),
                "created_at": pa.array(
                    [
                        pd.Timestamp("2024-01-01 10:00", tz="Europe/Paris"),
                        pd.Timestamp("2024-01-02", tz="UTC"),
                    ]
                ),
                "credit_limit": pa.array([1000.0, None]),
                "overdue_days": pa.array([3, 0], pa.int32()),
                "segment": pa.array([1, 2]),
            }
        ),
        folder / "accounts.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "account_id": pa.array(["7", "8"]).dictionary_encode(),
                "kind": ["phone", "phone"],
                "value": pa.array(["5551234567", None], pa.large_string()),
            }
        ),
        folder / "links.parquet",
    )
    ds = read_dataset(folder)
    assert ds.accounts["account_id"].tolist() == ["7", "8"]
    assert ds.accounts["created_at"].tolist()[0] == pd.Timestamp("2024-01-01 09:00")
    assert ds.accounts["overdue_days"].tolist() == [3, 0]
    assert json.loads(ds.accounts["properties"].iloc[0]) == {"segment": 1}
    assert _keys(ds.links) == ["5551234567", None]


def test_progress_reports_stages(tmp_path):
    seen: list[str] = []
    read_dataset(write_folder(tmp_path / "data", good_tables()), progress=seen.append)
    assert any("links.csv" in s for s in seen) and any("normalizing" in s for s in seen)


def test_bom_crlf_and_header_only_files_are_read(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "accounts.csv").write_bytes(b"\xef\xbb\xbfaccount_id,created_at\r\n007,2024-01-01\r\n")
    (folder / "links.csv").write_bytes(b"account_id,kind,value,first_seen\r\n")
    ds = read_dataset(folder)
    assert ds.accounts["account_id"].tolist() == ["007"]
    assert len(ds.links) == 0 and list(ds.links.columns) == LINK_COLUMNS


def test_empty_file_and_duplicate_header_are_problems(tmp_path):
    folder = write_folder(tmp_path / "data", good_tables())
    (folder / "transactions.csv").write_bytes(b"")
    (folder / "links.csv").write_text("account_id,kind,value,kind\n007,email,a@b.com,phone\n")
    found = problems_of(folder)
    assert any(p.startswith("transactions.csv:1:") and "no header row" in p for p in found)
    assert any(p.startswith("links.csv:1: column kind:") and "more than once" in p for p in found)


# -- dates: Arrow's fast cast and pandas' parser read every value alike -----------------------
_DATE_PIECES = st.tuples(
    st.sampled_from(["", "+", " "]),
    st.sampled_from(["2024", "1677", "2262", "2300", "1600", "99", "20240301"]),
    st.sampled_from(["", "-03", "-3", "-12", "-13", "-02"]),
    st.sampled_from(["", "-01", "-29", "-30", "-31", "-1"]),
    st.sampled_from(["", "T", " ", "t"]),
    st.sampled_from(["", "14", "24", "00:00", "14:30", "14:30:00", "23:59:60", "14:30:00.5", "14:30:00.123456789"]),
    st.sampled_from(["", "Z", "z", "+02:00", "-0500", " "]),
)


def _date_text(pieces) -> str:
    return "".join(pieces)


_NAIVE = st.builds(
    lambda moment, sep, spec: moment.date().isoformat() if spec == "date" else moment.isoformat(sep, spec),
    st.datetimes(min_value=datetime(1678, 1, 1), max_value=datetime(2262, 4, 10)),
    st.sampled_from(["T", " "]),
    st.sampled_from(["date", "hours", "minutes", "seconds", "milliseconds", "microseconds", "auto"]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_NAIVE, min_size=1, max_size=6) | st.lists(_NAIVE | _DATE_PIECES.map(_date_text), min_size=1, max_size=6)
)
def test_dates_read_by_arrow_are_read_as_pandas_reads_them(values):
    from fraudgraph.ingest.contract import _parse_iso, _parse_iso_by_pandas

    for dtype in ("str", "string[pyarrow]"):
        text = pd.Series(values, dtype=dtype)
        fast, slow = _parse_iso(text), _parse_iso_by_pandas(text)
        for a, b in zip(fast, slow):
            np.testing.assert_array_equal(a, b)


def test_naive_date_times_take_the_arrow_cast_and_a_zone_offset_does_not():
    from fraudgraph.ingest.contract import _parse_iso_by_arrow

    naive = pd.Series(["2026-06-04T19:27:39", "2026-06-04", "2026-06-04 19:27:39.5"], dtype="string[pyarrow]")
    parsed = _parse_iso_by_arrow(naive)
    assert parsed is not None
    assert [str(v) for v in parsed[0]] == [
        "2026-06-04T19:27:39.000000000",
        "2026-06-04T00:00:00.000000000",
        "2026-06-04T19:27:39.500000000",
    ]
    assert _parse_iso_by_arrow(pd.Series(["2026-06-04T19:27:39Z"])) is None  # pandas reads the offset
    assert _parse_iso_by_arrow(pd.Series(["2026-06-04", ""])) is None  # pandas reports the blank


def test_a_repeated_id_in_an_extract_ordered_by_id_is_found(tmp_path):
    """Ids in ascending order are checked by comparing neighbours: a repeat there is a neighbour."""
    tables = good_tables()
    tables["accounts"]["account_id"][2] = "A2"  # 007, A2, A2: still in order
    tables["links"]["account_id"][3:] = ["A2", "A2"]
    tables["transactions"]["txn_id"] = ["T1", "T1"]
    found = problems_of(write_folder(tmp_path / "data", tables))
    assert "accounts.csv:4: column account_id: duplicate account_id 'A2' (first on line 3)" in found
    assert any(p.startswith("transactions.csv:3: column txn_id: duplicate txn_id 'T1'") for p in found)
    assert len(found) == 2


def test_unknown_accounts_of_links_grouped_by_account_are_each_named(tmp_path, monkeypatch):
    """The links' accounts are checked run by run (links come grouped by account): every row of a
    run of an unknown account is named at its own line, runs cut by the reader's blocks included."""
    real = pacsv.ReadOptions

    def small_blocks(*args, **kwargs):  # the links in many chunks: runs cross from one to the next
        links = "kind" in (kwargs.get("column_names") or [])
        return real(*args, **({**kwargs, "block_size": 64} if links else kwargs))

    monkeypatch.setattr(pacsv, "ReadOptions", small_blocks)
    tables = good_tables()
    owners = ["007"] * 4 + ["ghost"] * 5 + ["A2"] * 3 + ["ghost"] * 2 + ["A3", "phantom", "A3"]
    n = len(owners)
    tables["links"] = {
        "account_id": owners,
        "kind": ["device"] * n,
        "value": [f"dev-{i}" for i in range(n)],
        "first_seen": [""] * n,
    }
    found = problems_of(write_folder(tmp_path / "data", tables))
    named = sorted(int(p.split(":")[1]) for p in found if "is not in the accounts table" in p)
    assert named == [i + 2 for i, owner in enumerate(owners) if owner in ("ghost", "phantom")]
    assert len(found) == len(named)
