"""A workspace load merges repeated link observations after sorting them (neighbours, no hash table
of millions of values); the check path merges them by hashing. Both must give the same links."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from fraudgraph.ingest import contract
from fraudgraph.model.merge import LINK_KEY

ACCOUNTS = ["A1", "A2", "B3", "a1"]
VALUES = {
    "email": ["J.Doe@x.com", "j.doe@x.com ", "N/A", "", "z@y.org"],
    "phone": ["555-123-4567", "(555) 123 4567", "000", "5551234567"],
    "device": ["dev-1", "DEV-1", "unknown", "d2"],
    "ip": ["10.0.0.1", "10.0.0.1 ", "::1", "2001:db8::1"],
    "card": ["4111 1111", "41111111", "x"],
}
DAYS = ["", "2024-01-03", "2024-01-01", "2023-12-31T10:00:00"]

link = st.sampled_from(sorted(VALUES)).flatmap(
    lambda kind: st.tuples(
        st.sampled_from(ACCOUNTS), st.just(kind), st.sampled_from(VALUES[kind]), st.sampled_from(DAYS)
    )
)


def _records(rows: list[tuple]) -> dict[str, pd.DataFrame]:
    accounts = pd.DataFrame({"account_id": ACCOUNTS, "created_at": ["2023-01-01"] * len(ACCOUNTS)})
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value", "first_seen"])
    return {"accounts": accounts, "links": links}


def _links(records: dict[str, pd.DataFrame], in_key_order: bool) -> tuple[pd.DataFrame, list[str]]:
    log, warnings = contract._ProblemLog(), []
    tables = {}
    for name, frame in records.items():
        table = contract._Table(name, name, frame.reset_index(drop=True), is_parquet=False, lines=np.arange(len(frame)))
        contract._check_columns(table, log, warnings)
        tables[name] = table
    kinds = tuple(contract.IDENTIFIER_KINDS)
    ds = contract._validated(
        tables, kinds, contract.InputLimits(), None, log, warnings, None, in_key_order=in_key_order
    )
    return ds.links, ds.warnings


@settings(max_examples=150, deadline=None)
@given(st.lists(link, min_size=1, max_size=40))
def test_sorted_merge_gives_the_links_the_hashed_merge_gives(rows):
    hashed, hashed_warnings = _links(_records(rows), in_key_order=False)
    hashed = hashed.sort_values(LINK_KEY, kind="stable").reset_index(drop=True)
    sorted_, sorted_warnings = _links(_records(rows), in_key_order=True)
    # A folder's keys stay Arrow text (NaN where missing), a check event's are Python objects (None).
    assert str(sorted_["key"].dtype) == "str"
    sorted_["key"] = sorted_["key"].astype(object).where(sorted_["key"].notna(), None)
    pd.testing.assert_frame_equal(hashed, sorted_)
    assert hashed_warnings == sorted_warnings
    assert len(sorted_) == len({(a, k, v) for a, k, v, _ in rows})


def test_repeats_keep_the_earliest_known_first_seen_whatever_their_order():
    rows = [
        ("A1", "email", "J.Doe@x.com", "2024-01-03"),
        ("A2", "email", "J.Doe@x.com", ""),
        ("A1", "email", "J.Doe@x.com", ""),
        ("A1", "email", "J.Doe@x.com", "2024-01-01"),
    ]
    links, warnings = _links(_records(rows), in_key_order=True)
    assert links["account_id"].tolist() == ["A1", "A2"]
    assert links["first_seen"].iloc[0] == pd.Timestamp("2024-01-01") and pd.isna(links["first_seen"].iloc[1])
    assert links["key"].tolist() == ["j.doe@x.com", "j.doe@x.com"]
    assert any("2 repeated" in w for w in warnings)
