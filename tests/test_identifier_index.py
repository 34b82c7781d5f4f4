"""Schema 3 of the SQLite workspace: no text row per link. An account's links come from the
columnar snapshot's small parts, who holds an identifier from ``identifier_accounts`` (a hash of
the identifier, the account, the raw spelling). Whatever the loads did, the index must be what the
links make, and what it answers must be what the links say, even when two identifiers share a
hash; and a workspace of schema 2 is rewritten to it when first opened."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from workspace_data import ACCOUNTS, LINKS, TXNS, each_load, make_dataset

from fraudgraph.detection import keys as key_numbering
from fraudgraph.workspace.sqlite import holders, linkrows, store
from fraudgraph.workspace.sqlite.schema import SCHEMA_VERSION
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

MORE = ACCOUNTS + [
    ("A5", "2024-01-05", 10.0, 0.0, 0, "active", None),
    ("A6", "2024-01-06", 5.0, 0.0, 0, "active", None),
]
# Loads after the first: a new account on a known phone and a new device, a re-keyed identifier,
# a value that gains a key, a second spelling of a known device, a key that is lost.
LATER = [
    (MORE, [("A5", "phone", "555.123.4567", "5551234567", "2024-04-01"), ("A6", "device", "D9", "d9", None)]),
    (ACCOUNTS, [("A4", "ip", "10.0.0.1", "10.0.0.2", None), ("A2", "email", "N/A", "n/a@x.com", None)]),
    (ACCOUNTS, [("A3", "device", "DEV-1.", "dev-1", "2024-06-01")]),
    (ACCOUNTS, [("A3", "phone", "(555) 123-4567", None, None)]),
]


def _index(ws: SqliteWorkspace) -> set[tuple]:
    """Every holder row the workspace keeps: its parts' rows less those gone, with those added."""
    return set(holders.all_rows(ws._db).itertuples(index=False, name=None))


def _index_from_links(ws: SqliteWorkspace) -> set[tuple]:
    """The index rows the links make, computed from scratch."""
    links = ws.links()
    keyed = links[links["key"].notna()]
    h = linkrows.identifier_hashes(keyed["kind"], keyed["key"])
    return set(zip(h.tolist(), keyed["account_id"], keyed["value"], strict=True))


def _answers(ws: SqliteWorkspace, *, nobody: bool = True) -> dict:
    """What the identifier queries answer for every identifier there is (and one nobody holds)."""
    links = ws.links()
    pairs = sorted({(k, v) for k, v in zip(links["kind"], links["key"], strict=True) if v is not None})
    if nobody:
        pairs.append(("device", "nobody"))
    frame = pd.DataFrame(pairs, columns=["kind", "key"])
    checks = {p: ws.check_lookup([p], [], limit=10) for p in pairs}
    return {
        "accounts_of": ws.accounts_of(pairs, limit=1 << 40).values.tolist(),
        "counts": ws.identifier_counts(frame).values.tolist(),
        "account_counts": ws.identifier_account_counts(frame).values.tolist(),
        "check": {p: (c.identifiers, sorted(a["account_id"] for a in c.accounts)) for p, c in checks.items()},
        **_by_account(ws.links, ws.identifiers_of, sorted(set(links["account_id"]))),
    }


def _by_account(links_of, identifiers_of, accounts: list[str]) -> dict:
    """An account's links and identifiers as the investigation reads them (by the parts that can
    hold it), for each account and for every other one together: rows and column types."""
    asked = [[a] for a in accounts] + [accounts[::2]]
    frames = [(links_of(ids), identifiers_of(ids)) for ids in asked]
    return {
        "links_of": [(f.values.tolist(), f.dtypes.astype(str).tolist()) for f, _ in frames],
        "identifiers_of": [(u.values.tolist(), u.dtypes.astype(str).tolist()) for _, u in frames],
    }


