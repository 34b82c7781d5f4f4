"""The Neo4j workspace and the graph engine without a server: the exact named queries and
parameters they send (a recording fake driver), error mapping, and the GDS path on a fake GDS."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from unittest import mock

import neo4j
import neo4j.exceptions as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from neo4j_fixtures import FakeDriver, fake_driver  # noqa: F401 - fixture

from fraudgraph.errors import CypherError, LockedError, WorkspaceError
from fraudgraph.model.frames import ACCOUNT_COLUMNS, LINK_COLUMNS, TRANSACTION_COLUMNS
from fraudgraph.workspace.base import STATE_COLUMNS, SweepRecord
from fraudgraph.workspace.neo4j.store import SCHEMA_VERSION, Neo4jWorkspace, connect


def dataset(n_accounts=3):
    acc = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n_accounts)],
            "created_at": pd.to_datetime(["2024-01-01"] * n_accounts),
            "credit_limit": [100.0] * n_accounts,
            "balance": [np.nan] * n_accounts,
            "overdue_days": [0] * n_accounts,
            "status": ["active"] * n_accounts,
            "label": [None] * n_accounts,
            "properties": ["{}"] * n_accounts,
        }
    )[ACCOUNT_COLUMNS]
    links = pd.DataFrame(
        [
            ("A0", "device", "D-1", "d-1", "2024-02-01"),
            ("A1", "device", "d1", "d-1", None),
            ("A2", "email", "N/A", None, None),
        ],
        columns=LINK_COLUMNS,
    )
    links["first_seen"] = pd.to_datetime(links["first_seen"])
    tx = pd.DataFrame(
        [
            ("t1", "A0", "A1", "account", 5.0, pd.Timestamp("2024-03-01"), "settled"),
            ("t2", "A0", "shop", "merchant", 7.0, pd.Timestamp("2024-03-02"), "settled"),
        ],
        columns=TRANSACTION_COLUMNS,
    )
    return SimpleNamespace(accounts=acc, links=links, transactions=tx, warnings=["w"], files={})


# -- schema --------------------------------------------------------------------------------------
def test_a_fresh_store_gets_every_constraint_and_index_then_the_schema_version():
    driver = FakeDriver()
    Neo4jWorkspace(driver, "fraud")
    names = driver.names()
    assert names[0] == "read/meta_value"
    schema = [n for n in names if n.startswith("schema/")]
    assert "schema/account_id_unique" in schema and "schema/identifier_unique" in schema and len(schema) >= 10
    assert all(c.routing == "w" and c.database == "fraud" for c in driver.calls if c.name.startswith("schema/"))
    assert driver.calls[-1].name == "write/meta_value"
    assert driver.calls[-1].params == {"key": "schema_version", "value": SCHEMA_VERSION}


def test_an_existing_store_is_not_touched_and_a_newer_schema_is_refused(fake_driver):
    Neo4jWorkspace(fake_driver)
    assert fake_driver.names() == ["read/meta_value"]
    newer = FakeDriver(answers={"read/meta_value": [{"value": SCHEMA_VERSION + 1}]})
    with pytest.raises(WorkspaceError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Neo4jWorkspace(newer, location="bolt://db:7687")


def test_query_errors_become_one_line_workspace_errors(fake_driver):
    ws = Neo4jWorkspace(fake_driver, location="bolt://db:7687")

    def boom(params):
        raise nx.ClientError("Invalid input 'X'")

    fake_driver.answers["read/account_count"] = boom
    with pytest.raises(WorkspaceError, match="bolt://db:7687: query read/account_count failed"):
        ws.status()
    with pytest.raises(CypherError, match="missing \\$limit"):
        ws.run_query("read/account_ids_page", after="")


# -- loading -------------------------------------------------------------------------------------
def test_load_into_an_empty_store_sends_only_batched_unwinds_in_one_transaction(fake_driver):
    ws = Neo4jWorkspace(fake_driver, batch_size=2)
    fake_driver.calls.clear()
    summary = ws.load(dataset(3))
    assert (summary.accounts_new, summary.links_new, summary.transactions_new) == (3, 3, 2)
    assert summary.warnings == ["w"]
    assert {c.routing for c in fake_driver.calls} == {"tx"} and fake_driver.committed == [1]
    writes = fake_driver.calls_to("load/accounts")
    assert [len(c.params["rows"]) for c in writes] == [2, 1]  # batches of batch_size
    row = writes[0].params["rows"][0]
    assert row == {
        "account_id": "A0",
        "created_at": datetime(2024, 1, 1),
        "credit_limit": 100.0,
        "balance": None,
        "overdue_days": 0,
        "status": "active",
        "label": None,
        "properties": "{}",
    }
    assert fake_driver.calls_to("load/identifiers")[0].params == {"rows": [{"kind": "device", "key": "d-1"}]}
    uses = [r for c in fake_driver.calls_to("load/uses") for r in c.params["rows"]]
    assert {(r["account_id"], r["value"], r["first_seen"]) for r in uses} == {
        ("A0", "D-1", datetime(2024, 2, 1)),
        ("A1", "d1", None),
    }
    unlinked = fake_driver.calls_to("load/unlinked_values")[0].params["rows"]
    assert unlinked == [{"account_id": "A2", "kind": "email", "value": "N/A", "first_seen": None}]
    assert fake_driver.calls_to("load/refresh_identifiers")[0].params == {"pairs": [{"kind": "device", "key": "d-1"}]}
    to_account = fake_driver.calls_to("load/payments_to_accounts")[0].params["rows"]
    to_merchant = fake_driver.calls_to("load/payments_to_merchants")[0].params["rows"]
    assert [r["txn_id"] for r in to_account] == ["t1"] and [r["txn_id"] for r in to_merchant] == ["t2"]
    assert to_account[0]["ts"] == datetime(2024, 3, 1)
    recorded = fake_driver.calls_to("load/record_load")[0].params
    assert json.loads(recorded["summary"])["accounts_new"] == 3


def test_a_failing_statement_rolls_the_whole_load_back(fake_driver):
    ws = Neo4jWorkspace(fake_driver)

    def fail(params):
        raise nx.TransientError("deadlock")

    fake_driver.answers["load/uses"] = fail
    with pytest.raises(WorkspaceError, match="query load/uses failed"):
        ws.load(dataset())
    assert fake_driver.rolled_back == [1] and fake_driver.committed == []


def test_reload_of_stored_rows_writes_nothing(fake_driver):
    ds = dataset(2)
    stored_accounts = [
        dict(zip(ACCOUNT_COLUMNS, [r.account_id, datetime(2024, 1, 1), 100.0, None, 0, "active", None, "{}"]))
        for r in ds.accounts.itertuples()
    ]
    fake_driver.answers.update(
        {
            "read/loaded_fields_by_id": stored_accounts,
            "read/links_by_account": [
                {
                    "account_id": "A0",
                    "kind": "device",
                    "value": "D-1",
                    "key": "d-1",
                    "first_seen": datetime(2024, 2, 1),
                },
                {"account_id": "A1", "kind": "device", "value": "d1", "key": "d-1", "first_seen": None},
            ],
            "read/unlinked_values_by_account": [
                {"account_id": "A2", "kind": "email", "value": "N/A", "key": None, "first_seen": None}
            ],
            "read/payments_by_payer": [
                {
                    "txn_id": "t1",
                    "account_id": "A0",
                    "counterparty": "A1",
                    "counterparty_kind": "account",
                    "amount": 5.0,
                    "timestamp": datetime(2024, 3, 1),
                    "status": "settled",
                },
                {
                    "txn_id": "t2",
                    "account_id": "A0",
                    "counterparty": "shop",
                    "counterparty_kind": "merchant",
                    "amount": 7.0,
                    "timestamp": datetime(2024, 3, 2),
                    "status": "settled",
                },
            ],
        }
    )
    ws = Neo4jWorkspace(fake_driver)
    assert ws.load(ds).unchanged
    sent = [c for c in fake_driver.calls if c.name.startswith("load/") and c.name != "load/record_load"]
    assert all(not c.params.get("rows") for c in sent)


# -- reading -------------------------------------------------------------------------------------
def test_accounts_are_read_in_keyset_pages(fake_driver):
    pages = {"": [{"account_id": "A1"}, {"account_id": "A2"}], "A2": [{"account_id": "A3"}]}

    def page(params):
        return [
            dict(
                zip(
                    ACCOUNT_COLUMNS,
                    [r["account_id"], datetime(2024, 1, 1), None, 1.0, None, "active", None, "{}"],
                )
            )
            for r in pages[params["after"]]
        ]

    fake_driver.answers["read/accounts_page"] = page
    ws = Neo4jWorkspace(fake_driver, batch_size=2)
    acc = ws.accounts()
    assert [c.params for c in fake_driver.calls_to("read/accounts_page")] == [
        {"after": "", "limit": 2},
        {"after": "A2", "limit": 2},
    ]
    assert acc["account_id"].tolist() == ["A1", "A2", "A3"]
    assert acc["credit_limit"].isna().all() and acc["overdue_days"].tolist() == [0, 0, 0]
    assert str(acc["created_at"].dtype) == "datetime64[ns]"


def test_table_filters_are_parameters(fake_driver):
    ws = Neo4jWorkspace(fake_driver)
    ws.table("decisions", action=["suspend", "review"], ring_id=None, score=1)
    assert fake_driver.calls_to("read/decisions")[0].params == {
        "filters": [
            {"column": "action", "values": ["suspend", "review"], "is_null": False},
            {"column": "ring_id", "values": [], "is_null": True},
            {"column": "score", "values": [1.0], "is_null": False},  # a real column: compared as a float
        ],
        "after": "",
        "limit": 5000,
        "gen": -1,  # no sweep yet: no generation of results (no row has it)
    }
    assert ws.table("rings", ring_id=[]).empty and not fake_driver.calls_to("read/rings")
    with pytest.raises(ValueError, match="unknown result table 'nope'"):
        ws.table("nope")
    with pytest.raises(ValueError, match="table rings has no column 'owner'"):
        ws.table("rings", owner="x")


def test_result_tables_and_states_are_read_in_keyset_pages(fake_driver):
    rings = [
        {"ring_id": f"R{i}", "size": 3, "score": 1.0, "exposure": 0.0, "features": "{}", "reasons": "[]", "seq": i}
        for i in range(5)
    ]
    fake_driver.answers["read/rings"] = lambda p: [r for r in rings if r["seq"] > p["after"]][: p["limit"]]
    states = [{c: None for c in STATE_COLUMNS} | {"account_id": f"A{i}", "manual": False} for i in range(3)]
    fake_driver.answers["read/account_state"] = lambda p: [s for s in states if s["account_id"] > p["after"]][
        : p["limit"]
    ]
    ws = Neo4jWorkspace(fake_driver, batch_size=2)
    assert ws.table("rings")["ring_id"].tolist() == ["R0", "R1", "R2", "R3", "R4"]
    assert [c.params["after"] for c in fake_driver.calls_to("read/rings")] == [-1, 1, 3]
    assert ws.account_state()["account_id"].tolist() == ["A0", "A1", "A2"]
    assert [c.params["after"] for c in fake_driver.calls_to("read/account_state")] == ["", "A1"]
    assert {c.params["limit"] for c in fake_driver.calls if c.name in ("read/rings", "read/account_state")} == {2}


# -- sweeps ------------------------------------------------------------------------------------
def _record():
    return SweepRecord(
        sweep={
            "sweep_id": "S-000001",
            "started_at": "2026-01-01T00:00:00",
            "finished_at": "2026-01-01T00:01:00",
            "as_of": "2025-12-31T00:00:00",
            "seed": np.int64(3),
            "engine": "python",
            "policy_hash": "abc",
            "dry_run": False,
            "summary": {"rings": 1},
            "diff": {"new": []},
        },
        tables={
            "rings": pd.DataFrame(
                [
                    {
                        "ring_id": "R-000001",
                        "size": np.int64(2),
                        "score": 0.5,
                        "exposure": 10,
                        "features": {"size": 2},
                        "reasons": [{"code": "X"}],
                    }
                ]
            ),
            "ring_members": pd.DataFrame({"ring_id": ["R-000001"] * 2, "account_id": ["A1", "A0"]}),
        },
        state=pd.DataFrame([{"account_id": "A0", "action": "review", "manual": np.False_}]),
        audit=pd.DataFrame(
            [{"at": pd.Timestamp("2026-01-01"), "account_id": "A0", "event": "escalate", "new_limit": 5}]
        ),
        notices=pd.DataFrame(),
        next_ring_number=2,
    )


def test_save_sweep_writes_a_new_generation_in_batches_then_switches_in_one_small_transaction(fake_driver):
    fake_driver.answers["write/next_sequence"] = [{"last_used": 41}]
    ws = Neo4jWorkspace(fake_driver)
    fake_driver.calls.clear()
    ws.save_sweep(_record())
    writes = [c for c in fake_driver.calls if c.routing == "tx" and c.name.startswith("write/")]
    by_tx: dict[int, list[str]] = {}
    for c in writes:
        by_tx.setdefault(c.tx, []).append(c.name)
    assert list(by_tx.values()) == [
        ["write/next_sequence", "write/meta_value"],  # the new generation, marked stale until switched
        ["write/rings"],
        ["write/ring_members"],
        [
            "write/account_state",
            "write/next_sequence",
            "write/audit",
            "write/sweep",
            "write/meta_value",
            "write/switch_results",
        ],
    ]
    assert sorted(fake_driver.committed) == sorted(by_tx)
    assert json.loads(fake_driver.calls_to("write/meta_value")[0].params["value"])[0] == ["rings", 42]
    assert fake_driver.calls_to("write/rings")[0].params["gen"] == 42
    switch = fake_driver.calls_to("write/switch_results")[0].params
    assert switch == {"keys": ["rings"], "gen": 42, "stale": "[]"}  # the first sweep: nothing to delete
    ring = fake_driver.calls_to("write/rings")[0].params["rows"][0]
    assert ring == {
        "ring_id": "R-000001",
        "size": 2,
        "score": 0.5,
        "exposure": 10.0,
        "features": '{"size":2}',
        "reasons": '[{"code":"X"}]',
        "seq": 0,
    }
    members = fake_driver.calls_to("write/ring_members")[0].params["rows"]
    assert [(m["account_id"], m["seq"]) for m in members] == [("A1", 0), ("A0", 1)]  # the sweep's order kept
    state = fake_driver.calls_to("write/account_state")[0].params["rows"][0]
    assert state["manual"] is False and state["credit_limit"] is None
    audit = fake_driver.calls_to("write/audit")[0].params["rows"][0]
    assert audit["seq"] == 42 and audit["at"] == "2026-01-01T00:00:00" and audit["new_limit"] == 5.0
    sweep = fake_driver.calls_to("write/sweep")[0].params["row"]
    assert sweep["seed"] == 3 and json.loads(sweep["summary"]) == {"rings": 1}
    assert fake_driver.calls_to("write/meta_value")[1].params == {"key": "next_ring_number", "value": 2}


def test_a_big_table_is_written_in_bounded_batches_and_the_old_generation_deleted_after(fake_driver):
    answers = iter([[{"deleted": 2}], [{"deleted": 2}], [{"deleted": 1}]])
    fake_driver.answers["write/drop_hubs"] = lambda params: next(answers)
    numbers = iter(range(0, 1000, 10))
    fake_driver.answers["write/next_sequence"] = lambda params: [{"last_used": next(numbers)}]
    hubs = pd.DataFrame({"kind": ["ip"] * 5, "key": [f"10.0.0.{i}" for i in range(5)], "n_accounts": 9, "reason": "x"})
    ws = Neo4jWorkspace(fake_driver, batch_size=2)

    def sweep(sweep_id):
        ws.save_sweep(
            SweepRecord(
                sweep={"sweep_id": sweep_id},
                tables={"hubs": hubs},
                state=pd.DataFrame(),
                audit=pd.DataFrame(),
                notices=pd.DataFrame(),
                next_ring_number=1,
            )
        )

    sweep("S-1")
    first = fake_driver.calls_to("write/hubs")
    assert [len(c.params["rows"]) for c in first] == [2, 2, 1]  # never more than batch_size a transaction
    assert len({c.tx for c in first}) == 3
    assert [r["seq"] for c in first for r in c.params["rows"]] == [0, 1, 2, 3, 4]
    gen = first[0].params["gen"]
    fake_driver.calls.clear()
    sweep("S-2")
    assert fake_driver.calls_to("write/hubs")[0].params["gen"] > gen
    switched = fake_driver.names().index("write/switch_results")
    drops = [i for i, n in enumerate(fake_driver.names()) if n == "write/drop_hubs" and i > switched]
    assert [fake_driver.calls[i].params for i in drops] == [{"gen": gen, "limit": 2}] * 3  # after the switch


# -- the lock ----------------------------------------------------------------------------------
def test_sweep_lock_takes_and_releases_the_lock_node(fake_driver):
    fake_driver.answers["write/lock_acquire"] = [{"acquired": True, "owner": "me", "since": None, "expires_at": None}]
    ws = Neo4jWorkspace(fake_driver, lock_ttl=60)
    with ws.sweep_lock("nightly"):
        taken = fake_driver.calls_to("write/lock_acquire")[0]
        assert taken.routing == "w" and taken.params["name"] == "sweep"
        assert taken.params["owner"].startswith("nightly, pid ")
        assert (taken.params["expires_at"] - taken.params["now"]).total_seconds() == 60
    released = fake_driver.calls_to("write/lock_release")[0]
    assert released.params == {"name": "sweep", "token": taken.params["token"]}


def test_a_held_lock_is_a_locked_error_naming_the_holder(fake_driver):
    fake_driver.answers["write/lock_acquire"] = [
        {
            "acquired": False,
            "owner": "cron sweep, pid 7 on box",
            "since": datetime(2026, 1, 1, 3),
            "expires_at": datetime(2026, 1, 1, 4),
        }
    ]
    ws = Neo4jWorkspace(fake_driver, location="bolt://db:7687")
    with (
        pytest.raises(
            LockedError,
            match=r"another sweep is running on bolt://db:7687 \(cron sweep, pid 7 on box, "
            r"since 2026-01-01T03:00:00\); its lock expires at 2026-01-01T04:00:00",
        ),
        ws.sweep_lock("me"),
    ):
        pass
    assert not fake_driver.calls_to("write/lock_release")


def test_losing_the_race_to_create_the_lock_node_is_a_locked_error(fake_driver):
    # On servers with optimistic locking the second of two simultaneous first sweeps gets a
    # constraint error from its MERGE; trying again finds the winner's lock.
    answers = iter(
        [
            nx.ConstraintError("Duplicated key [sweep] found on index 'Lock[name]'"),
            [{"acquired": False, "owner": "winner", "since": None, "expires_at": None}],
        ]
    )

    def acquire(params):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    fake_driver.answers["write/lock_acquire"] = acquire
    ws = Neo4jWorkspace(fake_driver)
    with pytest.raises(LockedError, match="winner"), ws.sweep_lock("loser"):
        pass
    assert len(fake_driver.calls_to("write/lock_acquire")) == 2


# -- connect -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error, message",
    [
        (
            nx.AuthError("The client is unauthorized due to authentication failure."),
            "refused user 'ana': wrong user or password",
        ),
        (nx.ServiceUnavailable("Couldn't connect to db:7687"), "cannot reach Neo4j at bolt://db:7687"),
    ],
)
def test_connect_maps_failures_to_one_line_without_the_password(monkeypatch, error, message):
    driver = mock.create_autospec(neo4j.Driver, instance=True)
    driver.verify_connectivity.side_effect = error
    make = mock.Mock(return_value=driver)
    monkeypatch.setattr(neo4j.GraphDatabase, "driver", make)
    with pytest.raises(WorkspaceError, match=message) as info:
        connect("bolt://db:7687", "ana", "s3cret-pw", "fraud")
    assert "s3cret-pw" not in str(info.value)
    make.assert_called_once_with("bolt://db:7687", auth=("ana", "s3cret-pw"))
    driver.close.assert_called_once()


def test_connect_refuses_a_bad_uri():
    with pytest.raises(WorkspaceError, match="invalid Neo4j URI 'http://db'"):
        connect("http://db", "neo4j", "pw")


def test_connect_owns_its_driver(monkeypatch):
    driver = mock.create_autospec(neo4j.Driver, instance=True)
    result = SimpleNamespace(keys=["value"], records=[SimpleNamespace(values=lambda: [SCHEMA_VERSION])])
    driver.execute_query.return_value = result
    monkeypatch.setattr(neo4j.GraphDatabase, "driver", mock.Mock(return_value=driver))
    ws = connect("neo4j://db:7687", "neo4j", "pw", "fraud")
    (query,) = driver.execute_query.call_args.args
    assert query == ws._queries["read/meta_value"].text
    assert driver.execute_query.call_args.kwargs == {
        "parameters_": {"key": "schema_version"},
        "database_": "fraud",
        "routing_": neo4j.RoutingControl.READ,
    }
    ws.close()
    driver.close.assert_called_once()


# -- the graph engine ----------------------------------------------------------------------------
class FakeGds:
    """A workspace whose server "has GDS": projections are kept, WCC and Louvain computed here."""

    backend = "neo4j"
    location = "bolt://gds:7687"

    def __init__(self, procedures=("gds.graph.project", "gds.wcc.stream", "gds.louvain.stream", "gds.graph.drop")):
        self.procedures = procedures
        self.graphs: dict[str, list] = {}
        self.calls: list[tuple[str, dict]] = []

    def run_query(self, name, /, *, write=False, **params):
        from scipy.sparse.csgraph import connected_components

        self.calls.append((name, params))
        if name == "gds/procedures":
            return [{"name": p} for p in self.procedures]
        if name == "gds/project_edges":
            self.graphs[params["graph_name"]] = params["edges"]
            return [
                {
                    "graph_name": params["graph_name"],
                    "node_count": 0,
                    "relationship_count": len(params["edges"]),
                }
            ]
        if name == "gds/drop_graph":
            del self.graphs[params["graph_name"]]
            return [{"graph_name": params["graph_name"]}]
        edges = np.array(self.graphs[params["graph_name"]], dtype=float)
        nodes = np.unique(edges[:, :2].astype(int))
        index = {n: i for i, n in enumerate(nodes)}
        a = sp.coo_matrix(
            (edges[:, 2], ([index[int(x)] for x in edges[:, 0]], [index[int(x)] for x in edges[:, 1]])),
            shape=(len(nodes), len(nodes)),
        )
        if name == "gds/wcc_stream":
            _, labels = connected_components(a, directed=False)
            return [{"node": int(n), "component": int(c) + 1000} for n, c in zip(nodes, labels)]
        if name == "gds/louvain_stream":
            # Stand-in for Louvain: split the graph into halves by node id.
            return [{"node": int(n), "community": int(i >= len(nodes) / 2)} for i, n in enumerate(nodes)]
        raise AssertionError(f"unexpected query {name}")


def _adjacency(n, edges):
    rows, cols = zip(*edges)
    a = sp.coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(n, n)).tocsr()
    return (a + a.T).tocsr()


def test_resolve_engine_fails_clearly_without_gds_and_auto_falls_back():
    from fraudgraph.app.engine import detect_engine, resolve_engine

    no_gds = FakeGds(procedures=())
    assert resolve_engine(no_gds, "python") == "python" and not no_gds.calls
    with pytest.raises(
        WorkspaceError, match="the GDS engine cannot run: GDS procedures not available on bolt://gds:7687"
    ):
        resolve_engine(no_gds, "gds")
    assert resolve_engine(no_gds, "auto") == "python"
    assert detect_engine(FakeGds()) == "gds" and resolve_engine(FakeGds(), "gds") == "gds"
    with pytest.raises(WorkspaceError, match="sqlite workspace runs no server-side graph algorithms"):
        resolve_engine(SimpleNamespace(backend="sqlite"), "gds")
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        resolve_engine(no_gds, "spark")


def test_gds_engine_runs_wcc_then_louvain_on_big_components_and_drops_every_graph():
    from fraudgraph.app.engine import cluster_function, components_and_communities

    # A pair (0-1), a path of six (2..7) above the size bound of 4, and an isolated account (8).
    adjacency = _adjacency(9, [(0, 1), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)])
    ws = FakeGds()
    labels = components_and_communities(ws, adjacency, engine="gds", max_community_size=4)
    assert labels[8] == -1
    assert labels[0] == labels[1] and len({labels[0], labels[2], labels[5]}) == 3
    assert labels[2] == labels[3] == labels[4] and labels[5] == labels[6] == labels[7]
    names = [name for name, _ in ws.calls]
    assert names == [
        "gds/project_edges",
        "gds/wcc_stream",
        "gds/drop_graph",
        "gds/project_edges",
        "gds/louvain_stream",
        "gds/drop_graph",
    ]
    assert not ws.graphs  # every projection dropped
    first = ws.calls[0][1]["edges"]
    assert sorted(map(tuple, first)) == [
        (0, 1, 1.0),
        (2, 3, 1.0),
        (3, 4, 1.0),
        (4, 5, 1.0),
        (5, 6, 1.0),
        (6, 7, 1.0),
    ]
    # Same grouping as the in-process engine where no split is needed.
    python = components_and_communities(None, adjacency, engine="python", max_community_size=10)
    gds = cluster_function(FakeGds(), "gds", config=SimpleNamespace(max_community_size=10))(adjacency)
    assert (pd.Series(python).groupby(python).ngroup() == pd.Series(gds).groupby(gds).ngroup()).all()
    assert cluster_function(ws, "python") is None


def test_a_gds_answer_naming_nodes_that_were_not_projected_is_a_workspace_error():
    """The projection keeps the row numbers as node ids; an answer with other ids is refused."""
    from fraudgraph.app.engine import components_and_communities

    ws = FakeGds()
    original = ws.run_query

    def renumbered(name, /, **params):
        rows = original(name, **params)
        if name == "gds/wcc_stream":
            return [{**r, "node": r["node"] + 100} for r in rows]
        return rows

    ws.run_query = renumbered
    with pytest.raises(WorkspaceError, match="GDS returned node ids that were not projected"):
        components_and_communities(ws, _adjacency(3, [(0, 1)]), engine="gds")
    assert not ws.graphs


def test_gds_graphs_are_dropped_even_when_the_algorithm_fails():
    from fraudgraph.app.engine import components_and_communities

    ws = FakeGds()
    original = ws.run_query

    def failing(name, /, **params):
        if name == "gds/wcc_stream":
            raise WorkspaceError("out of memory")
        return original(name, **params)

    ws.run_query = failing
    with pytest.raises(WorkspaceError, match="out of memory"):
        components_and_communities(ws, _adjacency(3, [(0, 1)]), engine="gds")
    assert not ws.graphs


# -- investigation runs on the server, a hop at a time -------------------------------------------
def test_shortest_path_asks_the_server_hop_by_hop_never_for_the_whole_graph(fake_driver):
    # A0 -device d-1- A1 -card c-9- A2, and an IP hub shared by everyone.
    uses = {
        "A0": [("device", "d-1"), ("ip", "hub")],
        "A1": [("device", "d-1"), ("card", "c-9"), ("ip", "hub")],
        "A2": [("card", "c-9"), ("ip", "hub")],
    }
    sharers = {
        ("device", "d-1"): ["A0", "A1"],
        ("card", "c-9"): ["A1", "A2"],
        ("ip", "hub"): ["A0", "A1", "A2"],
    }
    fake_driver.answers.update(
        {
            "read/accounts_by_id": lambda p: [
                dict(zip(ACCOUNT_COLUMNS, [a, datetime(2024, 1, 1), None, None, 0, "active", None, "{}"]))
                for a in p["account_ids"]
                if a in uses
            ],
            "read/hub_keys": [{"kind": "ip", "key": "hub"}],
            "read/identifiers_of_accounts": lambda p: [
                {"account_id": a, "kind": k, "key": v, "first_seen": None} for a in p["account_ids"] for k, v in uses[a]
            ],
            "read/identifier_counts": lambda p: [
                {
                    "kind": q["kind"],
                    "key": q["key"],
                    "n_accounts": len(sharers[(q["kind"], q["key"])]),
                    "raw_values": [q["key"].upper()],
                }
                for q in p["pairs"]
            ],
            "read/accounts_sharing": lambda p: [
                {"account_id": a, "kind": q["kind"], "key": q["key"]}
                for q in p["pairs"]
                for a in sharers[(q["kind"], q["key"])]
            ],
        }
    )
    ws = Neo4jWorkspace(fake_driver)
    chain = ws.shortest_path("A0", "A2", max_hops=4, hub_threshold=10)
    assert [n.get("account_id") or n["key"] for n in chain] == ["A0", "d-1", "A1", "c-9", "A2"]
    assert chain[1]["raw_values"] == ["D-1"]
    names = set(fake_driver.names())
    assert not names & {"read/accounts_page", "read/account_ids_page", "read/links_by_account"}
    # The hub was never expanded: no query asked who shares it.
    asked = [q for c in fake_driver.calls_to("read/accounts_sharing") for q in c.params["pairs"]]
    assert {"kind": "ip", "key": "hub"} not in asked
    with pytest.raises(ValueError, match="max_hops must be between 0 and 32"):
        ws.shortest_path("A0", "A2", max_hops=99, hub_threshold=10)


def test_a_sweep_with_the_gds_engine_finds_the_python_engines_rings_when_nothing_is_split():
    import tempfile

    from fraudgraph.app.engine import cluster_function
    from fraudgraph.detection.graph import DetectionConfig
    from fraudgraph.detection.pipeline import detect
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world

    with tempfile.TemporaryDirectory() as folder:
        write_world(generate_world(300, seed=5), folder)
        ds = read_dataset(folder)
    # With no size bound both engines keep every component whole: the same rings, whatever
    # splits them (Leiden here, Louvain in GDS) when the bound applies.
    whole = DetectionConfig(max_community_size=100_000)
    python = detect(ds.accounts, ds.links, ds.transactions, seed=1, config=whole)
    gds_ws = FakeGds()
    gds = detect(
        ds.accounts,
        ds.links,
        ds.transactions,
        seed=1,
        config=whole,
        cluster_fn=cluster_function(gds_ws, "gds", seed=1, config=whole),
    )
    assert len(python.rings) > 5 and not gds_ws.graphs
    assert [name for name, _ in gds_ws.calls] == ["gds/project_edges", "gds/wcc_stream", "gds/drop_graph"]
    groups = lambda d: sorted(tuple(sorted(g)) for _, g in d.ring_members.groupby("ring_id")["account_id"])  # noqa: E731
    assert groups(gds) == groups(python)
