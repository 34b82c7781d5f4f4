"""The backend conformance fixtures: every test in tests/workspace runs once per workspace backend.

``backend`` is parametrized over ``sqlite`` and ``neo4j``; the neo4j run needs the Bolt server of
scripts/run-tests (reached only through the ``FRAUDGRAPH_TEST_NEO4J_*`` variables, see
tests/neo4j_fixtures.py) and skips with the reason when there is none (CI always has one).

Fixtures, from cheapest to dearest:

- ``workspace``: a fresh, empty workspace of the backend, private to the test (may be written).
- ``loaded_workspace``: the hand-made data set of tests/workspace_data.py, loaded once per module
  and backend. Read it only.
- ``swept_workspace``: the same, plus two saved sweeps (``record()``). Read it only.
- ``hub_workspace``: the hub data set (30 accounts on one carrier IP), for investigation reads.
- ``reference``: a factory of SQLite workspaces, the reference backend the end-to-end runs are
  compared with (for the sqlite run itself this checks that two independent runs agree).

Data stays small: the Bolt server writes a few thousand relationships a second.
"""

from __future__ import annotations

import urllib.error
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from neo4j_fixtures import bolt_server, neo4j_driver  # noqa: F401 - session fixtures used by name
from workspace_data import hand_made_dataset, hub_dataset, record

from fraudgraph.workspace.base import Workspace

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j)]


