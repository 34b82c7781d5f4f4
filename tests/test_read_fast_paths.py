"""The contract's fast paths read a data folder exactly as its general paths do: links already in
key order are not sorted again, and columns of plain numbers are read by Arrow's cast instead of
pandas' parser (falling back to pandas for anything Arrow refuses)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudgraph.errors import InputError
from fraudgraph.ingest import contract
from fraudgraph.ingest.contract import _blank, _parsed_numbers, read_dataset
from fraudgraph.model.merge import _FIRST_ROWS, key_order, sorted_by_key

KEY = ["account_id", "kind", "value"]


def _links(n: int, seed: int) -> pd.DataFrame:
    """``n`` link rows in key order, some observations repeated with other dates (or none)."""
    rng = np.random.default_rng(seed)
    accounts = [f"A{i:05d}" for i in rng.integers(0, n // 4, n)]
    kinds = rng.choice(["device", "email", "phone"], n)
    values = [f"v{i}" for i in rng.integers(0, n // 2, n)]
    days = rng.integers(0, 400, n)
    dates = [("" if d % 7 == 0 else (pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(d))).isoformat()) for d in days]
    frame = pd.DataFrame({"account_id": accounts, "kind": kinds, "value": values, "first_seen": dates})
    return frame.take(key_order(frame, KEY)).reset_index(drop=True)


def _folder(path, links: pd.DataFrame):
    path.mkdir()
    accounts = sorted(set(links["account_id"]))
    pd.DataFrame({"account_id": accounts, "created_at": ["2023-06-01"] * len(accounts)}).to_csv(
        path / "accounts.csv", index=False
    )
    links.to_csv(path / "links.csv", index=False)
    return path


def _read(path):
    data = read_dataset(path)
    return data.links.reset_index(drop=True), data.warnings


def test_sorted_by_key_allows_repeats_and_finds_disorder_past_the_first_rows():
    frame = _links(3 * _FIRST_ROWS, seed=1)
    assert frame.duplicated(KEY).any()  # repeated keys are in order
    assert sorted_by_key(frame, KEY)
    late = _FIRST_ROWS + 100  # out of order only past the rows compared first
    while tuple(frame.iloc[late][KEY]) == tuple(frame.iloc[late + 1][KEY]):
        late += 1
    swapped = frame.copy()
    swapped.iloc[[late, late + 1]] = frame.iloc[[late + 1, late]].to_numpy()
    assert not sorted_by_key(swapped, KEY)
    early = frame.copy()  # out of order in the first rows only
    early.iloc[[0, len(early) - 1]] = frame.iloc[[len(frame) - 1, 0]].to_numpy()
    assert not sorted_by_key(early, KEY) and not sorted_by_key(early.head(_FIRST_ROWS), KEY)
    one = frame.head(1)
    assert sorted_by_key(one, KEY) and sorted_by_key(frame.head(0), KEY)
    missing = frame.astype({"value": "str"}).copy()
    same_group = (frame["account_id"].shift(-1) == frame["account_id"]) & (frame["kind"].shift(-1) == frame["kind"])
    at = int(np.flatnonzero(same_group.to_numpy() & (frame["value"].shift(-1) != frame["value"]).to_numpy())[0])
    missing.loc[at, "value"] = None  # the sort moves it after its group's next row: not in its order
    assert list(key_order(missing, KEY)) != list(range(len(missing)))
    assert not sorted_by_key(missing, KEY)


@pytest.mark.parametrize("seed", [2, 3])
def test_links_already_in_key_order_read_as_the_same_rows_shuffled(tmp_path, seed, monkeypatch):
    links = _links(2 * _FIRST_ROWS + 500, seed)
    shuffled = links.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    late = links.copy()  # out of order past the rows compared first only: the whole pass must see it
    a, b = _FIRST_ROWS + 10, len(links) - 1
    assert tuple(links.iloc[a][KEY]) < tuple(links.iloc[b][KEY])
    late.iloc[[a, b]] = links.iloc[[b, a]].to_numpy()
    sorts = []
    real = contract.key_order
    monkeypatch.setattr(contract, "key_order", lambda *args: sorts.append(1) or real(*args))
    in_order, warnings = _read(_folder(tmp_path / "sorted", links))
    assert sorts == []  # read as it is: neither sorted nor reordered
    assert any("repeated" in w for w in warnings) and in_order["first_seen"].isna().any()
    for name, other in (("shuffled", shuffled), ("late", late)):
        before = len(sorts)
        got, got_warnings = _read(_folder(tmp_path / name, other))
        assert len(sorts) == before + 1, name
        pd.testing.assert_frame_equal(got, in_order)
        assert got_warnings == warnings


TRICKY = [
    "12",
    " 12",
    "12 ",
    "+1.5",
    ".5",
    "5.",
    "1e5",
    "1E-5",
    "Infinity",
    "inf",
    "-inf",
    "NaN",
    "1_000",
    "0x10",
    "1e400",
    "-1e-400",
    "-0",
    "-0.0",
    "0.0",
    "4.9e-324",
    "00012",
    "1d5",
    "\u0661\u0662",
    "",
    "  ",
    "abc",
    "9007199254740993",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "1,5",
]


def _as_pandas(text: pd.Series) -> np.ndarray:
    missing = _blank(text)
    return pd.to_numeric(text.where(~missing), errors="coerce").astype("float64").to_numpy()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b)))


@pytest.mark.parametrize("value", TRICKY)
def test_a_number_column_reads_as_pandas_reads_it(value):
    for column in ([value], [value, "3.5"], ["3.5", value, ""]):
        text = pd.Series(column, dtype="str")
        got = _parsed_numbers(text, _blank(text)).to_numpy()
        assert _same(got, _as_pandas(text)), column


def test_a_column_of_plain_numbers_is_read_by_arrow_and_pandas_reads_the_rest(monkeypatch):
    calls = []
    real = pd.to_numeric
    monkeypatch.setattr(pd, "to_numeric", lambda *a, **k: calls.append(1) or real(*a, **k))
    plain = pd.Series(["12", "3.5", "", "-7e2", "1e400"], dtype="str")
    got = _parsed_numbers(plain, _blank(plain)).to_numpy()
    assert calls == []  # Arrow read every value
    assert _same(got, np.array([12.0, 3.5, np.nan, -700.0, np.inf]))
    spaced = pd.Series(["12", " 3.5"], dtype="str")  # a space around a number: Arrow refuses it
    assert _same(_parsed_numbers(spaced, _blank(spaced)).to_numpy(), np.array([12.0, 3.5]))
    assert calls == [1]


def test_many_spellings_of_numbers_read_as_pandas_reads_them():
    rng = np.random.default_rng(7)
    n = 20_000
    mantissas, exponents = rng.integers(0, 10**18, n), rng.integers(-320, 310, n)
    digits = rng.integers(0, 20, n)
    text = pd.Series(
        [f"{m}e{e}" for m, e in zip(mantissas, exponents)]
        + [f"{x:.{d}f}" for x, d in zip(rng.gamma(2, 500, n), digits)]
        + [str(int(i)) for i in rng.integers(-(2**62), 2**62, n)],
        dtype="str",
    )
    got = _parsed_numbers(text, _blank(text))
    assert got.index.equals(text.index)
    assert _same(got.to_numpy(), _as_pandas(text))


@pytest.mark.parametrize(
    "values",
    [
        ["a", "b", "a", "c", "b", "b", ""],
        ["x"],
        [],
        ["", "", " ", "é", "e\u0301", "é"],
        ["T1", None, "T2", None, "T1"],  # a missing value: pandas' own answer
    ],
)
def test_repeated_values_are_found_as_pandas_finds_them(values):
    text = pd.Series(values, dtype="str")
    assert np.array_equal(contract._repeated(text), text.duplicated(keep="first").to_numpy())


def test_repeated_ids_over_many_rows_match_pandas():
    rng = np.random.default_rng(11)
    text = pd.Series([f"T{i}" for i in rng.integers(0, 50_000, 200_000)], dtype="str")
    assert np.array_equal(contract._repeated(text), text.duplicated(keep="first").to_numpy())


def _transactions(path, rows: list[list[str]], extra: bool) -> None:
    columns = ["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp"]
    frame = pd.DataFrame(rows, columns=columns)
    if extra:
        frame["channel"] = "web"
    frame.to_csv(path / "transactions.csv", index=False)


def test_warnings_keep_the_order_of_the_tables_while_links_are_keyed_beside_the_transactions(tmp_path):
    links = _links(3000, seed=5)
    links.loc[3, "value"] = ""  # a warning of the links' validation, before their repeats'
    folder = _folder(tmp_path / "data", links.sample(frac=1.0, random_state=1))
    account = links["account_id"].iloc[0]
    _transactions(folder, [["T1", account, "M1", "merchant", "12.5", "2024-05-01"]], extra=True)
    data = read_dataset(folder)
    assert [w.split(":")[0] for w in data.warnings] == ["links.csv", "links.csv", "transactions.csv"]
    assert "empty value" in data.warnings[0] and "repeated" in data.warnings[1]
    assert "'channel'" in data.warnings[2]
    assert len(data.transactions) == 1 and data.links["key"].notna().sum() > 0


def test_a_bad_transaction_still_refuses_the_folder_after_the_links_were_keyed(tmp_path):
    links = _links(3000, seed=6)
    folder = _folder(tmp_path / "data", links)
    account = links["account_id"].iloc[0]
    _transactions(folder, [["T1", account, "M1", "merchant", "twelve", "2024-05-01"]], extra=False)
    with pytest.raises(InputError) as caught:
        read_dataset(folder)
    assert [str(p) for p in caught.value.problems] == ["transactions.csv:2: column amount: 'twelve' is not a number"]


@pytest.mark.parametrize("dtype", ["str", object])
def test_blank_text_is_what_stripping_leaves_empty(dtype):
    """``_blank`` judges Arrow text where it lies (empty, or only spaces): the same rows as
    stripping every value and comparing with "", for every kind of space."""
    words = ["", " ", "\t", "a", " a ", "\u00a0", "\u3000", "x y", "\n\r", "\u200b", "\x1c", "\x85", "\u2028", "é"]
    text = pd.Series(words * 3, dtype=dtype)
    assert _blank(text).tolist() == (text.str.strip() == "").tolist()
    assert _blank(text).sum() >= 3 * 9
