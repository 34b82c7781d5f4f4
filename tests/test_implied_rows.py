"""A sweep stores only the account_scores and decisions rows that are not default (the rest are
implied: ``workspace.base``); every command must answer exactly as when every row was stored.

Two workspaces live the same history with the clock stopped: one as a sweep writes it now
(sparse), one with every row stored and read the way it was before implied rows existed (the
old format: no ``swept_accounts``, no ``implied_rows`` mark). Their answers must be the same
bytes: for accounts that have nothing, for accounts whose state holds an action over an
implied decision, for accounts loaded after the last sweep, for a credit limit changed since.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from datetime import datetime

import numpy as np
import pytest
from click.testing import CliRunner

from fraudgraph.cli.main import cli
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

NOW = datetime(2026, 12, 1, 9, 30, 0)


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW.replace(tzinfo=tz) if tz else NOW


@pytest.fixture(scope="module")
def frozen_clock(swept_db):
    """The clock stands still for this module's pairs. ``swept_db`` (the session's shared
    workspace) is made first, on the real clock: made under this one, its times would have no
    fraction of a second, which other modules' tests read."""
    mp = pytest.MonkeyPatch()
    mp.setattr("fraudgraph.app.sweep.datetime", _FrozenDatetime)
    for where in (
        "fraudgraph.app.analyst",
        "fraudgraph.app.investigate",
        "fraudgraph.app.check",
        "fraudgraph.outputs.report",
    ):
        mp.setattr(f"{where}.utc_now", lambda: NOW)
    mp.setattr("fraudgraph.workspace.sqlite.store.utc_now_text", lambda: NOW.isoformat(timespec="seconds"))
    yield
    mp.undo()


def run(*args, ok=True, stdin=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=stdin)
    if ok:
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}: {result.output}"
    return result


def _quiet_accounts(db) -> list[str]:
    """Accounts with no stored score and no stored decision (implied), by id."""
    con = sqlite3.connect(db)
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT account_id FROM accounts WHERE account_id NOT IN (SELECT account_id FROM account_scores) "
                "AND account_id NOT IN (SELECT account_id FROM decisions) ORDER BY account_id"
            )
        ]
    finally:
        con.close()


