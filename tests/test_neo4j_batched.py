"""Batched first loads into the Neo4j workspace (``load --batched``): the stored graph is the one a
one-transaction load gives, an interrupted load is finished by running it again, and sweeps refuse
to run on a workspace whose batched load did not finish."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from neo4j_fixtures import *  # noqa: F403 - the Bolt fixtures

from fraudgraph.errors import LockedError, WorkspaceError
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world, write_world
from fraudgraph.workspace.neo4j.lock import native, node_lock
from fraudgraph.workspace.neo4j.store import Neo4jWorkspace, _batch_plan


# -- the batches (no server) ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    write_world(generate_world(300, seed=3), folder)
    return folder


def test_batches_cover_every_row_once_and_keep_an_accounts_rows_together(world_dir):
    data = read_dataset(world_dir)
    plan = _batch_plan(data.accounts, data.links, data.transactions, 97)
    phases = [phase for phase, _ in plan]
    assert phases == sorted(phases, key=["accounts", "links", "transactions"].index)  # accounts first
    for phase, frame in (("accounts", data.accounts), ("links", data.links)):
        parts = [part for p, part in plan if p == phase]
        assert sum(len(p) for p in parts) == len(frame)
        owners = [set(p["account_id"]) for p in parts]
        assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1 :]), phase
    txns = [part for p, part in plan if p == "transactions"]
    assert sorted(pd.concat(txns)["txn_id"]) == sorted(data.transactions["txn_id"].unique())
    payers = [set(p["account_id"]) for p in txns]
    assert all(not (a & b) for i, a in enumerate(payers) for b in payers[i + 1 :])
    # About batch_rows each: a batch only grows past it to keep one account's rows together.
    most_links = int(data.links.groupby("account_id").size().max())
    assert all(len(p) < 97 + most_links for p in (part for _, part in plan))


# -- the stored graph (Bolt server) -------------------------------------------------------------
def _plain(value):
    value = native(value)
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _node(labels, props) -> tuple:
    return (tuple(sorted(labels)), tuple(sorted((k, _plain(v)) for k, v in props.items())))


# The load's own bookkeeping (its record, sequence numbers, the load lock) differs by design.
_BOOKKEEPING = {"Load", "Meta", "Lock"}


def graph_of(driver, database) -> dict[str, list]:
    """Every node and relationship of the data (not the load records), as sorted plain tuples."""
    with driver.session(database=database) as session:
        nodes = [
            _node(r["labels"], r["props"])
            for r in session.run("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
            if not _BOOKKEEPING & set(r["labels"])
        ]
        rels = [
            (_node(r["la"], r["pa"]), r["type"], _node([], r["pr"]), _node(r["lb"], r["pb"]))
            for r in session.run(
                "MATCH (a)-[r]->(b) RETURN labels(a) AS la, properties(a) AS pa, type(r) AS type, "
                "properties(r) AS pr, labels(b) AS lb, properties(b) AS pb"
            )
        ]
    return {"nodes": sorted(nodes), "relationships": sorted(rels)}


def _wipe(driver, database) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) DETACH DELETE n").consume()


def _extracts(world_dir):
    """A first extract without the last 40 accounts (payments to them go to stand-ins), then
    the whole world with some balances, sightings and amounts changed: new, updated, adopted."""
    full = read_dataset(world_dir)
    late = set(full.accounts["account_id"].iloc[-40:])
    first = SimpleNamespace(
        accounts=full.accounts[~full.accounts["account_id"].isin(late)].reset_index(drop=True),
        links=full.links[~full.links["account_id"].isin(late)].reset_index(drop=True),
        transactions=full.transactions[~full.transactions["account_id"].isin(late)].reset_index(drop=True),
        warnings=[],
        source="extract-1",
    )
    accounts = full.accounts.copy()
    accounts.loc[:19, "balance"] = accounts.loc[:19, "balance"] + 1.0
    links = full.links.copy()
    links.loc[:29, "first_seen"] = pd.to_datetime(links.loc[:29, "first_seen"]) - pd.Timedelta(days=3)
    txns = full.transactions.copy()
    txns.loc[:9, "amount"] = txns.loc[:9, "amount"] + 5.0
    second = dataclasses.replace(full, accounts=accounts, links=links, transactions=txns)
    second.source = "extract-2"  # type: ignore[attr-defined]
    return first, second


@pytest.mark.neo4j
def test_a_batched_load_stores_the_same_graph_as_one_transaction(neo4j_driver, neo4j_database, world_dir):
    first, second = _extracts(world_dir)
    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    one = [ws.load(first), ws.load(second)]
    expected = graph_of(neo4j_driver, neo4j_database)
    assert {n[0] for n in expected["nodes"]} >= {("Account",), ("Identifier",), ("Merchant",)}
    _wipe(neo4j_driver, neo4j_database)

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    said: list[str] = []
    batched = [ws.load_batched(first, batch_rows=97), ws.load_batched(second, batch_rows=97, progress=said.append)]
    assert graph_of(neo4j_driver, neo4j_database) == expected
    for a, b in zip(one, batched):
        assert dataclasses.replace(a, seconds=0) == dataclasses.replace(b, seconds=0)
    assert batched[1].accounts_new == 40 and batched[1].accounts_updated >= 20 and batched[1].links_updated >= 1
    assert any("batch 1 / " in line for line in said)
    # Done: nothing marked incomplete, the record says how many batches, a reload writes nothing.
    assert ws.incomplete_load() is None
    record = ws.status()["last_load"]
    assert record["source"] == "extract-2" and record["batched"]["complete"]
    assert record["batched"]["committed"] == record["batched"]["batches"] > 3
    assert ws.load_batched(second, batch_rows=97).unchanged
    assert graph_of(neo4j_driver, neo4j_database) == expected


@pytest.mark.neo4j
@pytest.mark.parametrize(("fail_in", "nth"), [("_load_links", 3), ("_load_transactions", 1)])
def test_an_interrupted_batched_load_blocks_sweeps_until_run_again(
    neo4j_driver, neo4j_database, world_dir, monkeypatch, fail_in, nth
):
    data = read_dataset(world_dir)
    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    ws.load(data)
    expected = graph_of(neo4j_driver, neo4j_database)
    _wipe(neo4j_driver, neo4j_database)

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    calls = []
    real = getattr(Neo4jWorkspace, fail_in)

    def crash_on_the_nth(self, run, *args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            real(self, run, *args, **kwargs)  # the batch's writes are sent, then the process dies
            raise KeyboardInterrupt
        return real(self, run, *args, **kwargs)

    monkeypatch.setattr(Neo4jWorkspace, fail_in, crash_on_the_nth)
    with pytest.raises(KeyboardInterrupt):
        ws.load_batched(data, batch_rows=97)
    monkeypatch.undo()

    unfinished = ws.incomplete_load()
    assert unfinished is not None and unfinished["source"] == str(world_dir)
    assert 0 < unfinished["batches_done"] < unfinished["batches"]
    assert ws.status()["last_load"]["batched"] == {
        "batches": unfinished["batches"],
        "committed": unfinished["batches_done"],
        "complete": False,
    }
    with pytest.raises(WorkspaceError, match=r"did not finish \(\d+ of \d+ batches committed\); run the same load"):
        ws.sweep_lock("test")

    again = ws.load_batched(data, batch_rows=97)
    assert not again.unchanged and again.accounts_new == 0  # every account landed the first time
    assert graph_of(neo4j_driver, neo4j_database) == expected
    assert ws.incomplete_load() is None
    with ws.sweep_lock("test"):
        pass


@pytest.mark.neo4j
def test_a_one_transaction_load_of_the_same_folder_also_finishes_it(neo4j_driver, neo4j_database, world_dir):
    first, second = _extracts(world_dir)
    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    ws.run_query(
        "load/begin_batched_load",
        write=True,
        seq=99,
        at="2026-12-01T00:00:00",
        source="extract-1",
        summary=json.dumps({}),
        batches=5,
        transactions_before=0,
    )
    ws.load(second)  # another folder: the unfinished one still blocks sweeps
    with pytest.raises(WorkspaceError, match="batched load of extract-1"):
        ws.sweep_lock("test")
    ws.load(first)
    assert ws.incomplete_load() is None


@pytest.mark.neo4j
def test_only_one_batched_load_at_a_time(neo4j_driver, neo4j_database, world_dir):
    ws = Neo4jWorkspace(neo4j_driver, neo4j_database)
    with node_lock(ws.run_query, "nightly load", ttl=60, location="db", name="load", what="batched load"):
        with pytest.raises(LockedError, match="another batched load is running on .*nightly load"):
            ws.load_batched(read_dataset(world_dir))
    assert ws.run_query("read/account_count")[0]["n"] == 0


@pytest.mark.neo4j
def test_cli_load_batched(bolt_server, neo4j_database, world_dir, tmp_path):
    from click.testing import CliRunner

    from fraudgraph.cli.main import cli

    env = {
        "FRAUDGRAPH_NEO4J_URI": bolt_server.uri,
        "FRAUDGRAPH_NEO4J_USER": bolt_server.user,
        "FRAUDGRAPH_NEO4J_PASSWORD": bolt_server.password,
        "FRAUDGRAPH_NEO4J_DATABASE": neo4j_database,
    }
    runner = CliRunner()
    out = runner.invoke(cli, ["load", str(world_dir), "--batch-rows", "500", "--format", "json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["accounts_new"] == 300
    swept = runner.invoke(cli, ["sweep"], env=env)
    assert swept.exit_code == 0, swept.output
    on_sqlite = runner.invoke(cli, ["--db", str(tmp_path / "w.db"), "load", str(world_dir), "--batched"])
    assert on_sqlite.exit_code == 2 and "for a Neo4j workspace" in on_sqlite.output
    # Through files the server reads: only into an empty database (one line, exit 1).
    again = runner.invoke(cli, ["load", str(world_dir), "--server-folder", str(tmp_path / "files")], env=env)
    assert again.exit_code == 1 and "only for a first load into an empty workspace" in again.output
    url_only = runner.invoke(cli, ["load", str(world_dir), "--server-url", "file:///fg"], env=env)
    assert url_only.exit_code == 2 and "give both" in url_only.output


@pytest.mark.neo4j
def test_status_says_the_last_load_is_unfinished(bolt_server, neo4j_database, neo4j_driver):
    from click.testing import CliRunner

    from fraudgraph.cli.main import cli

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database)
    ws.run_query(
        "load/begin_batched_load",
        write=True,
        seq=1,
        at="2026-12-01T00:00:00",
        source="extract-1",  # as a batched load records itself before its first batch commits
        summary=json.dumps({"batched": {"batches": 5, "committed": 0, "complete": False}}),
        batches=5,
        transactions_before=0,
    )
    env = {
        "FRAUDGRAPH_NEO4J_URI": bolt_server.uri,
        "FRAUDGRAPH_NEO4J_USER": bolt_server.user,
        "FRAUDGRAPH_NEO4J_PASSWORD": bolt_server.password,
        "FRAUDGRAPH_NEO4J_DATABASE": neo4j_database,
    }
    out = CliRunner().invoke(cli, ["status"], env=env)
    assert out.exit_code == 0, out.output
    line = next(x for x in out.stdout.splitlines() if x.startswith("last load"))
    assert "from extract-1 (unfinished: 0 of 5 batches committed)" in line


# -- a first load through files the server reads (LOAD CSV ... IN TRANSACTIONS) -----------------
def test_the_server_read_file_statements_take_only_a_url_and_a_batch_size():
    from fraudgraph.workspace.neo4j.queries import load_queries
    from fraudgraph.workspace.neo4j.store import _CSV_STEPS

    library = load_queries()
    for name, _ in _CSV_STEPS:
        query = library[name]
        assert query.parameters == frozenset({"url", "batch"}), name
        assert query.text.startswith("LOAD CSV WITH HEADERS FROM $url AS row"), name
        assert query.text.rstrip().endswith("} IN TRANSACTIONS OF $batch ROWS"), name


@pytest.fixture
def arcadedb(bolt_server):
    if not bolt_server.is_arcadedb:
        pytest.skip("the test writes the files where the server reads them: only on the local ArcadeDB")


@pytest.mark.neo4j
def test_a_first_load_through_server_read_files_stores_the_same_graph(
    neo4j_driver, neo4j_database, world_dir, tmp_path, arcadedb
):
    first, _ = _extracts(world_dir)
    ws = Neo4jWorkspace(neo4j_driver, neo4j_database)
    one = ws.load(first)
    expected = graph_of(neo4j_driver, neo4j_database)
    assert any(n[0] == ("ExternalAccount",) for n in expected["nodes"])
    _wipe(neo4j_driver, neo4j_database)

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database)
    said: list[str] = []
    got = ws.load_csv(first, tmp_path / "for-the-server", batch_rows=300, progress=said.append)
    assert graph_of(neo4j_driver, neo4j_database) == expected
    assert dataclasses.replace(got, seconds=0) == dataclasses.replace(one, seconds=0)
    assert (tmp_path / "for-the-server" / "uses.csv").is_file() and "step 8 / 8" in said[-1]
    assert ws.incomplete_load() is None and ws.status()["last_load"]["batched"]["complete"]
    with pytest.raises(WorkspaceError, match="only for a first load into an empty workspace"):
        ws.load_csv(first, tmp_path / "again")


@pytest.mark.neo4j
def test_an_interrupted_load_through_server_read_files_is_finished_by_running_it_again(
    neo4j_driver, neo4j_database, world_dir, tmp_path, monkeypatch, arcadedb
):
    data = read_dataset(world_dir)
    ws = Neo4jWorkspace(neo4j_driver, neo4j_database)
    ws.load(data)
    expected = graph_of(neo4j_driver, neo4j_database)
    _wipe(neo4j_driver, neo4j_database)

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database)
    real = Neo4jWorkspace._run_in_transactions

    def dies_in_the_links(self, name, /, **params):
        if name == "load/csv_uses":
            real(self, "load/csv_uses", **{**params, "batch": 50})  # some batches commit...
            raise KeyboardInterrupt  # ...then the process dies
        return real(self, name, **params)

    monkeypatch.setattr(Neo4jWorkspace, "_run_in_transactions", dies_in_the_links)
    with pytest.raises(KeyboardInterrupt):
        ws.load_csv(data, tmp_path / "files", batch_rows=100)
    monkeypatch.undo()
    assert ws.incomplete_load()["batches_done"] == 2
    with pytest.raises(WorkspaceError, match="did not finish"):
        ws.sweep_lock("test")
    ws.load_csv(data, tmp_path / "files", batch_rows=100)
    assert graph_of(neo4j_driver, neo4j_database) == expected
    assert ws.incomplete_load() is None
