"""Every command an investigator tries fits 100 columns, stderr notes included (issue 11, item 2)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fraudgraph.cli.main import cli


def lines(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "100", "FRAUDGRAPH_ANALYST": "dana"})
    assert r.exit_code == 0, r.output + r.stderr
    return (r.stdout + r.stderr).splitlines()


def test_investigation_and_export_commands_fit_100_columns(db_copy, tmp_path):
    db = db_copy
    rid = json.loads(CliRunner().invoke(cli, ["--db", str(db), "rings", "--format", "json"]).stdout)[0]["ring_id"]
    ring = json.loads(CliRunner().invoke(cli, ["--db", str(db), "ring", rid, "--format", "json"]).stdout)
    a, b = ring["members"][0]["account_id"], ring["members"][-1]["account_id"]
    commands = [
        ["ring", rid, "--reveal"],
        ["account", a],
        ["account", a, "--reveal"],
        ["path", a, b],
        ["path", a, b, "--reveal"],
        ["export", "--ring", rid, "-o", tmp_path / "ring.html"],
        ["export", "--account", a, "--hops", 2, "-o", tmp_path / "hood.png"],
        ["report", "--ring", rid, "-o", tmp_path / "case.md"],
        ["review", a, "--dismiss", "--note", "verified in branch"],
        ["audit", a],
    ]
    for command in commands:
        too_long = [line for line in lines("--db", db, *command) if len(line) > 100]
        assert not too_long, f"{command}: {too_long[:2]}"
    too_long = [x for x in lines("generate", tmp_path / "w2", "--accounts", 300) if len(x) > 100]
    assert not too_long
