"""The Neo4j workspace against a real Bolt server (a Neo4j 5, or the local ArcadeDB of
scripts/bolt-server): loads, reads, the sweep lock, sweep results, investigation, and parity
with the SQLite workspace down to the CLI's output."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pandas as pd
import pytest
from neo4j_fixtures import *  # noqa: F403 - the Bolt fixtures
from workspace_data import ACCOUNTS, LINKS, TXNS, make_dataset, sweep_record

from fraudgraph.errors import LockedError, NotFoundError, WorkspaceError
from fraudgraph.workspace.neo4j.store import Neo4jWorkspace, connect
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

pytestmark = pytest.mark.neo4j


TXNS = TXNS + [("t3", "A3", "X9", "account", 5.0, "2024-05-03T10:00:00", "settled")]  # X9 is not loaded (yet)


@pytest.fixture
def sqlite_ws(tmp_path):
    ws = SqliteWorkspace(tmp_path / "parity.db")
    yield ws
    ws.close()


def _record(sweep_id="S-000001"):
    return sweep_record(
        sweep_id, ring_members=pd.DataFrame({"ring_id": ["R-000001"] * 2, "account_id": ["A2", "007"]})
    )


# -- loading -------------------------------------------------------------------------------------
def test_an_empty_workspace_reads_like_an_empty_sqlite_one(neo4j_ws, sqlite_ws):
    for read in (
        "accounts",
        "links",
        "transactions",
        "account_state",
        "audit",
        "notices",
        "reviews",
        "sweeps",
    ):
        pd.testing.assert_frame_equal(getattr(neo4j_ws, read)(), getattr(sqlite_ws, read)(), obj=read)
    for name in ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions"):
        pd.testing.assert_frame_equal(neo4j_ws.table(name), sqlite_ws.table(name), obj=name)
    assert neo4j_ws.next_ring_number() == sqlite_ws.next_ring_number() == 1
    mine, theirs = neo4j_ws.status(), sqlite_ws.status()
    assert {k: v for k, v in mine.items() if k not in ("workspace", "backend")} == {
        k: v for k, v in theirs.items() if k not in ("workspace", "backend")
    }


def test_load_reads_back_the_input_frames_and_reload_changes_nothing(neo4j_ws, sqlite_ws):
    ds = make_dataset(ACCOUNTS, LINKS, TXNS)
    first = neo4j_ws.load(ds)
    assert (first.accounts_new, first.links_new, first.transactions_new) == (4, 7, 3)
    again = neo4j_ws.load(ds)
    assert again.unchanged
    sqlite_ws.load(ds)
    # Equal frames, columns and dtypes included, on both backends.
    for read in ("accounts", "links", "transactions"):
        pd.testing.assert_frame_equal(getattr(neo4j_ws, read)(), getattr(sqlite_ws, read)())
    acc = neo4j_ws.accounts()
    assert acc["account_id"].tolist() == ["007", "A2", "A3", "A4"]  # '007' stays a string
    assert acc["created_at"].dtype == "datetime64[ns]"
    links = neo4j_ws.links()
    assert links.loc[links["value"] == "N/A", "key"].isna().all()
    assert neo4j_ws.links(["A4"])["value"].tolist() == ["10.0.0.1", "+1 555 123 4567"]
    assert sorted(neo4j_ws.transactions(["A2"])["txn_id"]) == ["t1", "t2"]  # paid by or to A2


def test_values_without_identity_never_link_accounts(neo4j_ws, neo4j_driver, neo4j_database):
    neo4j_ws.load(make_dataset(ACCOUNTS, LINKS))
    # A2 and A3 both have email 'N/A': there must be no path between them through it.
    records = neo4j_driver.execute_query(
        "MATCH (a:Account {account_id: 'A2'})-[*1..2]-(b:Account {account_id: 'A3'}) RETURN count(*) AS n",
        database_=neo4j_database,
    ).records
    assert records[0]["n"] == 0
    assert neo4j_ws.status()["kinds"][1] == {"kind": "email", "links": 2, "identifiers": 0, "no_identity": 2}


def test_newer_extract_updates_accounts_keeps_earliest_first_seen_and_moves_rekeyed_links(neo4j_ws):
    neo4j_ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    newer_accounts = [list(a) for a in ACCOUNTS] + [["X9", "2024-02-01", 10.0, 0.0, 0, "active", None]]
    newer_accounts[0][3] = 900.0  # balance changed
    newer_links = [
        ("007", "device", "DEV-1", "dev-1", "2024-03-01"),  # later sighting: first_seen stays 2024-02-01
        ("A4", "phone", "+1 555 123 4567", "5551234567", "2024-06-01"),  # unknown before: now known
        ("A4", "card", "4111", "4111", "2024-06-02"),  # new observation
        ("A2", "device", "dev-1 ", "dev-9", "2024-02-03"),  # re-normalized to another identifier
    ]
    s = neo4j_ws.load(make_dataset([tuple(a) for a in newer_accounts], newer_links, TXNS))
    assert (s.accounts_new, s.accounts_updated) == (1, 1)
    assert (s.links_new, s.links_updated) == (1, 2)
    links = neo4j_ws.links().set_index(["account_id", "kind", "value"])
    assert links.loc[("007", "device", "DEV-1"), "first_seen"] == pd.Timestamp("2024-02-01")
    assert links.loc[("A4", "phone", "+1 555 123 4567"), "first_seen"] == pd.Timestamp("2024-06-01")
    assert links.loc[("A2", "device", "dev-1 "), "key"] == "dev-9"
    assert neo4j_ws.accounts(["007"])["balance"].item() == 900.0
    counts = neo4j_ws.identifier_counts(
        pd.DataFrame({"kind": ["device", "device"], "key": ["dev-1", "dev-9"]})
    )
    assert counts[["key", "n_accounts"]].values.tolist() == [["dev-1", 1], ["dev-9", 1]]
    assert counts["raw_values"].tolist() == [["DEV-1"], ["dev-1 "]]
    # X9 is now loaded: the payment made to it before is adopted (it shows as paid to X9).
    assert neo4j_ws.transactions(["X9"])["txn_id"].tolist() == ["t3"]


def test_failed_load_leaves_nothing_of_itself(neo4j_ws, monkeypatch):
    neo4j_ws.load(make_dataset(ACCOUNTS, LINKS))
    before = (neo4j_ws.accounts(), neo4j_ws.links(), neo4j_ws.transactions(), neo4j_ws.status()["last_load"])
    bigger = make_dataset(
        ACCOUNTS + [("A5", "2024-01-05", 1.0, 1.0, 0, "active", None)],
        LINKS + [("A5", "card", "4000", "4000", "2024-01-09")],
        TXNS,
    )

    def fail_after_accounts_and_links(*args, **kwargs):
        raise RuntimeError("disk full")  # a failure half-way: accounts and links already sent

    monkeypatch.setattr(Neo4jWorkspace, "_load_transactions", fail_after_accounts_and_links)
    with pytest.raises(RuntimeError, match="disk full"):
        neo4j_ws.load(bigger)
    pd.testing.assert_frame_equal(neo4j_ws.accounts(), before[0])
    pd.testing.assert_frame_equal(neo4j_ws.links(), before[1])
    assert neo4j_ws.status()["last_load"] == before[3]
    assert neo4j_ws.accounts(["A5"]).empty


# -- sweeps, state, logs -----------------------------------------------------------------------
def test_save_sweep_round_trip_matches_sqlite(neo4j_ws, sqlite_ws):
    for ws in (neo4j_ws, sqlite_ws):
        ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
        ws.save_sweep(_record())
        ws.save_sweep(_record("S-000002"))
    for name in ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions"):
        pd.testing.assert_frame_equal(neo4j_ws.table(name), sqlite_ws.table(name), obj=name)
    pd.testing.assert_frame_equal(
        neo4j_ws.table("decisions", action=["suspend"]), sqlite_ws.table("decisions", action=["suspend"])
    )
    pd.testing.assert_frame_equal(
        neo4j_ws.table("account_scores", ring_id=None), sqlite_ws.table("account_scores", ring_id=None)
    )
    for read in ("account_state", "audit", "notices", "reviews", "sweeps"):
        pd.testing.assert_frame_equal(getattr(neo4j_ws, read)(), getattr(sqlite_ws, read)(), obj=read)
    assert neo4j_ws.table("ring_members", ring_id="R-000001")["account_id"].tolist() == ["A2", "007"]
    assert neo4j_ws.next_ring_number() == 2
    assert neo4j_ws.notices(since_sweep="S-000001")["sweep_id"].tolist() == ["S-000002"]
    with pytest.raises(NotFoundError):
        neo4j_ws.notices(since_sweep="S-999999")
    mine, theirs = neo4j_ws.status(), sqlite_ws.status()
    for key in ("counts", "kinds", "distinct_identifiers", "rings", "last_sweep"):
        assert mine[key] == theirs[key], key


def test_analyst_actions_and_label_survive_a_reload(neo4j_ws):
    ds = make_dataset(ACCOUNTS, LINKS)
    neo4j_ws.load(ds)
    audit = _record().audit.assign(actor="ana", event="manual_suspend")
    neo4j_ws.apply_manual(
        state=_record().state,
        audit=audit,
        review={
            "account_id": "A2",
            "verdict": "dismiss",
            "note": "known family",
            "actor": "ana",
            "at": "2026-01-02T00:00:00",
            "evidence": None,
        },
        label=("A2", "legit"),
    )
    assert neo4j_ws.accounts(["A2"])["label"].item() == "legit"
    neo4j_ws.load(ds)
    assert neo4j_ws.accounts(["A2"])["label"].item() == "legit"
    assert neo4j_ws.reviews()["verdict"].tolist() == ["dismiss"]
    assert neo4j_ws.audit("007")["actor"].tolist() == ["ana"]


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


# -- investigation -------------------------------------------------------------------------------
HUB_ACCOUNTS = [(f"H{i}", "2024-01-01", 100.0, 0.0, 0, "active", None) for i in range(30)]
HUB_LINKS = [(f"H{i}", "ip", "1.2.3.4", "1.2.3.4", None) for i in range(30)] + [
    ("H0", "device", "d0", "d0", "2024-01-05"),
    ("H1", "device", "D0", "d0", None),
    ("H1", "card", "c1", "c1", None),
    ("H2", "card", "c1", "c1", None),
    ("H2", "phone", "555", "555", None),
    ("H3", "phone", "555", "555", None),
]


def test_neighbourhood_matches_sqlite_and_does_not_expand_hubs(neo4j_ws, sqlite_ws):
    ds = make_dataset(
        HUB_ACCOUNTS, HUB_LINKS, [("p1", "H0", "H1", "account", 10.0, "2024-02-01T00:00:00", "settled")]
    )
    for ws in (neo4j_ws, sqlite_ws):
        ws.load(ds)
    hood = neo4j_ws.neighbourhood(["H0"], hops=1, max_nodes=100, hub_threshold=10)
    assert set(hood.accounts["account_id"]) == {"H0", "H1"}  # through the device, not the IP
    ip = hood.identifiers.set_index("kind").loc["ip"]
    assert bool(ip["is_hub"]) and not bool(ip["expanded"]) and int(ip["n_accounts"]) == 30
    assert hood.paid["amount"].tolist() == [10.0]
    for hops, max_nodes in ((1, 100), (2, 100), (3, 100), (2, 4)):
        mine = neo4j_ws.neighbourhood(["H0"], hops=hops, max_nodes=max_nodes, hub_threshold=10)
        theirs = sqlite_ws.neighbourhood(["H0"], hops=hops, max_nodes=max_nodes, hub_threshold=10)
        for part in ("accounts", "identifiers", "uses", "paid"):
            pd.testing.assert_frame_equal(
                getattr(mine, part), getattr(theirs, part), obj=f"{part} hops={hops}"
            )
        assert (mine.notes, mine.truncated) == (theirs.notes, theirs.truncated)
    with pytest.raises(NotFoundError):
        neo4j_ws.neighbourhood(["nope"], hops=1, max_nodes=10, hub_threshold=10)


def test_shortest_path_goes_around_hubs(neo4j_ws, sqlite_ws):
    ds = make_dataset(HUB_ACCOUNTS, HUB_LINKS)
    for ws in (neo4j_ws, sqlite_ws):
        ws.load(ds)
    chain = neo4j_ws.shortest_path("H0", "H3", max_hops=6, hub_threshold=10)
    # The IP links H0 and H3 directly, but it is a hub: the path goes device, card, phone.
    assert [n.get("account_id") or n["key"] for n in chain] == ["H0", "d0", "H1", "c1", "H2", "555", "H3"]
    assert chain[1]["raw_values"] == ["D0", "d0"]
    assert chain == sqlite_ws.shortest_path("H0", "H3", max_hops=6, hub_threshold=10)
    assert neo4j_ws.shortest_path("H0", "H3", max_hops=2, hub_threshold=10) is None  # too far
    assert neo4j_ws.shortest_path("H0", "H9", max_hops=6, hub_threshold=10) is None  # only the hub links them
    direct = neo4j_ws.shortest_path("H0", "H9", max_hops=1, hub_threshold=100)  # no longer a hub
    assert [n.get("account_id") or n["key"] for n in direct] == ["H0", "1.2.3.4", "H9"]
    with pytest.raises(NotFoundError):
        neo4j_ws.shortest_path("H0", "nope", max_hops=6, hub_threshold=10)


def test_identifier_counts_match_sqlite(neo4j_ws, sqlite_ws):
    ds = make_dataset(HUB_ACCOUNTS, HUB_LINKS)
    for ws in (neo4j_ws, sqlite_ws):
        ws.load(ds)
    pairs = pd.DataFrame({"kind": ["ip", "device", "card", "email"], "key": ["1.2.3.4", "d0", "c1", "none"]})
    mine = neo4j_ws.identifier_counts(pairs)
    pd.testing.assert_frame_equal(mine, sqlite_ws.identifier_counts(pairs))
    assert mine["n_accounts"].tolist() == [2, 2, 30]


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
    from fraudgraph.detection.engine import resolve_engine

    ok = neo4j_ws.run_query("gds/procedures")
    if ok:
        pytest.skip("this server has Graph Data Science")
    with pytest.raises(WorkspaceError, match="GDS procedures not available"):
        resolve_engine(neo4j_ws, "gds")
    assert resolve_engine(neo4j_ws, "auto") == "python"


# -- end to end: the same world through both workspaces, and through the CLI ----------------------
@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    from fraudgraph.synthetic.world import generate_world, write_world

    folder = tmp_path_factory.mktemp("world")
    write_world(generate_world(300, seed=11), folder)
    return folder


_TIME_COLUMNS = {"audit": ["at"], "notices": ["created_at"], "account_state": ["updated_at"]}


def test_sweep_parity_same_rings_and_decisions(neo4j_ws, sqlite_ws, small_world):
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset

    ds = read_dataset(small_world)
    results = {}
    for ws in (neo4j_ws, sqlite_ws):
        ws.load(ds)
        results[ws.backend] = run_sweep(ws, seed=3)
    assert results["neo4j"].summary["rings"] == results["sqlite"].summary["rings"] > 0
    assert results["neo4j"].engine == "python"
    for name in ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions"):
        pd.testing.assert_frame_equal(neo4j_ws.table(name), sqlite_ws.table(name), obj=name)
    for read in ("account_state", "audit", "notices"):
        drop = _TIME_COLUMNS[read]
        pd.testing.assert_frame_equal(
            getattr(neo4j_ws, read)().drop(columns=drop),
            getattr(sqlite_ws, read)().drop(columns=drop),
            obj=read,
        )
    # A second sweep keeps ring ids stable on both.
    again = {ws.backend: run_sweep(ws, seed=3) for ws in (neo4j_ws, sqlite_ws)}
    assert again["neo4j"].diff == again["sqlite"].diff
    pd.testing.assert_frame_equal(neo4j_ws.table("ring_members"), sqlite_ws.table("ring_members"))


def test_cli_gives_the_same_output_on_neo4j_and_sqlite(bolt_server, neo4j_database, small_world, tmp_path):
    from click.testing import CliRunner

    from fraudgraph.cli.main import cli

    runner = CliRunner()
    env = {
        "FRAUDGRAPH_NEO4J_URI": bolt_server.uri,
        "FRAUDGRAPH_NEO4J_USER": bolt_server.user,
        "FRAUDGRAPH_NEO4J_PASSWORD": bolt_server.password,
        "FRAUDGRAPH_NEO4J_DATABASE": neo4j_database,
    }
    no_neo4j = {name: None for name in env}  # the SQLite runs must not pick up a Neo4j from the environment
    on_neo4j = ["--neo4j", bolt_server.uri, "--neo4j-database", neo4j_database]
    on_sqlite = ["--db", str(tmp_path / "cli.db")]

    def run(backend, *args):
        result = runner.invoke(
            cli, [*backend, *args], env=env if backend is on_neo4j else no_neo4j, catch_exceptions=False
        )
        assert result.exit_code == 0, f"{backend[0]} {' '.join(args)}: {result.output}"
        return result.stdout

    for backend in (on_neo4j, on_sqlite):
        run(backend, "load", str(small_world))
        run(backend, "sweep", "--seed", "5")
    rings = json.loads(run(on_neo4j, "rings", "--format", "json", "--limit", "50"))
    assert rings == json.loads(run(on_sqlite, "rings", "--format", "json", "--limit", "50")) and rings
    top = rings[0]["ring_id"]
    assert json.loads(run(on_neo4j, "ring", top, "--format", "json")) == json.loads(
        run(on_sqlite, "ring", top, "--format", "json")
    )
    first, second = [
        m["account_id"] for m in json.loads(run(on_neo4j, "ring", top, "--format", "json"))["members"][:2]
    ]
    assert json.loads(run(on_neo4j, "account", first, "--format", "json")) == json.loads(
        run(on_sqlite, "account", first, "--format", "json")
    )
    path = json.loads(run(on_neo4j, "path", first, second, "--format", "json"))
    assert len(path) == len(json.loads(run(on_sqlite, "path", first, second, "--format", "json"))) >= 3
    for backend, name in ((on_neo4j, "neo4j.json"), (on_sqlite, "sqlite.json")):
        run(backend, "export", "--ring", top, "--format", "json", "-o", str(tmp_path / name))
    assert json.loads((tmp_path / "neo4j.json").read_text()) == json.loads(
        (tmp_path / "sqlite.json").read_text()
    )
    status = runner.invoke(cli, [*on_neo4j, "status", "--format", "json"], env=env)
    assert status.exit_code == 0 and json.loads(status.stdout)["backend"] == "neo4j"
    gds = runner.invoke(cli, [*on_neo4j, "sweep", "--engine", "gds"], env=env)
    assert gds.exit_code == 1 and "GDS procedures not available" in gds.output
    wrong = runner.invoke(
        cli, [*on_neo4j, "status"], env={**env, "FRAUDGRAPH_NEO4J_PASSWORD": "wrong-pass-123"}
    )
    assert wrong.exit_code == 1 and "wrong-pass-123" not in wrong.output

    # The rest of the command line: decisions, the analyst loop, logs and reports, same on both.
    def same(*args, drop=()):
        a, b = (json.loads(run(backend, *args, "--format", "json")) for backend in (on_neo4j, on_sqlite))
        strip = lambda rows: [{k: v for k, v in r.items() if k not in drop} for r in rows]  # noqa: E731
        assert strip(a) == strip(b), args
        return a

    decisions = same("decisions")
    flagged = decisions[0]["account_id"]
    for backend in (on_neo4j, on_sqlite):
        run(backend, "review", flagged, "--dismiss", "--note", "documents checked", "--analyst", "ana")
        run(backend, "suspend", second, "--reason", "stolen identity reported", "--analyst", "ana")
        run(backend, "sweep", "--seed", "5")
    same("decisions")
    same("queue", drop=("since",))
    same("audit", drop=("at",))
    same("notices", drop=("created_at",))
    assert len(same("sweeps", drop=("finished_at",))) == 2
    for backend, name in ((on_neo4j, "neo4j.md"), (on_sqlite, "sqlite.md")):
        run(backend, "report", "--ring", top, "-o", str(tmp_path / name))
    assert top in (tmp_path / "neo4j.md").read_text()
