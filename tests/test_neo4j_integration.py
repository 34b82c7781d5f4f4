"""What only the Neo4j workspace does, against a real Bolt server (a Neo4j 5, or the local ArcadeDB of
scripts/bolt-server): identity-less values never become graph links, the sweep lock's expiry,
heartbeat and race between clients, connection errors, the GDS engine check, and the CLI's Neo4j
connection errors.

Everything the backends share (loads, reads, results, investigation, the CLI's output) is in
tests/workspace, the conformance suite, which runs each test on SQLite and on Neo4j."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pandas as pd
import pytest
from neo4j_fixtures import *  # noqa: F403 - the Bolt fixtures
from workspace_data import ACCOUNTS, LINKS, make_dataset

from fraudgraph.errors import LockedError, WorkspaceError
from fraudgraph.workspace.neo4j.store import Neo4jWorkspace, connect

pytestmark = pytest.mark.neo4j


# -- the graph -----------------------------------------------------------------------------------
def test_values_without_identity_never_link_accounts(neo4j_ws, neo4j_driver, neo4j_database):
    neo4j_ws.load(make_dataset(ACCOUNTS, LINKS))
    # A2 and A3 both have email 'N/A': there must be no path between them through it.
    records = neo4j_driver.execute_query(
        "MATCH (a:Account {account_id: 'A2'})-[*1..2]-(b:Account {account_id: 'A3'}) RETURN count(*) AS n",
        database_=neo4j_database,
    ).records
    assert records[0]["n"] == 0
    assert neo4j_ws.status()["kinds"][1] == {"kind": "email", "links": 2, "identifiers": 0, "no_identity": 2}


# -- the sweep lock between clients ------------------------------------------------------------
def test_sweep_lock_is_exclusive_and_recovered_after_expiry(neo4j_driver, neo4j_database):
    one = Neo4jWorkspace(neo4j_driver, neo4j_database, lock_ttl=600)
    two = Neo4jWorkspace(neo4j_driver, neo4j_database, lock_ttl=600)
    with one.sweep_lock("nightly sweep"), pytest.raises(LockedError, match="nightly sweep"):
        with two.sweep_lock("second"):
            pass
    with two.sweep_lock("second"):  # released on exit
        pass
    # A crashed holder: its lock node stays behind, with an expiry in the past.
    past = datetime(2020, 1, 1)
    one.run_query(
        "write/lock_acquire",
        write=True,
        name="sweep",
        owner="crashed",
        token="dead",
        now=past,
        expires_at=past + timedelta(seconds=1),
    )
    with two.sweep_lock("after crash"), pytest.raises(LockedError, match="after crash"):
        with one.sweep_lock("third"):
            pass


def test_a_long_sweep_keeps_its_lock_alive(neo4j_driver, neo4j_database):
    import time

    holder = Neo4jWorkspace(neo4j_driver, neo4j_database, lock_ttl=1.0)
    other = Neo4jWorkspace(neo4j_driver, neo4j_database, lock_ttl=1.0)
    with holder.sweep_lock("long sweep"):
        time.sleep(2.5)  # well past the ttl: only the heartbeat keeps the lock
        with pytest.raises(LockedError, match="long sweep"), other.sweep_lock("impatient"):
            pass


def test_only_one_of_two_simultaneous_sweeps_gets_the_lock(neo4j_driver, neo4j_database):
    workspaces = [Neo4jWorkspace(neo4j_driver, neo4j_database) for _ in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    release = threading.Event()

    def contender(ws, name):
        barrier.wait()
        try:
            with ws.sweep_lock(name):
                outcomes.append("held")
                release.wait(10)
        except LockedError:
            outcomes.append("locked")
            release.set()

    threads = [threading.Thread(target=contender, args=(ws, f"sweep {i}")) for i, ws in enumerate(workspaces)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["held", "locked"]


# -- connect and the engine --------------------------------------------------------------------
def test_connect_gives_one_clear_line_for_a_wrong_password(bolt_server):
    with pytest.raises(WorkspaceError) as info:
        connect(bolt_server.uri, bolt_server.user, "definitely-not-the-password", bolt_server.database)
    message = str(info.value)
    assert "refused user" in message and "definitely-not-the-password" not in message


def test_connect_names_an_unreachable_server():
    with pytest.raises(WorkspaceError, match="cannot reach Neo4j at bolt://127.0.0.1:1"):
        connect("bolt://127.0.0.1:1", "neo4j", "secret")


def test_gds_engine_without_gds_is_a_clear_error_and_auto_falls_back(neo4j_ws):
    from fraudgraph.app.engine import resolve_engine

    ok = neo4j_ws.run_query("gds/procedures")
    if ok:
        pytest.skip("this server has Graph Data Science")
    with pytest.raises(WorkspaceError, match="GDS procedures not available"):
        resolve_engine(neo4j_ws, "gds")
    assert resolve_engine(neo4j_ws, "auto") == "python"


# -- the command line ----------------------------------------------------------------------------
def test_cli_names_missing_gds_and_hides_a_wrong_password(bolt_server, neo4j_database):
    from click.testing import CliRunner

    from fraudgraph.cli.main import cli

    runner = CliRunner()
    env = {
        "FRAUDGRAPH_NEO4J_URI": bolt_server.uri,
        "FRAUDGRAPH_NEO4J_USER": bolt_server.user,
        "FRAUDGRAPH_NEO4J_PASSWORD": bolt_server.password,
        "FRAUDGRAPH_NEO4J_DATABASE": neo4j_database,
    }
    on_neo4j = ["--neo4j", bolt_server.uri, "--neo4j-database", neo4j_database]
    gds = runner.invoke(cli, [*on_neo4j, "sweep", "--engine", "gds"], env=env)
    assert gds.exit_code == 1 and "GDS procedures not available" in gds.output
    wrong = runner.invoke(cli, [*on_neo4j, "status"], env={**env, "FRAUDGRAPH_NEO4J_PASSWORD": "wrong-pass-123"})
    assert wrong.exit_code == 1 and "wrong-pass-123" not in wrong.output


# -- the schema of results in generations ------------------------------------------------------
def test_a_schema_1_workspace_is_upgraded_and_reads_as_it_did(neo4j_driver, neo4j_database, monkeypatch, tmp_path):
    """A workspace of fraudgraph schema 1 (every result row stored, one per account and ring, no
    generations) reads the same after the upgrade, and its next sweep replaces its results."""
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.workspace.neo4j import store
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    write_world(generate_world(120, seed=5), tmp_path / "world")
    from fraudgraph.ingest.contract import read_dataset

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    ws.load(read_dataset(tmp_path / "world"))
    with monkeypatch.context() as mp:  # schema 1 stored every row
        mp.setattr(store, "sparse_tables", lambda record: (dict(record.tables), None))
        run_sweep(ws, seed=3)
    ref = SqliteWorkspace(tmp_path / "ref.db")
    ref.load(read_dataset(tmp_path / "world"))
    run_sweep(ref, seed=3)
    # Back to schema 1: no generations, one row per account / ring, the unique constraints.
    run = lambda q: neo4j_driver.execute_query(q, database_=neo4j_database).records  # noqa: E731
    run("MATCH (n) WHERE n:Ring OR n:AccountScore OR n:Decision OR n:Hub REMOVE n.gen")
    run("MATCH (m:Meta) WHERE m.key STARTS WITH 'results.' DELETE m")
    run("MATCH (m:Meta {key: 'schema_version'}) SET m.value = 1")
    run("CREATE CONSTRAINT fg_decision IF NOT EXISTS FOR (d:Decision) REQUIRE d.account_id IS UNIQUE")
    run("CREATE CONSTRAINT fg_ring_id IF NOT EXISTS FOR (r:Ring) REQUIRE r.ring_id IS UNIQUE")

    upgraded = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=50)
    assert int(upgraded.run_query("read/meta_value", key="schema_version")[0]["value"]) == store.SCHEMA_VERSION
    for name in ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions"):
        pd.testing.assert_frame_equal(upgraded.table(name), ref.table(name), obj=name)
    run_sweep(upgraded, seed=3, full=True)  # two generations coexist: the old constraints are gone
    run_sweep(ref, seed=3, full=True)
    for name in ("rings", "account_scores", "decisions"):
        pd.testing.assert_frame_equal(upgraded.table(name), ref.table(name), obj=name)
    left = run("MATCH (n) WHERE (n:Ring OR n:Decision OR n:AccountScore) AND n.gen = 0 RETURN count(n) AS n")
    assert left[0]["n"] == 0  # the schema-1 rows went after the switch
    ref.close()