def _expected(ws: SqliteWorkspace, *, nobody: bool = True) -> dict:
    """The same answers, worked out from the links alone."""
    links = ws.links()
    keyed = links[links["key"].notna()]
    groups = keyed.groupby(["kind", "key"], sort=True)
    counts = [[k, v, g["account_id"].nunique(), sorted(set(g["value"]))] for (k, v), g in groups]
    holders = keyed[["account_id", "kind", "key"]].drop_duplicates().sort_values(["kind", "key", "account_id"])
    check = {
        (k, v): ([{"kind": k, "key": v, "n_accounts": n, "hub_reason": None}], sorted(set(g["account_id"])))
        for (k, v), g in groups
        for n in [g["account_id"].nunique()]
    }
    if nobody:
        check[("device", "nobody")] = ([], [])

    def links_of(ids: list[str]) -> pd.DataFrame:
        mine = links[links["account_id"].isin(ids)].sort_values(["account_id", "kind", "value"])
        return mine.astype({c: object for c in ("account_id", "kind", "value", "key")}).reset_index(drop=True)

    def identifiers_of(ids: list[str]) -> pd.DataFrame:
        mine = keyed[keyed["account_id"].isin(ids)]
        uses = mine.groupby(["account_id", "kind", "key"], sort=True)["first_seen"].min().reset_index()
        return uses.astype({c: "str" for c in ("account_id", "kind", "key")})

    return {
        "accounts_of": holders.values.tolist(),
        "counts": counts,
        "account_counts": [c[:3] for c in counts],
        "check": check,
        **_by_account(links_of, identifiers_of, sorted(set(links["account_id"]))),
    }


@pytest.mark.parametrize("small_load", [100_000, 0], ids=["small-loads", "big-loads"])
def test_the_index_is_what_the_links_make_after_every_load(tmp_path, monkeypatch, small_load):
    monkeypatch.setattr(store, "_SMALL_LOAD", small_load)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    for _ in each_load(ws, LATER, whole=small_load == 0):
        assert _index(ws) == _index_from_links(ws)
        assert _answers(ws) == _expected(ws)
    assert ws._collisions() == set()
    # The re-keyed ip's old identifier is held by nobody now; the new device spelling is A3's.
    assert ws.identifier_account_counts(pd.DataFrame([("ip", "10.0.0.1")], columns=["kind", "key"])).empty
    assert sorted(ws.accounts_of([("device", "dev-1")], limit=10)["account_id"]) == ["007", "A2", "A3"]
    ws.close()


def _weak_hash(kinds, keys):
    """Every identifier under one of three hashes (its key's length mod 3): collisions everywhere."""
    keys = pa.array(pd.Series(keys).astype(object).where(pd.Series(keys).notna(), None).tolist(), pa.string())
    lengths = np.asarray(pc.utf8_length(pc.fill_null(keys, "")).to_numpy(zero_copy_only=False))
    return (lengths % 3).astype(np.int64)


@pytest.mark.parametrize("in_python", [0, 5_000])
def test_the_accounts_holding_identifiers_are_the_same_whichever_way_they_are_sorted(tmp_path, monkeypatch, in_python):
    """``accounts_of`` sorts a few thousand holder rows in Python and a hub's many through pandas:
    the same accounts in the same order (kind, key, account), the same columns, capped alike."""
    monkeypatch.setattr(store, "_HOLDERS_IN_PYTHON", in_python)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(make_dataset(MORE, LINKS + [("A5", "device", "Dev 1", "dev-1", None)], TXNS))
    assert _answers(ws) == _expected(ws)
    links = ws.links()
    pairs = sorted({(k, v) for k, v in zip(links["kind"], links["key"], strict=True) if v is not None})
    every = ws.accounts_of([*pairs, ("device", "nobody")], limit=1 << 40)
    assert list(every.columns) == ["account_id", "kind", "key"]
    assert every.values.tolist() == sorted(every.values.tolist(), key=lambda r: (r[1], r[2], r[0]))
    for limit in (0, 1, 4, len(every)):
        capped = ws.accounts_of(pairs, limit=limit)
        assert capped.values.tolist() == every.head(limit).values.tolist()
    devices = ws.accounts_of([("device", "dev-1")], limit=10)
    assert devices["account_id"].tolist() == ["007", "A2", "A5"]  # A5 holds it once, in two spellings
    assert ws.accounts_of([("device", "nobody")], limit=10).empty
    ws.close()


