"""Tables fit a 100-column terminal; --wide shows everything (issue 11, item 2)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fraudgraph.cli.main import cli


def lines_of(*args, columns=100):
    r = CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output + r.stderr
    return r.stdout.splitlines()


def test_every_table_fits_100_columns_and_wide_does_not_cut(db_copy, world_dir):
    db = db_copy
    rid = json.loads(CliRunner().invoke(cli, ["--db", str(db), "rings", "--format", "json"]).stdout)[0]["ring_id"]
    member = json.loads(CliRunner().invoke(cli, ["--db", str(db), "ring", rid, "--format", "json"]).stdout)
    account = member["members"][0]["account_id"]
    commands = [
        ["status"],
        ["rings"],
        ["ring", rid],
        ["account", account],
        ["decisions"],
        ["queue"],
        ["audit"],
        ["notices"],
        ["sweeps"],
        ["sweep", "--dry-run"],
    ]
    for command in commands:
        lines = lines_of("--db", db, *command)
        too_long = [line for line in lines if len(line) > 100]
        assert not too_long, f"{command}: {too_long[:2]}"
    cut = "\n".join(lines_of("--db", db, "audit"))
    full = "\n".join(lines_of("--db", db, "audit", "--wide"))
    assert "…" in cut and "…" not in full and max(len(x) for x in full.splitlines()) > 100


def test_table_timestamps_read_to_the_second(db_copy):
    table = "\n".join(lines_of("--db", db_copy, "queue", "--limit", "1"))
    raw = CliRunner().invoke(cli, ["--db", str(db_copy), "queue", "--limit", "1", "--format", "json"]).stdout
    at = json.loads(raw)[0]["since"]
    assert "." in at and at.split(".")[0] in table and at not in table
