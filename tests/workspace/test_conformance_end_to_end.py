"""A small synthetic world swept on every backend, directly and through the CLI, compared with the
same run on the reference backend (SQLite): same rings, decisions, logs and command output."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

TABLES = ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions")
_TIME_COLUMNS = {"audit": ["at"], "notices": ["created_at"], "account_state": ["updated_at"]}


def _sweep_twice(ws, folder):
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset

    ws.load(read_dataset(folder))
    first = run_sweep(ws, seed=3)
    tables = {name: ws.table(name) for name in TABLES}
    logs = {read: getattr(ws, read)().drop(columns=drop) for read, drop in _TIME_COLUMNS.items()}
    second = run_sweep(ws, seed=3)
    return {
        "first": first,
        "second": second,
        "tables": tables,
        "logs": logs,
        "members": ws.table("ring_members"),
    }


@pytest.fixture(scope="module")
def reference_sweeps(reference, small_world):
    return _sweep_twice(reference(), small_world)


def test_a_sweep_finds_the_reference_rings_and_decisions(stores, small_world, reference_sweeps):
    mine = _sweep_twice(stores.open(stores.new_store()), small_world)
    theirs = reference_sweeps
    assert mine["first"].summary["rings"] == theirs["first"].summary["rings"] > 0
    assert mine["first"].engine == "python"
    for name in TABLES:
        pd.testing.assert_frame_equal(mine["tables"][name], theirs["tables"][name], obj=name)
    for read in _TIME_COLUMNS:
        pd.testing.assert_frame_equal(mine["logs"][read], theirs["logs"][read], obj=read)
    # A second sweep keeps ring ids stable.
    assert mine["second"].diff == theirs["second"].diff
    pd.testing.assert_frame_equal(mine["members"], mine["tables"]["ring_members"])
    pd.testing.assert_frame_equal(mine["members"], theirs["members"])


def _cli_session(where: list[str], env: dict, folder, out) -> dict:
    """The investigator's command line from load to report; returns what each step printed."""
    from fraudgraph.cli.main import cli

    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, [*where, *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, f"{' '.join(args)}: {result.output}"
        return result.stdout

    def js(*args):
        return json.loads(run(*args, "--format", "json"))

    seen: dict = {}
    run("load", str(folder))
    run("sweep", "--seed", "5")
    seen["rings"] = js("rings", "--limit", "50")
    top = seen["rings"][0]["ring_id"]
    seen["ring"] = js("ring", top)
    first, second = [m["account_id"] for m in seen["ring"]["members"][:2]]
    seen["account"] = js("account", first)
    seen["path"] = js("path", first, second)
    run("export", "--ring", top, "--format", "json", "-o", str(out / "ring.json"))
    seen["export"] = json.loads((out / "ring.json").read_text())
    seen["status"] = js("status")
    seen["decisions"] = js("decisions")
    flagged = seen["decisions"][0]["account_id"]
    run("review", flagged, "--dismiss", "--note", "documents checked", "--analyst", "ana")
    run("suspend", second, "--reason", "stolen identity reported", "--analyst", "ana")
    run("sweep", "--seed", "5")
    seen["decisions after review"] = js("decisions")
    seen["queue"] = js("queue")
    seen["audit"] = js("audit")
    seen["notices"] = js("notices")
    seen["sweeps"] = js("sweeps")
    run("report", "--ring", top, "-o", str(out / "ring.md"))
    seen["report"] = (out / "ring.md").read_text()
    seen["top"] = top
    return seen


# Columns that hold the wall clock: they differ between any two runs.
_CLOCK = {"queue": "since", "audit": "at", "notices": "created_at", "sweeps": "finished_at"}


def _without_clock(seen: dict) -> dict:
    return {step: [{k: v for k, v in row.items() if k != _CLOCK[step]} for row in seen[step]] for step in _CLOCK}


@pytest.fixture(scope="module")
def reference_cli(tmp_path_factory, small_world):
    out = tmp_path_factory.mktemp("reference-cli")
    no_neo4j = {f"FRAUDGRAPH_NEO4J_{n}": None for n in ("URI", "USER", "PASSWORD", "DATABASE")}
    return _cli_session(["--db", str(out / "cli.db")], no_neo4j, small_world, out)


def test_the_cli_prints_what_it_prints_on_the_reference(stores, small_world, reference_cli, tmp_path):
    where, env = stores.cli_args(stores.new_store())
    mine = _cli_session(where, env, small_world, tmp_path)
    theirs = reference_cli
    assert mine["rings"] and mine["rings"] == theirs["rings"]
    for step in ("ring", "account", "export", "decisions", "decisions after review"):
        assert mine[step] == theirs[step], step
    assert len(mine["path"]) == len(theirs["path"]) >= 3
    assert _without_clock(mine) == _without_clock(theirs)
    assert len(mine["sweeps"]) == 2
    assert mine["top"] in mine["report"]
    assert mine["status"]["backend"] == stores.backend
    assert mine["status"]["counts"] == theirs["status"]["counts"]