def _later_extract(world_dir, out, changed: str):
    """The world again, plus three new accounts (sharing a device with ``changed``) and a new
    credit limit for ``changed``: a load after the sweep."""
    shutil.copytree(world_dir, out)
    with open(out / "accounts.csv", newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    for r in rows[1:]:
        if r[0] == changed:
            r[head.index("credit_limit")] = "123456"
    template = rows[1]
    for i in range(3):
        rows.append([f"Z{i:07d}", *template[1:]])
    with open(out / "accounts.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with open(out / "links.csv", "a", newline="") as f:
        w = csv.writer(f)
        for i in range(3):
            w.writerow([f"Z{i:07d}", "device", "shared-device-of-new-accounts", "2026-11-20T10:00:00"])
    return out


@pytest.fixture(scope="module", params=["as swept", "loaded since"])
def pair(request, tmp_path_factory, world_dir, frozen_clock):
    """(sparse db, dense db, quiet accounts, files dir): right after the last sweep and analyst
    actions, or after a later load (new accounts, a changed credit limit) not swept yet."""
    loaded_since = request.param == "loaded since"
    import fraudgraph.workspace.base as base

    tmp = tmp_path_factory.mktemp("implied")
    later = None
    sparse, dense = tmp / "sparse.db", tmp / "dense.db"
    real = base.implied_rows

    def every_row_stored(scores, decisions):
        a, b = real(scores, decisions)
        return np.zeros_like(a), np.zeros_like(b)

    quiet: list[str] = []
    for db, is_dense in ((sparse, False), (dense, True)):
        mp = pytest.MonkeyPatch()
        if is_dense:
            mp.setattr(base, "implied_rows", every_row_stored)  # what sparse_tables asks
        run("--db", db, "-q", "load", world_dir)
        run("--db", db, "-q", "sweep")
        if not is_dense:
            quiet = _quiet_accounts(db)
            assert len(quiet) > 1000  # most accounts of the world say nothing
            later = _later_extract(world_dir, tmp / "later", quiet[3])
        # An analyst acts on accounts the sweep left at "none" (their decision is implied).
        run("--db", db, "-q", "suspend", quiet[0], "--reason", "customer reported stolen identity")
        run("--db", db, "-q", "review", quiet[1], "--confirm-fraud", "--note", "called the customer")
        run("--db", db, "-q", "review", quiet[2], "--dismiss", "--note", "ID verified in branch")
        run("--db", db, "-q", "sweep")  # nothing changed: the stored detection is reused
        run("--db", db, "-q", "reinstate", quiet[0], "--reason", "identity restored")
        # By hand over the policy: a quiet account suspended, a monitored one suspended too.
        run("--db", db, "-q", "suspend", quiet[4], "--reason", "mule confessed")
        monitored = csv.DictReader(
            run("--db", db, "decisions", "--action", "monitor", "--format", "csv").stdout.splitlines()
        )
        run("--db", db, "-q", "suspend", next(monitored)["account_id"], "--reason", "card skimming ring")
        if loaded_since:
            run("--db", db, "-q", "load", later)  # new accounts and a new credit limit, not swept yet
        mp.undo()
    with SqliteWorkspace(sparse, create=False) as ws:  # while no load came since, keys read the accounts table
        assert ws._accounts_as_swept() is not loaded_since
    con = sqlite3.connect(dense)
    con.execute("DELETE FROM meta WHERE key = 'implied_rows'")
    con.execute("DROP TABLE swept_accounts")
    con.commit()
    con.close()
    return sparse, dense, quiet, tmp


def _same(pair, *args, files: tuple[str, ...] = ()):
    """Run ``fraudgraph ARGS`` on both workspaces ("{out}": a folder of each, of the same length):
    exit code, stdout, stderr and the files written must be the same."""
    sparse, dense, _, tmp = pair
    out = []
    for db in (sparse, dense):
        folder = tmp / f"out-{db.stem[0]}"
        folder.mkdir(exist_ok=True)
        r = run("--db", db, *[str(a).replace("{out}", str(folder)) for a in args], ok=False)
        texts = [r.exit_code, *(t.replace(str(db), "DB").replace(folder.name, "out-x") for t in (r.stdout, r.stderr))]
        for name in files:
            path = folder / name
            texts.append(path.read_bytes() if path.exists() else None)
        out.append(texts)
    assert out[0] == out[1], f"fraudgraph {' '.join(map(str, args))} differs on a workspace with implied rows"
    return out[0]


def test_the_sparse_workspace_stores_far_fewer_rows(pair):
    sparse, dense, quiet, _ = pair
    counts = {}
    for db in (sparse, dense):
        con = sqlite3.connect(db)
        counts[db.stem] = [
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("account_scores", "decisions")
        ]
        con.close()
    assert counts["dense"] == [3000, 3000]
    assert counts["sparse"][0] < 2000 and counts["sparse"][1] < 600
    assert len(quiet) > 1000


@pytest.mark.parametrize(
    "which",
    [0, 1, 2, 3, 10, -1],
    ids=["suspended-then-reinstated", "confirmed", "dismissed", "credit-limit-changed", "quiet", "last-quiet"],
)
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_account_of_an_implied_account(pair, which, fmt):
    quiet = pair[2]
    code, out, _ = _same(pair, "account", quiet[which], "--format", fmt)
    assert code == 0 and quiet[which] in out


def test_account_loaded_after_the_sweep(pair):
    code, out, _ = _same(pair, "account", "Z0000001", "--format", "json")
    if code == 0:  # not swept yet: no score, as before
        assert json.loads(out)["score"] is None


@pytest.mark.parametrize(
    "args",
    [
        ("decisions",),
        ("decisions", "--format", "json"),
        ("decisions", "--all", "--format", "csv"),
        ("decisions", "--all", "--format", "json"),
        ("decisions", "--all", "--limit", "20"),
        ("decisions", "--all", "--limit", "7", "--offset", "2990"),
        ("decisions", "--all", "--limit", "50", "--offset", "200"),
        ("decisions", "--action", "none", "--format", "csv"),
        ("decisions", "--action", "none", "--limit", "5", "--offset", "40"),
        ("decisions", "--action", "suspend", "--format", "json"),
        ("decisions", "--action", "review"),
        ("decisions", "--limit", "20"),
        ("rings", "--limit", "20"),
        ("rings", "--format", "json", "--limit", "5"),
        ("queue",),
        ("queue", "--format", "json"),
        ("notices", "--format", "json"),
        ("audit",),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, tuple) else str(a),
)
def test_listings(pair, args):
    code, _, _ = _same(pair, *args)
    assert code == 0


def test_decisions_all_lists_every_swept_account_once(pair):
    _, out, _ = _same(pair, "decisions", "--all", "--format", "csv")
    ids = [r["account_id"] for r in csv.DictReader(out.splitlines())]
    assert len(ids) == len(set(ids)) == 3000 and "Z0000001" not in ids


def test_evaluate_status_ring_export_report_check(pair):
    sparse, dense, quiet, tmp = pair
    world = tmp / "later"  # its truth file is the world's
    _same(pair, "evaluate", world / "truth.csv", "--format", "json")
    _same(pair, "evaluate", world / "truth.csv")
    ring = json.loads(run("--db", sparse, "rings", "--limit", "1", "--format", "json").stdout)[0]["ring_id"]
    _same(pair, "ring", ring, "--format", "json")
    _same(pair, "ring", ring)
    for args, name, written in (
        (("export", "--account", quiet[10], "--hops", "2"), "hood.json", ("hood.json",)),
        (("export", "--ring", ring), "ring.csv", ("ring.nodes.csv", "ring.edges.csv")),
        (("report", "--ring", ring), "case.md", ("case.md",)),
    ):
        code, _, _, *files = _same(pair, *args, "-o", f"{{out}}/{name}", files=written)
        assert code == 0 and all(files)
    for account in (quiet[0], quiet[10], "Z0000002"):
        event = json.dumps({"account": {"account_id": account}, "links": []})
        results = [run("--db", db, "check", "--event", event, "--format", "json", ok=False) for db in (sparse, dense)]
        answers = [
            (
                r.exit_code,
                {k: v for k, v in json.loads(r.stdout).items() if k != "elapsed_ms"} if r.stdout else r.stderr,
            )
            for r in results
        ]
        assert answers[0] == answers[1]
    st = [json.loads(run("--db", db, "status", "--format", "json").stdout) for db in (sparse, dense)]
    for s in st:
        s.pop("workspace")
        s["last_load"].pop("seconds")
    assert st[0] == st[1]


def _top_ring(ws) -> str:
    return ws.top_rings(None, 1)[0]["ring_id"].iloc[0]


def test_a_workbench_reads_the_same(pair):
    from fraudgraph.web import data
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    sparse, dense, quiet, _ = pair
    answers = []
    for db in (sparse, dense):
        with SqliteWorkspace(db, create=False) as ws:
            answers.append(
                json.dumps(
                    [
                        data.account(ws, quiet[1], hub_threshold=20),
                        data.account(ws, quiet[10], hub_threshold=20),
                        data.queue(ws),
                        data.ring(ws, _top_ring(ws)),
                    ],
                    default=str,
                    sort_keys=True,
                )
            )
    assert answers[0] == answers[1]


@pytest.mark.parametrize(
    "name, where",
    [
        ("decisions", {}),
        ("account_scores", {}),
        ("decisions", {"account_id": "first quiet"}),
        ("decisions", {"account_id": "some"}),
        ("account_scores", {"account_id": "some"}),
        ("decisions", {"action": "none"}),
        ("decisions", {"ring_id": None}),
        ("account_scores", {"ring_id": None, "score": 0.0}),
        ("decisions", {"credit_limit": "of the changed account"}),
    ],
    ids=lambda v: str(v),
)
def test_the_workspace_gives_every_row_back(pair, name, where):
    """``Workspace.table`` on the sparse workspace: the very frame (values, dtypes, order) of
    the one that stores every row; what every reader is built on."""
    import pandas as pd

    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    sparse, dense, quiet, _ = pair
    with SqliteWorkspace(dense, create=False) as ws:
        changed_limit = ws.table("decisions", account_id=quiet[3])["credit_limit"].iloc[0]
    picks = {
        "first quiet": quiet[0],
        "some": [quiet[0], quiet[3], quiet[10], "Z0000001", "nobody", *quiet[-3:]],
        "of the changed account": changed_limit,
    }
    where = {k: picks.get(v, v) if isinstance(v, str) else v for k, v in where.items()}
    frames = []
    for db in (sparse, dense):
        with SqliteWorkspace(db, create=False) as ws:
            frames.append(ws.table(name, **where))
    assert len(frames[1]) > 0
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert frames[0].to_json() == frames[1].to_json()


def test_a_big_result_table_gets_its_indexes_back(db_copy, monkeypatch):
    """A sweep rebuilds a big table's indexes after its rows are in: the same indexes, from
    their own definitions, and the answers read through them unchanged."""
    import fraudgraph.workspace.sqlite.results as results

    def indexes():
        con = sqlite3.connect(db_copy)
        try:
            return sorted(con.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").fetchall())
        finally:
            con.close()

    before = indexes()
    ring = json.loads(run("--db", db_copy, "rings", "--limit", "1", "--format", "json").stdout)[0]["ring_id"]
    shown = run("--db", db_copy, "ring", ring, "--format", "json").stdout
    monkeypatch.setattr(results, "_REBUILD_INDEXES_FROM", 0)
    run("--db", db_copy, "-q", "sweep", "--full")
    assert indexes() == before
    assert run("--db", db_copy, "ring", ring, "--format", "json").stdout == shown
