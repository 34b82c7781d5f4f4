"""Fixtures for the Neo4j tests: a real Bolt server, a fresh database per test, and a fake driver.

The server is ``FRAUDGRAPH_TEST_NEO4J_URI`` (+ ``_USER``, ``_PASSWORD``, ``_DATABASE``) when set (a
real Neo4j 5), else the local ArcadeDB from ``scripts/bolt-server start`` (``FRAUDGRAPH_NEO4J_*``).
Tests that need it skip with the reason when neither answers. On ArcadeDB each test gets its own
database (HTTP admin API); on Neo4j the test database is emptied before each test.

Import the fixtures into a test module with ``from neo4j_fixtures import *``.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from fraudgraph.workspace.neo4j.queries import load_queries

__all__ = [
    "BoltServer",
    "FakeDriver",
    "bolt_server",
    "fake_driver",
    "neo4j_database",
    "neo4j_driver",
    "neo4j_ws",
]


@dataclass
class BoltServer:
    """Where the Neo4j tests run and how to reach it."""

    uri: str
    user: str
    password: str
    database: str | None
    http: str | None  # ArcadeDB's HTTP admin API (None for Neo4j)
    agent: str = ""

    @property
    def is_arcadedb(self) -> bool:
        return "arcadedb" in self.agent.lower()

    def admin(self, command: str) -> None:
        """Run one ArcadeDB server command ("create database X") through the HTTP admin API."""
        request = urllib.request.Request(
            f"{self.http}/api/v1/server", data=json.dumps({"command": command}).encode(), method="POST"
        )
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read() or b"{}")
        if body.get("result") != "ok":
            raise RuntimeError(f"ArcadeDB refused {command!r}: {body}")


def _server_settings() -> BoltServer | None:
    env = os.environ
    if env.get("FRAUDGRAPH_TEST_NEO4J_URI"):
        return BoltServer(
            uri=env["FRAUDGRAPH_TEST_NEO4J_URI"],
            user=env.get("FRAUDGRAPH_TEST_NEO4J_USER", "neo4j"),
            password=env.get("FRAUDGRAPH_TEST_NEO4J_PASSWORD", ""),
            database=env.get("FRAUDGRAPH_TEST_NEO4J_DATABASE") or None,
            http=env.get("FRAUDGRAPH_TEST_NEO4J_HTTP") or None,
        )
    if env.get("FRAUDGRAPH_NEO4J_URI"):
        uri = env["FRAUDGRAPH_NEO4J_URI"]
        http = env.get("FRAUDGRAPH_NEO4J_HTTP")
        if not http:
            host = urllib.parse.urlparse(uri).hostname or "127.0.0.1"
            http = f"http://{host}:{env.get('BOLT_HTTP_PORT', '2480')}"
        return BoltServer(
            uri=uri,
            user=env.get("FRAUDGRAPH_NEO4J_USER", "root"),
            password=env.get("FRAUDGRAPH_NEO4J_PASSWORD", ""),
            database=env.get("FRAUDGRAPH_NEO4J_DATABASE") or None,
            http=http,
        )
    return None


# Read once, at import: a conftest may hide FRAUDGRAPH_NEO4J_* from the tests that must not use
# Neo4j (the CLI takes its workspace from them), and the Neo4j tests still find the server.
_SETTINGS = _server_settings()
_FROM_TEST_VARIABLES = bool(os.environ.get("FRAUDGRAPH_TEST_NEO4J_URI"))


@pytest.fixture(scope="session")
def bolt_server():
    """The Bolt server of the Neo4j tests, or a skip saying why there is none."""
    import dataclasses

    import neo4j

    server = dataclasses.replace(_SETTINGS) if _SETTINGS is not None else None
    if server is None:
        pytest.skip(
            "no Bolt server: set FRAUDGRAPH_TEST_NEO4J_URI (a Neo4j 5) or run "
            '`eval "$(scripts/bolt-server start)"` (local ArcadeDB)'
        )
    driver = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password), connection_timeout=5)
    try:
        driver.verify_connectivity()
        server.agent = driver.get_server_info().agent
    except Exception as e:  # any failure means: no server to test against
        pytest.skip(f"Bolt server {server.uri} not reachable: {type(e).__name__}: {e}")
    finally:
        driver.close()
    if not server.is_arcadedb:
        if not _FROM_TEST_VARIABLES:
            # The tests empty the database they run on: only ever one named for testing.
            pytest.skip(
                f"{server.uri} (from FRAUDGRAPH_NEO4J_URI) is not the local ArcadeDB; the Neo4j tests wipe "
                "their database, so a real Neo4j must be named by FRAUDGRAPH_TEST_NEO4J_URI"
            )
        server.http = None
    return server


@pytest.fixture(scope="session")
def neo4j_driver(bolt_server):
    import neo4j

    driver = neo4j.GraphDatabase.driver(bolt_server.uri, auth=(bolt_server.user, bolt_server.password))
    yield driver
    driver.close()


@pytest.fixture
def neo4j_database(bolt_server, neo4j_driver):
    """A database name with nothing in it, for one test."""
    if bolt_server.is_arcadedb and bolt_server.http:
        name = f"fgtest_{uuid.uuid4().hex[:10]}"
        bolt_server.admin(f"create database {name}")
        yield name
        try:
            bolt_server.admin(f"drop database {name}")
        except (urllib.error.URLError, RuntimeError):
            pass  # the state dir is temporary; a leftover database is harmless
        return
    # A real Neo4j: the test database given by FRAUDGRAPH_TEST_NEO4J_DATABASE, emptied first.
    database = bolt_server.database
    with neo4j_driver.session(database=database) as session:
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run, not execute_query.
        session.run("MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    yield database


@pytest.fixture
def neo4j_ws(neo4j_driver, neo4j_database, bolt_server):
    """A Neo4j workspace on a fresh database (small batches, so tests exercise batching)."""
    from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

    ws = Neo4jWorkspace(neo4j_driver, neo4j_database, batch_size=500, location=f"{bolt_server.uri} {neo4j_database}")
    yield ws
    ws.close()


# -- a fake driver for unit tests ----------------------------------------------------------------
class _Record:
    def __init__(self, row: dict[str, Any]):
        self._row = row

    def values(self) -> list[Any]:
        return list(self._row.values())


class _Result:
    def __init__(self, rows: list[dict[str, Any]]):
        self._rows = rows
        self.keys = list(rows[0]) if rows else []
        self.records = [_Record(r) for r in rows]

    def __iter__(self):
        return iter(self.records)


class _TxResult:
    """What Transaction.run returns: iterable records, keys() a method."""

    def __init__(self, rows: list[dict[str, Any]]):
        self._rows = rows

    def keys(self) -> list[str]:
        return list(self._rows[0]) if self._rows else []

    def __iter__(self):
        return iter([_Record(r) for r in self._rows])


@dataclass
class Call:
    """One statement the code under test sent: which named query, with what, how."""

    name: str
    params: dict[str, Any]
    routing: str  # "r", "w" (execute_query) or "tx" (inside an explicit transaction)
    database: str | None
    tx: int | None = None


@dataclass
class FakeDriver:
    """Records every statement as (query name, parameters) and answers from canned rows.

    ``answers`` maps a query name to rows, or to a function of the parameters returning rows.
    Statements are recognized by their exact text, so a query the library does not contain
    fails the test.
    """

    answers: dict[str, list[dict] | Callable[[dict], list[dict]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    committed: list[int] = field(default_factory=list)
    rolled_back: list[int] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self):
        self._by_text = {q.text: name for name, q in load_queries().items()}
        self._tx_count = 0

    def _answer(self, text: str, params: dict, routing: str, database, tx=None) -> list[dict]:
        name = self._by_text.get(text)
        assert name is not None, f"statement not in the query library: {text[:80]!r}"
        self.calls.append(Call(name, dict(params or {}), routing, database, tx))
        answer = self.answers.get(name, [])
        return answer(params or {}) if callable(answer) else [dict(r) for r in answer]

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def calls_to(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    # the neo4j.Driver surface the workspace uses
    def execute_query(self, query, parameters_=None, routing_=None, database_=None, **kwargs):
        routing = getattr(routing_, "value", routing_) or "w"
        return _Result(self._answer(query, parameters_, routing, database_))

    def session(self, database=None, **kwargs):
        return _Session(self, database)

    def get_server_info(self):
        return type("ServerInfo", (), {"agent": "FakeDriver/0"})()

    def close(self):
        self.closed = True


class _Session:
    def __init__(self, driver: FakeDriver, database):
        self.driver = driver
        self.database = database

    def begin_transaction(self):
        self.driver._tx_count += 1
        return _Tx(self.driver, self.database, self.driver._tx_count)

    def close(self):
        pass


class _Tx:
    def __init__(self, driver: FakeDriver, database, number: int):
        self.driver, self.database, self.number = driver, database, number
        self._closed = False

    def run(self, query, parameters=None, **kwargs):
        return _TxResult(self.driver._answer(query, parameters, "tx", self.database, self.number))

    def commit(self):
        self._closed = True
        self.driver.committed.append(self.number)

    def rollback(self):
        self._closed = True
        self.driver.rolled_back.append(self.number)

    def closed(self):
        return self._closed


@pytest.fixture
def fake_driver():
    """A FakeDriver whose store already has the current schema (no schema statements sent)."""
    from fraudgraph.workspace.neo4j.store import SCHEMA_VERSION

    # (:Meta) values as the statements set them: the schema version, the result generations.
    meta: dict[str, Any] = {"schema_version": SCHEMA_VERSION}

    def set_meta(p):
        meta[p["key"]] = p["value"]
        return []

    def switch(p):
        meta.update({f"results.{k}": p["gen"] for k in p["keys"]} | {"results.stale": p["stale"]})
        return [{"switched": len(p["keys"])}]

    answers: dict[str, Any] = {
        "read/meta_value": lambda p: [{"value": meta[p["key"]]}] if p["key"] in meta else [],
        "write/meta_value": set_meta,
        "read/result_gens": lambda p: [{"key": k[8:], "value": v} for k, v in meta.items() if k.startswith("results.")],
        "write/switch_results": switch,
        "read/transaction_count": [{"n": 0}],
        "write/next_sequence": lambda p: [{"last_used": 0}],
    }
    for key in ("rings", "account_scores", "hubs", "decisions", "swept"):
        answers[f"write/drop_{key}"] = [{"deleted": 0}]
    return FakeDriver(answers=answers)
