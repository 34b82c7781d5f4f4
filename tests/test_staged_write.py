"""A big sweep's detection tables written ahead by a child process (``workspace/sqlite/staging.py``):
the workspace ends the same as when the sweep writes them itself, whatever happens to the child,
and nothing is left behind (no staging file, no child process).

The sweeps here are small; ``staging.MIN_ROWS`` is lowered so that they stage."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from staging_checks import fail_in_children, failure_said, nothing_left, watch_staging

from fraudgraph.app.sweep import run_sweep
from fraudgraph.decisions import policy as policy_mod
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world, write_world
from fraudgraph.workspace.sqlite import results as results_mod, staging
from fraudgraph.workspace.sqlite.schema import PAGE_SIZE
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

_TABLES = (
    "rings",
    "ring_members",
    "ring_identifiers",
    "account_scores",
    "hubs",
    "decisions",
    "account_state",
    "audit",
    "notices",
    "components",
    "swept_accounts",
    "feature_names",
)
_TIMES = {"audit": {"at", "audit_id"}, "notices": {"created_at"}, "account_state": {"updated_at"}}


def _digests(path: Path) -> dict[str, tuple[int, str]]:
    """Every result table's rows (times left out), as a count and a digest, with its indexes."""
    db = sqlite3.connect(path)
    out = {}
    for t in _TABLES:
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({t})") if r[1] not in _TIMES.get(t, set())]
        h = hashlib.sha256()
        rows = db.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
        for row in rows:
            h.update(repr(row).encode())
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY name", (t,)).fetchall()
        out[t] = (len(rows), h.hexdigest()[:16], tuple(indexes))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    return out


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A workspace with a 1,500-account world loaded, never swept."""
    root = tmp_path_factory.mktemp("staged")
    folder = root / "world"
    write_world(generate_world(1_500, 11), folder)
    path = root / "loaded.db"
    ws = SqliteWorkspace(path)
    ws.load(read_dataset(folder))
    ws.close()
    return path


@pytest.fixture(scope="module")
def written_here(loaded, tmp_path_factory) -> dict:
    """The tables of a first sweep that writes everything itself."""
    path = tmp_path_factory.mktemp("here") / "ws.db"
    shutil.copy(loaded, path)
    ws = SqliteWorkspace(path)
    assert run_sweep(ws, seed=2).summary["detection"]["mode"] == "computed"
    ws.close()
    return _digests(path)


def _sweep(loaded: Path, folder: Path, monkeypatch, made: list | None = None) -> tuple[Path, list]:
    """A first sweep on a copy of ``loaded`` in ``folder``, staging; the staged writes it made
    (into ``made`` as they are made)."""
    made = watch_staging(monkeypatch, made)
    return _swept(folder / "ws.db", loaded), made


def _swept(path: Path, source: Path | None = None, **options) -> Path:
    """A sweep (seed 2) of the workspace at ``path``, made a fresh copy of ``source`` first when given."""
    if source is not None:
        shutil.copy(source, path)
    ws = SqliteWorkspace(path)
    try:
        run_sweep(ws, seed=2, **options)
    finally:
        ws.close()
    return path


def test_a_staged_write_leaves_the_workspace_as_writing_it_here_does(loaded, written_here, tmp_path, monkeypatch):
    path, made = _sweep(loaded, tmp_path, monkeypatch)
    assert len(made) == 1 and made[0] is not None and made[0].exit_code == 0
    assert set(made[0].sources) == {"rings", "ring_members", "ring_identifiers", "account_scores", "components"}
    assert _digests(path) == written_here
    nothing_left(tmp_path, made)


@pytest.mark.parametrize("how", ["error", "killed"])
def test_a_child_that_fails_leaves_the_write_to_the_sweep(how, loaded, written_here, tmp_path, monkeypatch, caplog):
    fail_in_children(monkeypatch, results_mod, how)
    with caplog.at_level("DEBUG", logger="fraudgraph"):
        path, made = _sweep(loaded, tmp_path, monkeypatch)
    assert made[0] is not None and made[0].exit_code != 0
    said = failure_said(how)
    assert any(f"the staged tables are not there ({said}" in r.getMessage() for r in caplog.records)
    assert _digests(path) == written_here
    nothing_left(tmp_path, made)


def test_a_sweep_that_fails_after_staging_stops_the_child_and_writes_nothing(loaded, tmp_path, monkeypatch):
    def policy_fails(*args, **kwargs):
        raise RuntimeError("policy broke")

    monkeypatch.setattr(policy_mod, "plan_changes", policy_fails)
    made: list = []
    with pytest.raises(RuntimeError, match="policy broke"):
        _sweep(loaded, tmp_path, monkeypatch, made)
    assert len(made) == 1 and made[0] is not None  # it had started
    nothing_left(tmp_path, made)
    db = sqlite3.connect(tmp_path / "ws.db")
    assert db.execute("SELECT count(*) FROM rings").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM sweeps").fetchone() == (0,)


def test_no_child_for_a_small_sweep_or_without_room(loaded, tmp_path, monkeypatch):
    ws = SqliteWorkspace(tmp_path / "ws.db")
    frames = {"account_scores": [None] * 10}
    assert ws.stage_sweep(frames, None) is None  # below MIN_ROWS: written by the sweep itself
    monkeypatch.setattr(staging, "MIN_ROWS", 0)
    monkeypatch.setattr(staging, "_room", lambda: False)
    assert staging.start(tmp_path, lambda db: None) is None
    ws.close()


def test_a_staging_file_left_by_a_killed_sweep_is_removed_by_the_next(tmp_path):
    """A sweep killed between its fork and its write leaves its file; the next sweep that stages
    in that folder removes it (it holds result rows). One whose sweep still runs stays."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id no process has now
    orphan = tmp_path / f".fraudgraph-stage-{gone.pid}-abc123.db"
    orphan_err = tmp_path / f".fraudgraph-stage-{gone.pid}-abc123.db.err"
    running = tmp_path / f".fraudgraph-stage-{os.getppid()}-def456.db"
    for p in (orphan, orphan_err, running):
        p.write_text("rows")
    staged = staging.start(tmp_path, lambda db: None)
    if staged is None:  # no fork or no room here: the removal is the same function
        staging._remove_orphans(tmp_path)
    else:
        assert staged.ready()
        staged.discard()
    assert not orphan.exists() and not orphan_err.exists()
    assert running.exists()