@pytest.mark.parametrize("small_load", [100_000, 0], ids=["small-loads", "big-loads"])
def test_identifiers_that_share_a_hash_never_mix(tmp_path, monkeypatch, small_load):
    monkeypatch.setattr(store, "_SMALL_LOAD", small_load)
    monkeypatch.setattr(linkrows, "identifier_hashes", _weak_hash)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(make_dataset(ACCOUNTS, LINKS[:4], TXNS))  # dev-1 (5), n/a: no key
    # Only identifiers some account holds are asked for: one nobody holds that shares a stored
    # identifier's hash would be answered with that identifier's holders (with a real 64-bit hash,
    # a chance of about one in 2^64 per identifier stored).
    assert _answers(ws, nobody=False) == _expected(ws, nobody=False)
    for accounts, links in [(ACCOUNTS, LINKS[4:]), *LATER]:
        ws.load(make_dataset(accounts, links, TXNS))  # 10.0.0.1, 10.0.0.2 and d9 share dev-1's hash
        assert _answers(ws, nobody=False) == _expected(ws, nobody=False)
        assert _index(ws) == _index_from_links(ws)
    # Found shared against the identifier stored under the hash (dev-1, loaded first).
    assert ws._collisions() == {2}
    ws.close()


def test_the_identifier_hash_does_not_change():
    """The workspace stores these numbers: a changed hash would make every stored index wrong."""
    assert linkrows.pair_hashes([("device", "dev-1"), ("phone", "5551234567"), ("phone", "dev-1")]).tolist() == [
        4364497702351943839,
        7752794121158828200,
        3671309479090849484,
    ]


def test_an_account_s_links_come_from_the_parts_that_can_hold_it(tmp_path, monkeypatch):
    monkeypatch.setattr(store.snapshot_parts, "ROWS_PER_PART", {"links": 2})  # 7 links: 4 parts
    monkeypatch.setattr(store, "_SMALL_LOAD", 0)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    ranges = ws._db.execute("SELECT part, first_id, last_id FROM snapshots WHERE name = 'links' ORDER BY part")
    assert [r[1:] for r in ranges] == [("007", "A2"), ("A2", "A3"), ("A3", "A4"), ("A4", "A4")]
    read = []
    real = store.snapshot_parts.rows_of
    monkeypatch.setattr(store.snapshot_parts, "rows_of", lambda data, *a: read.append(data) or real(data, *a))
    a2 = ws.links(["A2"])
    assert a2[["kind", "value"]].values.tolist() == [["device", "dev-1 "], ["email", "N/A"]]
    assert len(read) == 2  # the two parts A2 spans, of four
    read.clear()
    assert ws.links(["A5"]).empty and read == []  # nobody's part
    ws.close()


