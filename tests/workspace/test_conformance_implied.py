"""Implied rows and the sweep's write on every backend.

A sweep stores only the account_scores and decisions rows that are not default (``workspace.base``:
implied rows); every read gives the default ones back. These tests look at what each backend
stored (a default row stored is a failure) and compare every read with the reference (SQLite),
also after a later load changed a credit limit and added an account. A sweep whose write fails
half-way leaves the previous sweep's results, and a reader during a sweep sees the old sweep or
the new one, never a mix.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from workspace_data import swept_with

from fraudgraph.app.sweep import run_sweep
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.workspace.base import to_json

TABLES = ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions")


def _stored(ws, name: str) -> pd.DataFrame:
    """The rows of ``name`` (account_scores or decisions) the backend stored, by account id: the
    stored score, ring and reasons (JSON text), and for decisions the action, trigger, evidence and
    new credit limit."""
    cols = {
        "account_scores": ["account_id", "score", "ring_id", "reasons"],
        "decisions": ["account_id", "action", "trigger", "score", "ring_id", "reasons", "new_credit_limit", "evidence"],
    }[name]
    if ws.backend == "sqlite":
        con = sqlite3.connect(ws.path)
        try:
            return pd.read_sql(f"SELECT {', '.join(cols)} FROM {name} ORDER BY account_id", con)
        finally:
            con.close()
    gen = ws._gens()[name]
    label = {"account_scores": "AccountScore", "decisions": "Decision"}[name]
    result = ws._driver.execute_query(
        f"MATCH (n:{label}) WHERE n.gen = $gen RETURN {', '.join(f'n.{c} AS {c}' for c in cols)} ORDER BY n.account_id",
        parameters_={"gen": gen},
        database_=ws.database,
    )
    return pd.DataFrame([r.values() for r in result.records], columns=cols)


def _assert_no_default_row_stored(ws) -> None:
    scores = _stored(ws, "account_scores")
    default_score = (scores["score"] == 0.0) & scores["ring_id"].isna() & (scores["reasons"] == "[]")
    assert not default_score.any(), (
        f"default account_scores rows stored: {scores[default_score]['account_id'].tolist()}"
    )
    decisions = _stored(ws, "decisions")
    own = ws.table("account_scores").set_index("account_id").reindex(decisions["account_id"])
    stored_default = (
        (decisions["action"] == "none").to_numpy()
        & (decisions["trigger"] == "none").to_numpy()
        & (decisions["evidence"] == "").to_numpy()
        & decisions["new_credit_limit"].isna().to_numpy()
        & (decisions["score"].to_numpy() == own["score"].to_numpy())
        & (decisions["ring_id"].fillna("").to_numpy() == own["ring_id"].fillna("").to_numpy())
        & (decisions["reasons"].to_numpy() == own["reasons"].map(to_json).to_numpy())
    )
    assert not stored_default.any(), f"default decisions stored: {decisions[stored_default]['account_id'].tolist()}"


@pytest.fixture(scope="module")
def reference_swept(reference, small_world):
    return swept_with(reference(), small_world)


@pytest.fixture(scope="module")
def swept(stores, small_world):
    return swept_with(stores.open(stores.new_store()), small_world)


def test_a_sweep_stores_only_the_rows_that_are_not_default(swept):
    _assert_no_default_row_stored(swept)
    for name in ("account_scores", "decisions"):
        assert len(_stored(swept, name)) < len(swept.table(name)) == len(swept.accounts())  # the rest are implied


def _reads(ws) -> dict:
    """Reads that meet implied rows: filtered tables, decision pages, account views, status."""
    ids = ws.accounts()["account_id"].tolist()
    flagged = ws.table("decisions", action=["review", "suspend", "decline", "limit", "monitor"])["account_id"].tolist()
    some = [*ids[:5], *ids[-3:], *flagged[:3], "NO-SUCH-ACCOUNT"]
    out = {name: ws.table(name) for name in TABLES}
    out |= {
        "decisions of some": ws.table("decisions", account_id=some),
        "scores of some": ws.table("account_scores", account_id=some),
        "decisions none": ws.table("decisions", action="none"),
        "decisions none of some": ws.table("decisions", action="none", account_id=some),
        "scores 0": ws.table("account_scores", score=0.0),
        "scores with no ring": ws.table("account_scores", ring_id=None),
        "decisions no account": ws.table("decisions", account_id=None),
        "view": ws.account_view(some[:-1]),
    }
    for action, show_all in ((None, True), ("none", False), (None, False)):
        for limit, offset in ((None, 0), (7, 3)):
            page, total = ws.decision_page(action, show_all, limit, offset)
            out[f"page {action} {show_all} {limit}"] = (page, total)
    out["rings in status"] = ws.status()["rings"]
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A frame with every column as objects and every missing value None."""
    return df.astype(object).where(df.notna(), None)


