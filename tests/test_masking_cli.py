"""Identifiers are personal data: masked in every output by default, in full only with --reveal
(which writes an audit entry), or as keyed pseudonyms with --pseudonymize (issue 11, section 3)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from check_data import connect_with_links
from click.testing import CliRunner

from fraudgraph.cli.main import cli

KEY = "a-secret-key-of-more-than-16-chars"
FORMATS = ("html", "graphml", "gexf", "json", "csv", "cypher", "png")


def run(*args, env=None, ok=True):
    r = CliRunner().invoke(cli, [str(a) for a in args], env=env or {})
    if ok:
        assert r.exit_code == 0, r.output + r.stderr
    return r


def raw_spellings(db, account_ids) -> set[str]:
    """Raw spellings and canonical keys of the accounts' identifiers (long enough to be telling)."""
    con = connect_with_links(db)
    marks = ",".join("?" * len(account_ids))
    rows = con.execute(f"SELECT value, key FROM links WHERE account_id IN ({marks})", list(account_ids)).fetchall()
    con.close()
    return {v for pair in rows for v in pair if v and len(v) >= 6 and re.search(r"\d|@", v)}


def leaked(data: bytes | str, spellings: set[str]) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return sorted(v for v in spellings if v in text)


@pytest.fixture
def case(db_copy):
    """The top ring, its members, and the raw spellings of their identifiers."""
    db = db_copy
    rid = json.loads(run("--db", db, "rings", "--limit", "1", "--format", "json").stdout)[0]["ring_id"]
    con = sqlite3.connect(db)
    members = [r[0] for r in con.execute("SELECT account_id FROM ring_members WHERE ring_id = ?", (rid,))]
    con.close()
    return db, rid, members, raw_spellings(db, members)


def test_no_output_shows_a_raw_identifier_by_default(case, tmp_path):
    db, rid, members, spellings = case
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    assert spellings
    a, b = members[0], members[-1]
    commands = [
        ["ring", rid],
        ["ring", rid, "--format", "json"],
        ["ring", rid, "--format", "csv"],
        ["account", a],
        ["account", a, "--format", "json"],
        ["account", a, "--format", "csv"],
        ["path", a, b],
        ["path", a, b, "--format", "json"],
        ["rings", "--limit", "5", "--format", "json"],
        ["decisions", "--format", "json"],
        ["queue", "--format", "json"],
        ["audit", a, "--format", "json"],
        ["audit", a, "--format", "csv"],
        ["notices", "--format", "json"],
    ]
    for command in commands:
        out = run("--db", db, *command).stdout
        assert not leaked(out, spellings), f"{command}: {leaked(out, spellings)[:3]}"
    for fmt in FORMATS:
        run("--db", db, "export", "--ring", rid, "-o", tmp_path / f"ring.{fmt}")
    run("--db", db, "export", "--account", a, "--hops", "2", "-o", tmp_path / "hood.json")
    run("--db", db, "report", "--ring", rid, "-o", tmp_path / "case.html")
    run("--db", db, "report", "--ring", rid, "-o", tmp_path / "case.md")
    written = sorted(tmp_path.iterdir())
    assert len(written) >= len(FORMATS) + 4
    nodes = json.loads((tmp_path / "hood.json").read_text())["nodes"]
    hood = raw_spellings(db, [n["account_id"] for n in nodes if n.get("account_id")])
    for path in written:
        data = path.read_bytes()
        assert not leaked(data, spellings | hood), f"{path.name}: {leaked(data, spellings | hood)[:3]}"
    # the masked forms are there instead (last digits, first letter and domain, a device's ends)
    text = run("--db", db, "ring", rid).stdout
    shared = text.split("shared identifiers:")[1].split("features:")[0]
    assert re.search(r"[•…]", shared), shared


