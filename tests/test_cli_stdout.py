"""`export -o -` writes the export itself to stdout, the summary to stderr (issue 11, item 5)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fraudgraph.cli.main import cli


def test_generate_refuses_a_non_empty_folder_without_force(tmp_path):
    runner = CliRunner()
    out = tmp_path / "world"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = runner.invoke(cli, ["generate", str(out), "--accounts", "100"])
    assert r.exit_code == 2 and "--force" in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    r = runner.invoke(cli, ["generate", str(out), "--accounts", "100", "--force"])
    assert r.exit_code == 0, r.output + r.stderr
    assert (out / "accounts.csv").exists() and (out / "keep.txt").read_text() == "mine"


def test_workspace_options_work_after_the_subcommand_too(tmp_path, swept_db):
    runner = CliRunner()
    before = runner.invoke(cli, ["--db", str(swept_db), "rings", "--format", "json", "--limit", "3"])
    after = runner.invoke(cli, ["rings", "--format", "json", "--db", str(swept_db), "--limit", "3"])
    equals = runner.invoke(cli, ["rings", f"--db={swept_db}", "--format", "json", "--limit", "3"])
    assert before.exit_code == after.exit_code == equals.exit_code == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout) == json.loads(equals.stdout)
    missing = runner.invoke(cli, ["status", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