def _assert_same(mine: dict, theirs: dict) -> None:
    assert mine.keys() == theirs.keys()
    for key, value in mine.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, theirs[key], obj=key)
        elif isinstance(value, tuple):
            # Pages: the same rows (SQLite's own page leaves an all-missing column as None objects).
            pd.testing.assert_frame_equal(_plain(value[0]), _plain(theirs[key][0]), obj=key)
            assert value[1] == theirs[key][1], key
        else:
            assert value == theirs[key], key


def test_every_read_gives_the_implied_rows_back_as_the_reference_does(swept, reference_swept):
    _assert_same(_reads(swept), _reads(reference_swept))


def _later_load(folder):
    """The world again, with a credit limit changed (of an account whose decision is implied) and
    one account more: the sweep's decisions keep the limits it had, the new account has none."""
    ds = read_dataset(folder)
    acc = ds.accounts.copy()
    acc.loc[acc.index[0], "credit_limit"] = float(acc["credit_limit"].iloc[0]) + 1234.0
    extra = acc.iloc[[1]].copy()
    extra["account_id"] = "ZZ-LATE-ACCOUNT"
    ds.accounts = pd.concat([acc, extra], ignore_index=True)
    return ds


def test_reads_after_a_later_load_match_the_reference(store_maker, reference, small_world):
    mine = swept_with(store_maker.open(store_maker.new_store()), small_world)
    theirs = swept_with(reference(), small_world)
    for ws in (mine, theirs):
        ws.load(_later_load(small_world))
    first = mine.accounts()["account_id"].iloc[0]
    assert mine.table("decisions", account_id=[first, "ZZ-LATE-ACCOUNT"])["account_id"].tolist() == [first]
    _assert_same(_reads(mine), _reads(theirs))


@pytest.fixture
def failing_sweep_write(backend, monkeypatch):
    """``arm()`` makes the next sweep's write fail half-way: SQLite inside its one transaction (the notices,
    after the result tables), Neo4j at the third batch of decisions (earlier batches committed)."""
    if backend == "sqlite":
        from fraudgraph.workspace.sqlite.results import SqliteResults

        def boom(self, df):
            raise sqlite3.OperationalError("disk I/O error")

        return lambda: monkeypatch.setattr(SqliteResults, "_append_notices", boom) or sqlite3.OperationalError
    from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

    real = Neo4jWorkspace._write_rows
    calls = {"decisions": 0}

    def write_rows(self, name, gen, df):
        if name != "decisions":
            return real(self, name, gen, df)
        for start in range(0, len(df), self.batch_size):
            calls["decisions"] += 1
            if calls["decisions"] == 3:
                raise RuntimeError("connection reset by the server")
            real(self, name, gen, df.iloc[start : start + self.batch_size])

    return lambda: monkeypatch.setattr(Neo4jWorkspace, "_write_rows", write_rows) or RuntimeError


def _everything(ws) -> dict:
    out: dict = {name: ws.table(name) for name in TABLES}
    out |= {read: getattr(ws, read)() for read in ("account_state", "audit", "notices", "sweeps")}
    out["status"] = {k: v for k, v in ws.status().items() if k in ("rings", "last_sweep")}
    out["audit rows"] = ws.audit_count()
    return out


