"""load --pseudonymize: the workspace stores only keyed pseudonyms of identifiers, detection is
unchanged, mixing keys or plain data is refused, and check still answers for whoever holds the key."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from check_data import connect_with_links
from click.testing import CliRunner

from fraudgraph.cli import cli

KEY = {"FRAUDGRAPH_PSEUDONYM_KEY": "k" * 32}
OTHER = {"FRAUDGRAPH_PSEUDONYM_KEY": "z" * 32}


def run(*args, env=None, code=0):
    r = CliRunner().invoke(cli, [str(a) for a in args], env=env or {})
    assert r.exit_code == code, r.output + r.stderr
    return r


@pytest.fixture(scope="module")
def two_workspaces(tmp_path_factory, world_dir):
    base = tmp_path_factory.mktemp("pseudo")
    plain, private = base / "plain" / "ws.db", base / "private" / "ws.db"
    plain.parent.mkdir()
    private.parent.mkdir()
    run("--db", plain, "-q", "load", world_dir)
    run("--db", private, "-q", "load", world_dir, "--pseudonymize", env=KEY)
    for db in (plain, private):
        run("--db", db, "-q", "sweep")
    return plain, private


def found_in(values: set[str], stored: bytes) -> list[str]:
    """The values whose UTF-8 bytes occur in ``stored`` (``v.encode() in stored`` for each), without
    scanning all of ``stored`` once per value (55 s for the test world's 35,000-odd values and
    5.7 MB): a value of six bytes or more can occur only where its first and its last six bytes do,
    and those are looked up among all of ``stored``'s 6-byte windows at once. Only the values that
    pass are searched for."""
    encoded = {v: v.encode() for v in values}
    assert all(len(e) >= 6 for e in encoded.values())
    buf = np.frombuffer(stored, dtype=np.uint8).astype(np.uint64)
    n = max(len(buf) - 5, 0)
    windows = np.zeros(n, dtype=np.uint64)
    for k in range(6):
        windows |= buf[k : k + n] << np.uint64(8 * k)
    # Sorted for a binary search, which repeats do no harm: numpy's unique (and isin) took 9-10 s
    # for 5.7M random 48-bit numbers on this machine, a sort 0.1 s; the test 4.4 s -> 1.9 s.
    windows.sort()

    def present(parts: list[bytes]) -> np.ndarray:
        codes = np.fromiter((int.from_bytes(p, "little") for p in parts), dtype=np.uint64, count=len(parts))
        at = np.searchsorted(windows, codes)
        hit = at < len(windows)
        hit[hit] = windows[at[hit]] == codes[hit]
        return hit

    names = list(encoded)
    first = present([encoded[v][:6] for v in names])
    last = present([encoded[v][-6:] for v in names])
    return [v for v, ok in zip(names, first & last) if ok and encoded[v] in stored]


def test_found_in_finds_what_a_byte_search_finds():
    stored = b"xx-card-4111111111111111-yy\x00alice@example.com\x00\x01phone+44 20 7946 0958"
    values = {"card-4111111111111111", "alice@example.com", "+44 20 7946 0958", "alice@example.org", "4111112"}
    values |= {"phone+", "x00ali", "carx-4111111111111111", "ée-café"}
    assert found_in(values, b"") == [] and found_in({"abcdef"}, b"abcde") == []
    assert sorted(found_in(values, stored)) == sorted(v for v in values if v.encode() in stored)
    assert sorted(found_in(values, stored)) == [
        "+44 20 7946 0958",
        "alice@example.com",
        "card-4111111111111111",
        "phone+",
    ]


def members(db) -> set[tuple[str, ...]]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT ring_id, account_id FROM ring_members").fetchall()
    con.close()
    rings: dict[str, list[str]] = {}
    for ring_id, account in rows:
        rings.setdefault(ring_id, []).append(account)
    return {tuple(sorted(v)) for v in rings.values()}


def test_the_workspace_holds_no_identifier_value_and_detection_is_unchanged(two_workspaces):
    plain, private = two_workspaces
    con = connect_with_links(plain)
    rows = con.execute("SELECT value, key FROM links WHERE key IS NOT NULL")  # values with no key carry no identity
    raw = {v for pair in rows for v in pair if v and len(v) >= 6}
    con.close()
    assert raw
    stored = b"".join(p.read_bytes() for p in private.parent.rglob("*") if p.is_file())
    leaked = found_in(raw, stored)
    assert not leaked, leaked[:3]
    assert members(private) == members(plain)
    scores = [
        {
            a["account_id"]: round(a["score"], 9)
            for a in json.loads(run("--db", db, "decisions", "--all", "--format", "json").stdout)
        }
        for db in (plain, private)
    ]
    assert scores[0] == scores[1]


def test_mixing_plain_and_pseudonymized_data_or_two_keys_is_refused(two_workspaces, world_dir):
    plain, private = two_workspaces
    for args, env, message in (
        ((private, world_dir), KEY, "load with --pseudonymize"),
        ((private, world_dir, "--pseudonymize"), OTHER, "another key"),
        ((plain, world_dir, "--pseudonymize"), KEY, "plain identifiers"),
    ):
        db, folder, *flags = args
        r = run("--db", db, "load", folder, *flags, env=env, code=1)
        assert message in r.output + r.stderr
    r = run("--db", private, "load", world_dir, "--pseudonymize", code=2)
    assert "FRAUDGRAPH_PSEUDONYM_KEY" in r.output + r.stderr


def test_check_answers_on_a_pseudonymized_workspace_for_whoever_holds_the_key(two_workspaces, world_dir):
    plain, private = two_workspaces
    con = connect_with_links(plain)
    account, value = con.execute(
        "SELECT l.account_id, l.value FROM links l JOIN decisions d ON d.account_id = l.account_id "
        "WHERE l.kind = 'card' AND d.action = 'suspend' AND d.ring_id IS NOT NULL LIMIT 1"
    ).fetchone()
    con.close()
    event = json.dumps(
        {
            "account": {"account_id": "NEW-1", "created_at": "2026-11-01T10:00:00", "credit_limit": 2000},
            "links": [{"kind": "card", "value": value}],
        }
    )
    answers = [
        json.loads(run("--db", db, "check", "--event", event, "--format", "json", env=env).stdout)
        for db, env in ((plain, None), (private, KEY))
    ]
    assert answers[0]["action"] == answers[1]["action"] != "none"
    assert [r["ring_id"] for r in answers[0]["rings"]] == [r["ring_id"] for r in answers[1]["rings"]]
    run("--db", private, "check", "--event", event, code=2)
    run("--db", private, "check", "--event", event, env=OTHER, code=1)