class Stores:
    """Makes empty stores of one backend and opens workspaces on them.

    A store is a SQLite file, or a Bolt database (ArcadeDB: one new database per store; a real
    Neo4j has a single test database, which ``new_store`` empties, so shared stores are rebuilt).
    """

    wipes = 0  # how often a real Neo4j's single test database was emptied (by any Stores)

    def __init__(self, backend: str, request: pytest.FixtureRequest, folder: Path):
        self.backend = backend
        self._folder = folder
        self._opened: list[Workspace] = []
        self._databases: list[str] = []
        if backend == "neo4j":
            self.server = request.getfixturevalue("bolt_server")
            self.driver = request.getfixturevalue("neo4j_driver")

    @property
    def one_database(self) -> bool:
        return self.backend == "neo4j" and not (self.server.is_arcadedb and self.server.http)

    def new_store(self) -> str:
        """A new empty store; returns its name (a file path or a database name)."""
        if self.backend == "sqlite":
            return str(self._folder / f"ws-{uuid.uuid4().hex[:8]}.db")
        if not self.one_database:
            name = f"fgconf_{uuid.uuid4().hex[:10]}"
            self.server.admin(f"create database {name}")
            self._databases.append(name)
            return name
        with self.driver.session(database=self.server.database) as session:
            session.run("MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        Stores.wipes += 1
        return self.server.database

    def open(self, store: str, **options) -> Workspace:
        """A workspace on ``store`` (closed at teardown); options go to the Neo4j workspace."""
        if self.backend == "sqlite":
            from fraudgraph.workspace.sqlite.store import SqliteWorkspace

            ws: Workspace = SqliteWorkspace(Path(store))
        else:
            from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

            options.setdefault("batch_size", 500)
            ws = Neo4jWorkspace(self.driver, store, location=f"{self.server.uri} {store}", **options)
        self._opened.append(ws)
        return ws

    def cli_args(self, store: str) -> tuple[list[str], dict[str, str | None]]:
        """The command line options and environment that point the CLI at ``store``."""
        names = ("URI", "USER", "PASSWORD", "DATABASE")
        if self.backend == "sqlite":
            return ["--db", store], {f"FRAUDGRAPH_NEO4J_{n}": None for n in names}
        env = {
            "FRAUDGRAPH_NEO4J_URI": self.server.uri,
            "FRAUDGRAPH_NEO4J_USER": self.server.user,
            "FRAUDGRAPH_NEO4J_PASSWORD": self.server.password,
            "FRAUDGRAPH_NEO4J_DATABASE": store,
        }
        return ["--neo4j", self.server.uri, "--neo4j-database", store], env

    def close(self) -> None:
        for ws in self._opened:
            ws.close()
        self._opened.clear()
        for name in self._databases:
            try:
                self.server.admin(f"drop database {name}")
            except (urllib.error.URLError, RuntimeError):
                pass  # the server's state dir is temporary; a leftover database is harmless
        self._databases.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def stores(backend, request, tmp_path_factory):
    """Module-wide store maker of the backend (shared stores live as long as the module)."""
    made = Stores(backend, request, tmp_path_factory.mktemp(f"conformance-{backend}"))
    yield made
    made.close()


@pytest.fixture
def store_maker(backend, request, tmp_path):
    """Per-test store maker: stores and workspaces it makes are dropped after the test."""
    made = Stores(backend, request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def workspace(store_maker) -> Workspace:
    """A fresh, empty workspace of the backend that the test may change."""
    return store_maker.open(store_maker.new_store())


def _shared(stores: Stores, build: Callable[[Workspace], None]) -> Callable[[], Workspace]:
    """A store built once per module and backend; rebuilt only if a real Neo4j was emptied since."""
    state: dict = {}

    def get() -> Workspace:
        if "ws" not in state or state["wipes"] != Stores.wipes:
            ws = stores.open(stores.new_store())
            build(ws)
            state.update(ws=ws, wipes=Stores.wipes)
        return state["ws"]

    return get


@pytest.fixture(scope="module")
def _loaded(stores):
    return _shared(stores, lambda ws: ws.load(hand_made_dataset()))


@pytest.fixture(scope="module")
def _swept(stores):
    def build(ws):
        ws.load(hand_made_dataset())
        ws.save_sweep(record())
        ws.save_sweep(record("S-000002"))

    return _shared(stores, build)


@pytest.fixture(scope="module")
def _hubs(stores):
    return _shared(stores, lambda ws: ws.load(hub_dataset()))


@pytest.fixture
def loaded_workspace(_loaded) -> Workspace:
    """The hand-made data set, loaded (read only: shared by the module's tests)."""
    return _loaded()


@pytest.fixture
def swept_workspace(_swept) -> Workspace:
    """The hand-made data set with two saved sweeps, S-000001 and S-000002 (read only)."""
    return _swept()


@pytest.fixture
def hub_workspace(_hubs) -> Workspace:
    """30 accounts on one carrier IP, chained by a device, a card and a phone (read only)."""
    return _hubs()


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Iterator[Callable[[], Workspace]]:
    """A factory of fresh SQLite workspaces: the reference the end-to-end runs are compared with."""
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    folder = tmp_path_factory.mktemp("reference")
    opened: list[Workspace] = []

    def make() -> Workspace:
        ws = SqliteWorkspace(folder / f"ref-{uuid.uuid4().hex[:8]}.db")
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


@pytest.fixture
def load_failure(backend, monkeypatch):
    """How to make a load fail half-way on this backend: ``failure(dataset) -> (dataset, error)``.

    SQLite: a NOT NULL violation on the last link (accounts already written). Neo4j: the
    transactions step raises after accounts and links were sent (a server-side failure).
    """
    if backend == "sqlite":
        import sqlite3

        def failure(ds):
            ds.links = ds.links.assign(value=[*ds.links["value"][:-1], None])
            return ds, sqlite3.IntegrityError

        return failure
    from fraudgraph.workspace.neo4j.store import Neo4jWorkspace

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    def failure(ds):
        monkeypatch.setattr(Neo4jWorkspace, "_load_transactions", fail)
        return ds, RuntimeError

    return failure


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    """A generated 300-account world (seed 11) as a data folder, for the tests that sweep real data."""
    from fraudgraph.synthetic.world import generate_world, write_world

    folder = tmp_path_factory.mktemp("world")
    write_world(generate_world(300, seed=11), folder)
    return folder