def test_a_sweep_whose_write_fails_half_way_leaves_the_previous_sweep(store_maker, small_world, failing_sweep_write):
    store = store_maker.new_store()
    ws = swept_with(store_maker.open(store, batch_size=10), small_world)
    ws.load(_later_load(small_world))
    before = _everything(ws)
    with pytest.raises(failing_sweep_write()):
        run_sweep(ws, seed=3)
    after = _everything(store_maker.open(store))
    assert after.keys() == before.keys()
    for key in before:
        if isinstance(before[key], pd.DataFrame):
            pd.testing.assert_frame_equal(after[key], before[key], obj=key)
        else:
            assert after[key] == before[key], key
    if ws.backend == "neo4j":  # the failed write's rows are gone (or go at the next sweep)
        gens = ws._gens()
        result = ws._driver.execute_query(
            "MATCH (n) WHERE (n:Decision OR n:AccountScore OR n:Ring OR n:Hub OR n:SweptPart) "
            "AND n.gen > $gen RETURN count(n) AS n",
            parameters_={"gen": max(gens.values())},
            database_=ws.database,
        )
        assert result.records[0]["n"] == 0


def test_a_reader_during_a_sweep_sees_the_old_results_or_the_new(store_maker, small_world, backend, monkeypatch):
    if backend != "neo4j":
        pytest.skip("SQLite writes a sweep in one transaction; the batches are Neo4j's")
    from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

    store = store_maker.new_store()
    ws = swept_with(store_maker.open(store, batch_size=10), small_world)
    reader = store_maker.open(store)
    ws.load(_later_load(small_world))
    old = {name: reader.table(name) for name in TABLES}
    seen = []
    real = Neo4jWorkspace._write_rows

    def write_rows(self, name, gen, df):
        real(self, name, gen, df)
        seen.append({n: reader.table(n) for n in ("rings", "account_scores", "decisions")})

    monkeypatch.setattr(Neo4jWorkspace, "_write_rows", write_rows)
    run_sweep(ws, seed=3)
    new = {name: reader.table(name) for name in TABLES}
    assert len(new["decisions"]) == len(old["decisions"]) + 1  # the sweep changed something to see
    assert len(seen) >= 5
    for tables in seen:
        for name, df in tables.items():
            pd.testing.assert_frame_equal(df, old[name], obj=name)  # until the switch: the old sweep
    _assert_no_default_row_stored(reader)


def test_the_rows_of_a_crashed_sweep_write_go_at_the_next_sweep(store_maker, small_world, backend, monkeypatch):
    if backend != "neo4j":
        pytest.skip("SQLite writes a sweep in one transaction: a crash leaves nothing behind")
    from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

    store = store_maker.new_store()
    ws = swept_with(store_maker.open(store, batch_size=10), small_world)
    before = {name: ws.table(name) for name in TABLES}

    def rows_of(gen: int) -> int:
        result = ws._driver.execute_query(
            "MATCH (n) WHERE (n:Decision OR n:AccountScore OR n:Ring OR n:Hub OR n:SweptPart) "
            "AND n.gen = $gen RETURN count(n) AS n",
            parameters_={"gen": gen},
            database_=ws.database,
        )
        return result.records[0]["n"]

    real = Neo4jWorkspace._write_rows

    def crash(self, name, gen, df):
        real(self, name, gen, df)
        if name == "account_scores":
            raise KeyboardInterrupt  # the process dies: no clean-up runs

    with monkeypatch.context() as mp:
        mp.setattr(Neo4jWorkspace, "_write_rows", crash)
        mp.setattr(Neo4jWorkspace, "_drop_stale", lambda self, quiet=False: None)
        with pytest.raises(KeyboardInterrupt):
            run_sweep(ws, seed=3, full=True)
    crashed = max(ws._gens().values()) + 1
    assert rows_of(crashed) > 0  # rings and scores of the crashed write, under a generation nobody reads
    for name in TABLES:
        pd.testing.assert_frame_equal(ws.table(name), before[name], obj=name)
    run_sweep(ws, seed=3, full=True)
    assert rows_of(crashed) == 0
    for name in TABLES:
        pd.testing.assert_frame_equal(ws.table(name), before[name], obj=name)