def test_a_first_sweep_imports_its_forest_beside_the_read_and_a_later_one_does_not(
    loaded, written_here, tmp_path, monkeypatch
):
    """The baseline's forest is imported on a thread while the read runs, joined before detection
    starts, and the sweep's tables are what they were; a sweep with a kept baseline fits nothing
    and starts no import."""
    import fraudgraph.app.sweep as sweep_mod
    import fraudgraph.detection.scoring as scoring_mod

    started = []
    real = scoring_mod.warm_up_forest

    def watched():
        thread = real()
        started.append(thread)
        return thread

    def detect_after_the_join(*args, **kwargs):
        assert started and not started[-1].is_alive()
        return real_detect(*args, **kwargs)

    real_detect = sweep_mod._detect
    monkeypatch.setattr(scoring_mod, "warm_up_forest", watched)
    monkeypatch.setattr(sweep_mod, "_WARM_UP_ACCOUNTS", 0)
    monkeypatch.setattr(sweep_mod, "_detect", detect_after_the_join)
    path = _swept(tmp_path / "ws.db", loaded)
    assert len(started) == 1 and started[0].name == "fraudgraph-warm-forest"
    assert _digests(path) == written_here
    _swept(path, full=True)  # computed again, judged against the kept baseline
    assert len(started) == 1


def test_a_staging_file_takes_the_workspaces_page_size(tmp_path, monkeypatch):
    """The child sets its file's page size before its first table (SQLite ignores it after), so
    that the rows it writes go into pages as big as the workspace's."""
    monkeypatch.setattr(staging, "_room", lambda: True)
    staged = staging.start(tmp_path, lambda db: db.execute("CREATE TABLE t (x)"))
    if staged is None:
        pytest.skip("this system cannot fork")
    try:
        assert staged.ready()
        with sqlite3.connect(staged.path) as db:
            assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    finally:
        staged.discard()
    ws = SqliteWorkspace(tmp_path / "ws.db")
    assert ws._db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    ws.close()
