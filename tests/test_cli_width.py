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
    cut = "\n".join(lines_of("--db", db, "rings"))
    full = "\n".join(lines_of("--db", db, "rings", "--wide"))
    assert "…" in cut and "…" not in full and max(len(x) for x in full.splitlines()) > 100


def test_audit_and_sweeps_keep_times_and_ids_whole_and_say_why_in_full(db_copy):
    """The columns an investigator reads a trail by (when, who, which account, what changed) are
    never cut to a few letters at 100 columns; the reason is a wrapped line under its row."""
    db = db_copy
    rows = json.loads(CliRunner().invoke(cli, ["--db", str(db), "audit", "--format", "json"]).stdout)
    table = lines_of("--db", db, "audit")
    first = rows[0]
    row = next(line for line in table if first["account_id"] in line)
    assert first["at"][:19].replace("T", " ") in row and "…" not in row
    assert f"{first['previous_action']} → {first['new_action']}" in row
    why = table[table.index(row) + 1]
    assert why.startswith("    ") and why.strip() and first["reasons"][0]["text"].startswith(why.strip()[:40])
    assert all(len(line) <= 100 for line in table)
    history = lines_of("--db", db, "sweeps")
    sweep = json.loads(CliRunner().invoke(cli, ["--db", str(db), "sweeps", "--format", "json"]).stdout)[0]
    line = next(x for x in history if sweep["sweep_id"] in x)
    assert sweep["finished_at"][:16].replace("T", " ") in line and "…" not in line
    assert f"{sweep['escalated']:,} / {sweep['de_escalated']:,}" in line


def test_table_timestamps_read_to_the_second(db_copy):
    table = "\n".join(lines_of("--db", db_copy, "queue", "--limit", "1"))
    raw = CliRunner().invoke(cli, ["--db", str(db_copy), "queue", "--limit", "1", "--format", "json"]).stdout
    at = json.loads(raw)[0]["since"]
    assert "." in at and at.split(".")[0] in table and at not in table


def test_member_rows_keep_their_values_whole_and_amounts_read_as_money(db_copy):
    """At 100 columns a header wider than its values gives way before any value is cut, and
    amounts read as money (``1,498``, ``0``) rather than ``0.000``."""
    db = db_copy
    rid = json.loads(CliRunner().invoke(cli, ["--db", str(db), "rings", "--format", "json"]).stdout)[0]["ring_id"]
    ring = json.loads(CliRunner().invoke(cli, ["--db", str(db), "ring", rid, "--format", "json"]).stdout)
    table = lines_of("--db", db, "ring", rid)
    for member in ring["members"]:
        row = next(line for line in table if line.startswith(member["account_id"]))
        assert member["created_at"][:19] in row, row
        assert f"{member['credit_limit']:,.0f}" in row.split(), row
        assert "0.000" not in row.split()[3:5], row
