"""The sweep's fast paths give what the plain ways gave: spend bursts summed in dense blocks, the
Arrow ``isin``, ring features as shared-name rows, rings and their identifiers ordered by ranks,
audit and notice frames made a column at a time, and the rings' codes read in one pass."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import fraudgraph.detection.features as features_mod
from fraudgraph.decisions import policy as policy_mod
from fraudgraph.detection.features import spend_bursts
from fraudgraph.detection.pipeline import _by_score, _feature_rows, _ring_identifier_frame
from fraudgraph.model.values import NamedRow, isin, jsonable
from fraudgraph.workspace.base import to_json

# ---------------------------------------------------------------------------- spend bursts


def _bursts_by_hand(tx: pd.DataFrame, ids: list[str], window: float) -> np.ndarray:
    """Each account's largest sum of merchant purchases (not declined) in one bucket of either
    bucketing, summed in the order the purchases come; 0 at least."""
    best = {a: 0.0 for a in ids}
    buys = tx[(tx["counterparty_kind"] == "merchant") & (tx["status"] != "declined") & tx["account_id"].isin(ids)]
    days = (buys["timestamp"] - pd.Timestamp(0)).dt.total_seconds().to_numpy() / 86_400
    for offset in (0.0, window / 2):
        sums: dict[tuple[str, int], float] = {}
        for account, day, amount in zip(buys["account_id"], days, buys["amount"]):
            key = (account, math.floor((day + offset) / window))
            sums[key] = sums.get(key, 0.0) + amount
        for (account, _), total in sums.items():
            if math.isnan(total) or math.isnan(best[account]):
                best[account] = math.nan
            else:
                best[account] = max(best[account], total)
    return np.array([best[a] for a in ids])


def _purchases(rng: np.random.Generator, n_accounts: int, n: int, *, nan: bool = False) -> tuple[pd.DataFrame, list]:
    ids = [f"A{i:04d}" for i in range(n_accounts)]
    amount = np.round(rng.normal(40, 90, n), 2)  # refunds (negative) among the purchases
    if nan:
        amount[rng.random(n) < 0.05] = np.nan
    tx = pd.DataFrame(
        {
            "account_id": rng.choice(ids + ["ZZ-unknown"], n),
            "counterparty_kind": rng.choice(["merchant", "merchant", "account"], n),
            "status": rng.choice(["settled", "settled", "declined", "chargeback"], n),
            "amount": amount,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 200, n), unit="D"),
        }
    )
    return tx, ids


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NaN amounts, hashed way
@pytest.mark.parametrize("cells", [1 << 22, 256, 70, 40])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spend_bursts_in_dense_blocks_are_the_sums_by_hand(monkeypatch, cells, seed):
    # Small blocks make many: accounts split across blocks, some blocks without a purchase.
    monkeypatch.setattr(features_mod, "_DENSE_CELLS", cells)
    rng = np.random.default_rng(seed)
    tx, ids = _purchases(rng, 60, 900, nan=seed == 2)
    for window in (7.0, 3.0):
        got = spend_bursts(tx, pd.Index(ids), window)
        want = _bursts_by_hand(tx, ids, window)
        np.testing.assert_array_equal(got, want)  # to the bit: the same additions in the same order


def test_spend_bursts_with_a_span_too_wide_for_a_block_take_the_hashed_way(monkeypatch):
    rng = np.random.default_rng(5)
    tx, ids = _purchases(rng, 30, 400)
    dense = spend_bursts(tx, pd.Index(ids), 1.0)
    monkeypatch.setattr(features_mod, "_DENSE_CELLS", 10)  # 200 one-day buckets > 10 cells
    monkeypatch.setattr(features_mod, "_dense_bucket_max", None)  # would fail if called
    hashed = spend_bursts(tx, pd.Index(ids), 1.0)
    np.testing.assert_array_equal(dense.view(np.int64), hashed.view(np.int64))
    np.testing.assert_array_equal(hashed, _bursts_by_hand(tx, ids, 1.0))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the NaT's day, cast as before
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_spend_bursts_with_a_missing_day_go_the_hashed_way_as_before(monkeypatch):
    # A missing timestamp (NaT: a frame handed to detect() directly) overflows the bucket span:
    # no crash, and what the hashed way always gave.
    rng = np.random.default_rng(7)
    tx, ids = _purchases(rng, 20, 200)
    tx.loc[[3, 50], "timestamp"] = pd.NaT
    got = spend_bursts(tx, pd.Index(ids))
    monkeypatch.setattr(features_mod, "_DENSE_CELLS", 0)
    np.testing.assert_array_equal(got.view(np.int64), spend_bursts(tx, pd.Index(ids)).view(np.int64))


def test_spend_bursts_with_one_purchase_decades_back_stay_hashed(monkeypatch):
    # One old purchase widens every account's row of buckets: 3,000 accounts x ~3,900 weekly
    # buckets would be 12M cells for 300 purchases, so the hashed way is taken.
    rng = np.random.default_rng(8)
    tx, ids = _purchases(rng, 3000, 300)
    tx.loc[0, "timestamp"] = pd.Timestamp("1950-06-01")
    tx.loc[0, ["counterparty_kind", "status"]] = ["merchant", "settled"]

    def refused(*_a, **_k):
        raise AssertionError("the dense way was taken for a sparse table")

    monkeypatch.setattr(features_mod, "_dense_bucket_max", refused)
    np.testing.assert_array_equal(spend_bursts(tx, pd.Index(ids)), _bursts_by_hand(tx, ids, 7.0))


# ---------------------------------------------------------------------------- isin


_COLUMNS = [
    pd.Series(["a", "b", None, "c", "a", np.nan]),
    pd.Series(["a", "b", "c"], dtype="str"),
    pd.Index(["x", "a", None]),
    pd.Series(["a", "b"], dtype=object),
    pd.Series([1, 2, 3]),
    pd.Series([], dtype="str"),
]
_VALUES = [
    ["a"],
    [],
    [None],
    [np.nan],
    ["a", 1],
    {"b", "c"},
    np.array(["a", "zz"], dtype=object),
    pd.Series(["c"], dtype="str"),
    pd.Index(["b", None]),
    ("a",),
    [1, 2],
    {"a": 1},
]


def _value_id(values) -> str:
    """The case's name: a set's repr follows hash randomisation, and pytest-xdist's workers must
    collect the same names in the same order."""
    return "{" + ", ".join(map(repr, sorted(values))) + "}" if isinstance(values, set) else repr(values)


@pytest.mark.parametrize("values", _VALUES, ids=_value_id)
@pytest.mark.parametrize("column", _COLUMNS, ids=lambda c: f"{type(c).__name__}[{c.dtype}]")
def test_isin_answers_as_pandas_does(column, values):
    got = isin(column, values)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, np.asarray(column.isin(values), dtype=bool))


def test_isin_takes_an_iterator_once():
    got = isin(pd.Series(["a", "b"], dtype="str"), iter(["b"]))
    np.testing.assert_array_equal(got, [False, True])


def test_isin_of_text_hashes_in_arrow_not_value_by_value(monkeypatch):
    column = pd.Series([f"A{i}" for i in range(1000)], dtype="str")
    wanted = column.iloc[::3]

    def refused(*_a, **_k):
        raise AssertionError("pandas' isin was called for a text column")

    monkeypatch.setattr(pd.Series, "isin", refused)
    got = isin(column, wanted)
    assert got.sum() == len(wanted) and got[::3].all()
    assert isin(column, list(wanted) + [None]).sum() == len(wanted)


# ---------------------------------------------------------------------------- ring features


def _ring_features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "size": np.array([3, 2, 5], dtype=np.int64),
            "share": [0.5, np.nan, -0.0],
            "exposure": [1234.5678912, 0.0, 10.0],
            "has_fraud": [True, False, True],
        },
        index=[7, 8, 9],
    )


def test_ring_features_rows_read_as_the_dicts_they_replace():
    rows = _feature_rows(_ring_features())
    assert [dict(r) for r in rows] == [
        {"exposure": 1234.567891, "has_fraud": 1, "share": 0.5, "size": 3},
        {"exposure": 0.0, "has_fraud": 0, "share": None, "size": 2},
        {"exposure": 10.0, "has_fraud": 1, "share": -0.0, "size": 5},
    ]
    first = rows[0]
    assert isinstance(first, NamedRow) and not isinstance(first, dict)
    as_dict = {"exposure": 1234.567891, "has_fraud": 1, "share": 0.5, "size": 3}
    assert first == as_dict
    assert as_dict == first  # dict.__eq__ gives way to the row's
    assert first != {"size": 3} and first != rows[1] and rows[1] == _feature_rows(_ring_features())[1]
    assert first["size"] == 3 and first.get("nope", "x") == "x" and "share" in first and "nope" not in first
    assert list(first) == ["exposure", "has_fraud", "share", "size"] and len(first) == 4
    assert list(first.values()) == [1234.567891, 1, 0.5, 3] and dict(first.items()) == dict(first)
    assert repr(first) == repr(dict(first))
    assert pickle.loads(pickle.dumps(first)) == first
    with pytest.raises(TypeError):
        hash(first)


def test_ring_features_rows_serialize_as_their_dicts():
    rows = _feature_rows(_ring_features())
    for row in rows:
        assert to_json(row) == to_json(dict(row))
        assert json.loads(to_json({"features": row})) == {"features": json.loads(to_json(dict(row)))}
        assert jsonable(row) == jsonable(dict(row))
    frame = pd.DataFrame({"ring_id": ["R-1", "R-2", "R-3"], "features": rows})
    assert frame["features"].iloc[1] is rows[1]  # held as they are, not spread into columns
    assert pd.DataFrame(list(frame["features"])).columns.tolist() == ["exposure", "has_fraud", "share", "size"]


def test_stored_ring_features_are_the_same_text_from_rows_or_dicts(tmp_path):
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    rows = _feature_rows(_ring_features())
    with SqliteWorkspace(tmp_path / "ws.db", create=True) as ws:
        from_rows = ws._compact_features(pd.DataFrame({"features": rows}))["features"].tolist()
        from_dicts = ws._compact_features(pd.DataFrame({"features": [dict(r) for r in rows]}))["features"].tolist()
    assert from_rows == from_dicts
    assert json.loads(from_rows[1])[1:] == [0.0, 0, None, 2]


def test_a_report_shows_the_features_of_a_ring_fresh_from_detection():
    from fraudgraph.outputs.report import _features

    row = _feature_rows(_ring_features())[0]
    assert _features(row) == {"exposure": 1234.567891, "has_fraud": 1, "share": 0.5, "size": 3}


# ---------------------------------------------------------------------------- orders


def _ring_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    # Ids past R-999999 sort as text, not as numbers: "R-1000000" < "R-200000".
    numbers = rng.choice(np.arange(1, 3_000_000), n, replace=False)
    return np.array([f"R-{k:06d}" for k in numbers], dtype=object)


@pytest.mark.parametrize("seed", range(6))
def test_rings_by_score_as_pandas_sorts_them(seed):
    rng = np.random.default_rng(seed)
    n = 200
    score = rng.choice([0.0, -0.0, 0.25, 0.1 + 0.2, 0.3, 1.0, np.nan], n)
    ids = _ring_ids(rng, n)
    ids[rng.choice(n, 3, replace=False)] = None  # a ring without an id sorts after those with one
    frame = pd.DataFrame({"score": score, "ring_id": pd.Series(ids, dtype="str"), "row": np.arange(n)})
    want = frame.sort_values(["score", "ring_id"], ascending=[False, True], kind="stable")["row"].to_numpy()
    got = frame.take(_by_score(score, ids))["row"].to_numpy()
    np.testing.assert_array_equal(got, want)


class _Found:
    def __init__(self, ring_of_cluster: pd.Series) -> None:
        self.ring_of_cluster = ring_of_cluster


@pytest.mark.parametrize("seed", range(6))
def test_ring_identifiers_in_pandas_order(seed):
    rng = np.random.default_rng(seed)
    n = 300
    clusters = rng.integers(0, 12, n)
    ident = pd.DataFrame(
        {
            "cluster": clusters,
            "kind": pd.Series(rng.choice(["email", "phone", "device", "émail"], n), dtype="str"),
            "key": pd.Series(rng.choice(["a", "b", "B", "ä", "", "a b", None], n), dtype="str"),
            "n_members": rng.integers(1, 4, n),
            "n_accounts": rng.integers(2, 9, n),
            "weight": rng.random(n),
            "first_seen_max": np.where(rng.random(n) < 0.2, np.nan, rng.uniform(19000, 20000, n)),
            "values": [[f"v{i}"] for i in range(n)],
        }
    )
    found = _Found(pd.Series(_ring_ids(rng, 12), index=range(12)))
    got = _ring_identifier_frame(found, ident)
    want = got.sort_values(["ring_id", "n_members", "kind", "key"], ascending=[True, False, True, True], kind="stable")
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True))
    # Every identifier row is there once, with its own values.
    assert sorted(v[0] for v in got["raw_values"]) == sorted(f"v{i}" for i in range(n))


# ---------------------------------------------------------------------------- policy


def test_frames_of_rows_are_the_frames_pandas_makes():
    stamp = pd.Timestamp("2026-01-02T03:04:05")
    rows = [
        {"at": stamp, "account_id": "A1", "score": 0.5, "limit": None, "note": "x", "n": 3},
        {"at": stamp, "account_id": "A2", "score": np.nan, "limit": 100.0, "note": None, "n": 4},
    ]
    columns = ["at", "account_id", "score", "limit", "note", "n"]
    got = policy_mod._frame_of_rows(rows, columns)
    # The values pandas makes; text columns keep the Python strings they were made of (object),
    # which the workspace writes as they are, instead of pandas' Arrow strings.
    as_text = got.astype({"account_id": "str", "note": "str"})
    pd.testing.assert_frame_equal(as_text, pd.DataFrame(rows, columns=columns))
    assert got["account_id"].dtype == object and got["note"].dtype == object
    assert got["account_id"].tolist() == ["A1", "A2"] and got["note"].tolist() == ["x", None]
    assert got["score"].dtype == np.float64 and got["n"].dtype == np.int64
    short = [{"account_id": "A1"}, {"account_id": "A2", "note": "y"}]  # a row without a column
    pd.testing.assert_frame_equal(
        policy_mod._frame_of_rows(short, ["account_id", "note"]), pd.DataFrame(short, columns=["account_id", "note"])
    )
    empty = policy_mod._frame_of_rows([], columns)
    assert list(empty.columns) == columns and len(empty) == 0


def test_rings_with_codes_reads_fraud_and_strong_codes_in_one_pass():
    reasons = [
        [{"code": "KNOWN_FRAUD_IN_RING"}, {"code": "OPENED_TOGETHER"}],
        [{"code": "RECOMBINED_IDENTITY"}],
        [{"code": "MULE_PATTERN"}, "not a reason", {"text": "no code"}],
        [],
        [{"code": None}, {"code": "SHARED_STRONG_IDENTIFIER"}],
    ]
    ring_ids = np.array(["R1", "R2", "R3", "R4", "R5"], dtype=object)
    r_reasons = np.empty(len(reasons), dtype=object)
    r_reasons[:] = reasons
    fraud, strong = policy_mod._rings_with_codes(ring_ids, r_reasons, ["RECOMBINED_IDENTITY", "MULE_*", "None"])
    assert fraud == {"R1"}
    # "MULE_*" is a prefix; a code None reads as the text "None", as the policy always read it.
    assert strong == {"R2", "R3", "R5"}