def test_a_schema_2_workspace_is_rewritten_when_first_opened(tmp_path):
    path = tmp_path / "ws.db"
    ws = SqliteWorkspace(path)
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    links, index, answers = ws.links(), _index(ws), _answers(ws)
    ws.close()
    # Schema 2: a text row per link and its (kind, key) index; no identifier index, parts without ranges.
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE links (account_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, key TEXT,
            first_seen INTEGER, PRIMARY KEY (account_id, kind, value)) WITHOUT ROWID;
        CREATE INDEX links_by_identifier ON links (kind, key);
        DROP TABLE identifier_accounts;
        DROP TABLE identifier_gone;
        DELETE FROM snapshots WHERE name = 'holders';
        DROP INDEX snapshot_ranges;
        ALTER TABLE snapshots DROP COLUMN first_id;
        ALTER TABLE snapshots DROP COLUMN last_id;
        UPDATE meta SET value = '2' WHERE key = 'schema_version';
        """
    )
    ns = links["first_seen"].astype("datetime64[ns]")
    db.executemany(
        "INSERT INTO links VALUES (?, ?, ?, ?, ?)",
        zip(
            links["account_id"],
            links["kind"],
            links["value"],
            links["key"],
            [None if pd.isna(t) else int(t.value) for t in ns],
            strict=True,
        ),
    )
    db.commit()
    db.close()
    ws = SqliteWorkspace(path)
    assert ws._meta_int("schema_version") == SCHEMA_VERSION
    tables = {r[0] for r in ws._db.execute("SELECT name FROM sqlite_master")}
    assert "links" not in tables and "links_by_identifier" not in tables and "snapshot_ranges" in tables
    pd.testing.assert_frame_equal(ws.links(), links)
    assert _index(ws) == index
    assert _answers(ws) == answers
    assert ws.links(["A2"])["value"].tolist() == ["dev-1 ", "N/A"]
    ws.close()
    SqliteWorkspace(path).close()  # opened again: nothing left to rewrite


@pytest.mark.parametrize("whole", [True, False], ids=["rewritten-whole", "rows-added-and-gone"])
def test_holders_are_parts_of_whole_hashes_and_loads_keep_them(tmp_path, monkeypatch, whole):
    """A whole rewrite stores every holder as parts sorted by hash, one hash never split between two
    parts (so one part answers for an identifier); a load that does not rewrite adds and removes
    rows beside them. Every answer stays what the links say."""
    monkeypatch.setattr(linkrows, "identifier_hashes", _weak_hash)  # three hashes: parts of many rows
    monkeypatch.setattr(holders, "ROWS_PER_PART", 1)
    if whole:  # no room for delta rows: every load rewrites the snapshot whole
        monkeypatch.setattr(SqliteWorkspace, "_delta_room", lambda self: -1)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    gone_seen = False
    for _ in each_load(ws, LATER, whole=whole):
        ranges = ws._db.execute("SELECT part, first_id, last_id FROM snapshots WHERE name = 'holders' ORDER BY part")
        ranges = ranges.fetchall()
        assert [first for _, first, last in ranges] == sorted({first for _, first, _ in ranges})
        assert all(first == last for _, first, last in ranges)  # a part per hash, each whole
        assert _index(ws) == _index_from_links(ws)
        assert _answers(ws, nobody=False) == _expected(ws, nobody=False)
        added, gone = (ws._count(t) for t in ("identifier_accounts", "identifier_gone"))
        if whole:
            assert (added, gone) == (0, 0)  # all in the parts
        gone_seen = gone_seen or gone > 0
    assert gone_seen == (not whole)  # the re-keyed ip's holder, gone from a part
    ws.close()


def test_a_reader_sees_the_parts_another_connection_rewrote(tmp_path, monkeypatch):
    """A connection keeps the holder parts' ranges and decoded parts between reads (an account's
    page, a stream of checks): a whole rewrite by another process must not be answered from them."""
    monkeypatch.setattr(holders, "ROWS_PER_PART", 1)  # a part per identifier
    monkeypatch.setattr(SqliteWorkspace, "_delta_room", lambda self: -1)  # every load rewrites whole
    writer = SqliteWorkspace(tmp_path / "ws.db")
    writer.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    reader = SqliteWorkspace(tmp_path / "ws.db")
    assert _answers(reader) == _expected(writer)
    decoded = []
    real = holders.decode
    monkeypatch.setattr(holders, "decode", lambda data: decoded.append(1) or real(data))
    reader._holder_parts = holders.PartCache()
    assert reader.identifier_account_counts(
        pd.DataFrame([("device", "dev-1")], columns=["kind", "key"])
    ).values.tolist() == [["device", "dev-1", 2]]
    assert len(decoded) == 1  # the one part that holds it, of several
    for accounts, links in LATER:
        writer.load(make_dataset(accounts, links, TXNS))
        assert _answers(reader) == _expected(writer)
    writer.close()
    reader.close()


def test_a_schema_3_workspace_answers_the_same_and_its_next_rewrite_makes_parts(tmp_path, monkeypatch):
    path = tmp_path / "ws.db"
    ws = SqliteWorkspace(path)
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    index, answers = _index(ws), _answers(ws)
    ws.close()
    # Schema 3: every holder a row of identifier_accounts; no holder parts, no gone rows.
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO identifier_accounts VALUES (?, ?, ?)", sorted(index))
    db.executescript(
        """
        DELETE FROM snapshots WHERE name = 'holders';
        DROP TABLE identifier_gone;
        UPDATE meta SET value = '3' WHERE key = 'schema_version';
        """
    )
    db.commit()
    db.close()
    ws = SqliteWorkspace(path)
    assert ws._meta_int("schema_version") == SCHEMA_VERSION
    assert _index(ws) == index and _answers(ws) == answers
    monkeypatch.setattr(SqliteWorkspace, "_delta_room", lambda self: -1)  # the next load rewrites it whole
    ws.load(make_dataset(ACCOUNTS, LINKS + [("A3", "device", "D9", "d9", None)], TXNS))
    assert ws._count("identifier_accounts") == 0 and ws._count("snapshots WHERE name = 'holders'") > 0
    assert _index(ws) == _index_from_links(ws) and _answers(ws) == _expected(ws)
    ws.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("categorical", [True, False], ids=["categorical-kinds", "text-kinds"])
@pytest.mark.parametrize("sliced", [False, True], ids=["whole", "in-slices"])
def test_the_holder_order_numbers_keys_and_counts_kinds_as_hashing_them_again_would(
    seed, categorical, sliced, monkeypatch
):
    """A whole load takes the snapshot's key numbers and the status counts off the holders' ordered
    hashes (``holders.numbered``) instead of hashing every key again: they must be exactly what
    ``key_codes`` and ``kind_counts`` make, with keys under several kinds, missing keys, accents."""
    if sliced:  # as at 10M accounts: hashes and identifiers screened a slice at a time
        monkeypatch.setattr(holders, "_SLICE", 97)
        monkeypatch.setattr(holders, "_SCREEN_FROM", 0)
    rng = np.random.default_rng(seed)
    n = 3_000
    words = np.array(
        ["dev-1", "5551234567", "café", "ß", "東京", "", "x@y.z", "10.0.0.1"] + [f"k{i}" for i in range(400)]
    )
    keys = pd.Series(words[rng.integers(0, len(words), n)], dtype=object)
    keys[rng.random(n) < 0.1] = None
    kinds = pd.Series(np.array(["phone", "device", "email", "ip"])[rng.integers(0, 4, n)])
    links = pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(n)],
            "kind": kinds.astype("category") if categorical else kinds.astype(object),
            "value": keys.fillna("n/a"),
            "key": keys.astype("string[pyarrow]"),
        }
    )
    h, rows = linkrows.index_rows(links)
    assert linkrows.colliding(h, rows, links["kind"], links["key"]) == []
    found = holders.numbered(links, h, rows)
    assert found is not None
    codes, counts = found
    np.testing.assert_array_equal(codes, key_numbering.key_codes(links["key"]))
    assert codes.dtype == np.int32
    assert list(counts.items()) == list(store.kind_counts(links).items())


def test_holder_counts_are_those_of_grouping_every_row():
    """``holders.counted`` tells accounts and spellings per hash from where they change: the same
    as grouping every row, on rows as ``holders.table`` gives them (slices of parts, chunked) and on
    rows out of hash order; for hashes of a holder or two and for hubs of hundreds."""
    rng = np.random.default_rng(7)
    n = 5_000
    h = np.sort(np.concatenate([rng.integers(-50, 50, n - 1_500), np.repeat([-7, 60, 61], 500)]))
    accounts = np.array([f"A{i}" for i in rng.integers(0, 40, n)], dtype=object)
    values = np.array([f"v{i}" for i in rng.integers(0, 6, n)], dtype=object)
    order = np.lexsort((values, accounts, h))  # by hash, then account and spelling, as ``table``
    rows = pa.table({"h": h[order], "account_id": accounts[order], "value": values[order]})
    grouped = rows.group_by("h").aggregate([("account_id", "count_distinct"), ("value", "distinct")]).to_pydict()
    expected = sorted(
        zip(grouped["h"], grouped["account_id_count_distinct"], [sorted(v) for v in grouped["value_distinct"]])
    )
    chunked = pa.concat_tables([rows.slice(a, 313) for a in range(0, n, 313)])
    for table in (rows, chunked, rows.take(pa.array(rng.permutation(n)))):
        hashes, n_accounts, spellings = holders.counted(table, True)
        assert list(zip(hashes, n_accounts, spellings, strict=True)) == expected
        assert holders.counted(table, False)[2] is None
    assert holders.counted(rows.slice(0, 0), True) == ([], [], [])


def test_an_account_s_identifier_is_first_seen_on_its_earliest_spelling(tmp_path, monkeypatch):
    """Two spellings of one device on one account: the investigation's identifier is first seen
    on the earlier of them (a missing date is not earlier), read from the parts alone and with a
    small load's delta part merged over them."""
    monkeypatch.setattr(store, "_SMALL_LOAD", 0)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    extra = [("A2", "device", "DEV-1", "dev-1", "2024-01-15"), ("A2", "device", "Dev 1", "dev-1", None)]
    ws.load(make_dataset(ACCOUNTS, LINKS + extra, TXNS))
    assert ws._delta_parts("links") == 0

    def first_seen() -> list:
        uses = ws.identifiers_of(["A2"])
        return uses[uses["kind"] == "device"][["key", "first_seen"]].values.tolist()

    assert first_seen() == [["dev-1", pd.Timestamp("2024-01-15")]]
    monkeypatch.setattr(store, "_SMALL_LOAD", 100_000)
    ws.load(make_dataset(ACCOUNTS, [("A2", "device", "dev_1", "dev-1", "2023-12-01")], TXNS))
    assert ws._delta_parts("links") == 1
    assert first_seen() == [["dev-1", pd.Timestamp("2023-12-01")]]
    ws.close()