def test_reveal_shows_raw_spellings_and_writes_who_revealed_what_to_the_audit(case):
    db, rid, members, spellings = case
    env = {"FRAUDGRAPH_ANALYST": "dana"}
    r = run("--db", db, "ring", rid, "--reveal", env=env)
    assert leaked(r.stdout, spellings)
    assert "audit" in r.stderr
    audit = json.loads(run("--db", db, "audit", members[0], "--format", "json").stdout)
    reveals = [row for row in audit if row["event"] == "reveal"]
    assert reveals and reveals[-1]["actor"] == "dana" and f"ring {rid}" in reveals[-1]["note"]
    # every member whose identifiers were shown has its entry; masked views write none
    before = len(json.loads(run("--db", db, "audit", "--format", "json").stdout))
    run("--db", db, "ring", rid)
    assert len(json.loads(run("--db", db, "audit", "--format", "json").stdout)) == before
    rows = json.loads(run("--db", db, "audit", "--format", "json").stdout)
    assert {row["account_id"] for row in rows if row["event"] == "reveal"} == set(members)


def test_reveal_on_an_export_is_audited_too(case, tmp_path):
    db, rid, members, spellings = case
    run(
        "--db", db, "export", "--ring", rid, "--reveal", "-o", tmp_path / "ring.json", env={"FRAUDGRAPH_ANALYST": "lee"}
    )
    assert leaked((tmp_path / "ring.json").read_text(), spellings)
    rows = json.loads(run("--db", db, "audit", members[0], "--format", "json").stdout)
    assert any(r["event"] == "reveal" and r["actor"] == "lee" and "export" in r["note"] for r in rows)


def test_pseudonyms_need_the_key_and_are_stable_across_files(case, tmp_path):
    db, rid, members, spellings = case
    r = run("--db", db, "export", "--ring", rid, "--pseudonymize", "-o", tmp_path / "x.json", ok=False)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "FRAUDGRAPH_PSEUDONYM_KEY" in r.stderr
    r = run("--db", db, "ring", rid, "--reveal", "--pseudonymize", ok=False, env={"FRAUDGRAPH_PSEUDONYM_KEY": KEY})
    assert r.exit_code == 2
    env = {"FRAUDGRAPH_PSEUDONYM_KEY": KEY}
    run("--db", db, "export", "--ring", rid, "--pseudonymize", "-o", tmp_path / "one.csv", env=env)
    run("--db", db, "export", "--account", members[0], "--pseudonymize", "-o", tmp_path / "two.csv", env=env)
    run("--db", db, "export", "--ring", rid, "--pseudonymize", "-o", tmp_path / "again.json", env=env)

    def pseudonyms(path):
        text = path.read_text()
        assert not leaked(text, spellings)
        return set(
            re.findall(r"\b(?:email|phone|card|device|ip|address|national_id|bank_account):[0-9a-f]{16}\b", text)
        )

    one, two, again = (
        pseudonyms(tmp_path / "one.nodes.csv"),
        pseudonyms(tmp_path / "two.nodes.csv"),
        pseudonyms(tmp_path / "again.json"),
    )
    assert one and one == again  # the same identifiers, the same pseudonyms, in any format
    assert one & two  # the account's identifiers join the ring's on their pseudonyms
    other = {"FRAUDGRAPH_PSEUDONYM_KEY": "another-secret-key-of-16-chars"}
    run("--db", db, "export", "--ring", rid, "--pseudonymize", "-o", tmp_path / "other.json", env=other)
    assert not pseudonyms(tmp_path / "other.json") & one  # another key, other pseudonyms


def test_masked_reason_texts_keep_their_shape(case):
    db, rid, members, spellings = case
    ring = json.loads(run("--db", db, "ring", rid, "--format", "json").stdout)
    shared = [r for r in ring["reasons"] if r["code"].startswith("SHARED_")]
    for r in shared:
        assert r["evidence"]["key"].split(" ·")[0] in r["text"]
    revealed = json.loads(run("--db", db, "ring", rid, "--format", "json", "--reveal").stdout)
    assert [r["code"] for r in revealed["reasons"]] == [r["code"] for r in ring["reasons"]]
