"""The identity graph's vectorized paths give what the plain definitions say (issue 13: detection
speed must not change results)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fraudgraph.detection.graph import build_identity_graph, positions


def _graph():
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    links = pd.DataFrame(
        {
            "account_id": ["a", "a", "a", "b", "b", "c", "c"],
            "kind": ["device", "device", "device", "device", "phone", "phone", "device"],
            "value": ["D-1", "d1", "D1 ", "d-1", "555", "555", "zz"],
            "key": ["d1", "d1", "d1", "d1", "555", "555", "zz"],
            "first_seen": pd.to_datetime(["2024-03-01", None, "2024-01-01", None, "2024-02-01", "2024-02-03", None]),
        }
    )
    return build_identity_graph(accounts, links)


def _day(text: str) -> float:
    return pd.Timestamp(text).value / 86_400e9


def test_repeated_observations_keep_the_earliest_known_first_use():
    g = _graph()
    ids = g.identifiers.set_index(["kind", "key"])
    device = int(np.flatnonzero((g.identifiers["kind"] == "device") & (g.identifiers["key"] == "d1"))[0])
    fs = g.link_first_seen.toarray()
    assert g.incidence.nnz == 5  # a, b on d1; b, c on 555; c on zz
    assert fs[0, device] == _day("2024-01-01")  # three spellings on a: the earliest known date
    assert np.isnan(fs[1, device])  # b never said when
    assert ids.loc[("device", "d1"), "n_accounts"] == 2
    assert ids.loc[("device", "d1"), "first_seen"] == _day("2024-01-01")
    assert ids.loc[("phone", "555"), "first_seen"] == _day("2024-02-01")
    assert ids.loc[("phone", "555"), "last_first_seen"] == _day("2024-02-03")
    assert np.isnan(ids.loc[("device", "zz"), "first_seen"])


def test_raw_spellings_are_distinct_sorted_and_limited():
    g = _graph()
    device = int(np.flatnonzero((g.identifiers["kind"] == "device") & (g.identifiers["key"] == "d1"))[0])
    phone = int(np.flatnonzero(g.identifiers["kind"] == "phone")[0])
    spellings = g.raw_spellings(np.array([phone, device]))
    assert spellings.tolist() == [["555"], ["D-1", "D1 ", "d-1", "d1"]]
    assert g.raw_spellings(np.array([device]), limit=2).tolist() == [["D-1", "D1 "]]


def test_raw_spellings_sort_as_python_sorts_text_with_a_missing_one_last():
    # Arrow sorts the spellings by their UTF-8 bytes; Python's sort of the same strings (by code
    # point) must come out: accents, a sharp s, CJK and an emoji after the ASCII letters.
    spellings = ["é", "e", "Z", "ß", None, "😀", "z", "中", "e", "É"]
    accounts = pd.DataFrame({"account_id": ["a", "b"]})
    links = pd.DataFrame(
        {
            "account_id": ["a", "b"] * 5,
            "kind": ["device"] * 10,
            "value": pd.Series(spellings, dtype="str"),
            "key": ["k"] * 10,
            "first_seen": pd.NaT,
        }
    )
    g = build_identity_graph(accounts, links)
    (got,) = g.raw_spellings(np.array([0]), limit=10).tolist()
    present = sorted({v for v in spellings if v is not None})
    assert got[:-1] == present and got[-1] != got[-1]  # the missing one (NaN) last
    assert g.raw_spellings(np.array([0]), limit=3).tolist() == [present[:3]]


def test_positions_match_index_lookup_for_strings_and_numbers():
    index = pd.Index(["7", "x", "12"])
    assert positions(pd.Series(["12", "nope", "7"]), index).tolist() == [2, -1, 0]
    assert positions(pd.Series([12, 7, 3]), index).tolist() == [2, 0, -1]


def test_identifier_numbers_do_not_depend_on_the_string_storage():
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    frames = {}
    for dtype in (object, "str"):
        links = pd.DataFrame(
            {
                "account_id": pd.Series(["c", "a", "b", "a"], dtype=dtype),
                "kind": pd.Series(["phone", "device", "phone", "phone"], dtype=dtype),
                "value": pd.Series(["2", "x", "1", "2"], dtype=dtype),
                "key": pd.Series(["2", "x", "1", "2"], dtype=dtype),
                "first_seen": pd.NaT,
            }
        )
        frames[str(dtype)] = build_identity_graph(accounts, links).identifiers
    for frame in frames.values():
        assert list(zip(frame["kind"], frame["key"])) == [("phone", "2"), ("device", "x"), ("phone", "1")]
        assert frame["n_accounts"].tolist() == [2, 1, 1]


def test_kind_masks_agree_with_the_identifier_table():
    import dataclasses

    g = _graph()
    plain = dataclasses.replace(g, kind_code=None, kind_names=None)
    for kinds in ("device", ("phone", "email"), ()):
        wanted = [kinds] if isinstance(kinds, str) else list(kinds)
        expected = g.identifiers["kind"].isin(wanted).tolist()
        assert g.kind_mask(kinds).tolist() == expected
        assert plain.kind_mask(kinds).tolist() == expected
    assert g.kinds() == plain.kinds() == ["device", "phone"]