def test_a_part_s_rows_under_the_hashes_asked_are_its_runs_of_them():
    """``holders._part_rows`` keeps each part's runs of the hashes asked as slices of it, joining
    runs that follow one another: the same rows as a test of every row, for hashes next to each
    other, apart, at a part's ends, missing, and for a part that is one hub."""
    rng = np.random.default_rng(11)
    parts = []
    for lo in range(0, 400, 100):
        h = np.sort(rng.integers(lo, lo + 100, 700))
        parts.append(pa.table({"h": h, "account_id": [f"A{i}" for i in range(len(h))], "value": ["v"] * len(h)}))
    parts.append(pa.table({"h": np.full(300, 555), "account_id": ["B"] * 300, "value": ["w"] * 300}))
    cases = [np.arange(0, 600), np.array([0, 1, 2, 99, 150, 151, 399, 555]), np.array([-5, 50, 53, 54, 1000])]
    cases += [np.unique(rng.integers(-10, 600, k)) for k in (1, 7, 40, 200)]
    for wanted in cases:
        got = holders._part_rows(parts, wanted)
        expected = [t.filter(pa.array(np.isin(t.column("h").to_numpy(), wanted))) for t in parts]
        expected = [t for t in expected if t.num_rows]
        together = pa.concat_tables(got) if got else None
        if not expected:
            assert together is None
            continue
        assert together.equals(pa.concat_tables(expected))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1_000, 50_000])
def test_hash_order_keeps_the_links_order_within_a_hash(n, monkeypatch):
    """The index rows' order (``linkrows._stable_order``, a vectorized sort and a second one that
    puts each run of equal hashes back in row order) is numpy's stable order: over many ties,
    negative and extreme hashes, and past the size where it falls back to the merge sort."""
    rng = np.random.default_rng(n)
    pool = np.array([np.iinfo(np.int64).min, -1, 0, 1, np.iinfo(np.int64).max], dtype=np.int64)
    pool = np.concatenate([pool, rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 50, dtype=np.int64)])
    h = pool[rng.integers(0, len(pool), n)]  # about n / 55 rows per hash
    expected = np.argsort(h, kind="stable")
    np.testing.assert_array_equal(linkrows._stable_order(h), expected)
    monkeypatch.setattr(linkrows, "_FAST_ORDER_ROWS", max(n - 1, 0))
    np.testing.assert_array_equal(linkrows._stable_order(h), expected)
