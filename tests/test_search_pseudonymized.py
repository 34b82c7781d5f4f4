"""`fraudgraph search`: an account found by an identifier as the investigator holds it, in a plain
and in a pseudonymized workspace (typed values normalized as a load does, then pseudonymized with
the operator's key), with a one-line note when the key is missing; identifiers stay masked."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from fraudgraph.app.investigate import typed_keys
from fraudgraph.cli import cli
from fraudgraph.ingest.normalize import canonical_key

KEY = {"FRAUDGRAPH_PSEUDONYM_KEY": "s" * 32}


def run(*args, env=None, code=0):
    r = CliRunner().invoke(cli, [str(a) for a in args], env=env or {"FRAUDGRAPH_PSEUDONYM_KEY": ""})
    assert r.exit_code == code, r.output + r.stderr
    return r


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory, world_dir):
    base = tmp_path_factory.mktemp("search")
    plain, private = base / "plain.db", base / "private.db"
    run("--db", plain, "-q", "load", world_dir)
    run("--db", private, "-q", "load", world_dir, "--pseudonymize", env=KEY)
    return plain, private


@pytest.fixture(scope="module")
def phone(world_dir):
    """(account_id, value as loaded, as typed on a call: other punctuation and a country code)."""
    links = pd.read_csv(world_dir / "links.csv", dtype=str)
    phones = links[links["kind"] == "phone"]
    for account_id, value in zip(phones["account_id"], phones["value"]):
        digits = re.sub(r"\D", "", value)
        if canonical_key("phone", value) and len(digits) >= 10:
            return account_id, value, f"+1 ({digits[-10:-7]}) {digits[-7:-4]} {digits[-4:]}"
    raise AssertionError("no phone in the test world")


def test_typed_keys_are_what_a_pseudonymized_load_stores(workspaces, phone):
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    account_id, _value, typed = phone
    with SqliteWorkspace(workspaces[1], create=False) as ws:
        stored = set(ws.links([account_id]).query("kind == 'phone'")["key"])
    secret = KEY["FRAUDGRAPH_PSEUDONYM_KEY"].encode()
    assert stored & {key for kind, key in typed_keys(typed, ["phone"], secret) if kind == "phone"}
    assert not stored & {key for _, key in typed_keys(typed, ["phone"])}  # the plain key is not stored


def test_search_finds_the_account_in_both_workspaces_masked(workspaces, phone):
    account_id, value, typed = phone
    plain, private = workspaces
    for db, env in ((plain, None), (private, KEY)):
        r = run("--db", db, "search", typed, "--format", "json", env=env)
        rows = json.loads(r.stdout)
        assert any(x["account_id"] == account_id and x["kind"] == "phone" for x in rows), rows
        digits = re.sub(r"\D", "", value)[-10:]
        assert digits not in r.stdout and value not in r.stdout and "Note:" not in r.stderr
        assert account_id in run("--db", db, "search", typed, env=env).stdout


def test_without_the_key_search_says_it_is_needed(workspaces, phone):
    account_id, _value, typed = phone
    r = run("--db", workspaces[1], "search", typed)
    assert "No account, ring or identifier matches." in r.stdout
    assert "Note:" in r.stderr and "FRAUDGRAPH_PSEUDONYM_KEY" in r.stderr
    assert account_id in run("--db", workspaces[1], "search", account_id).stdout  # ids are still found
    other = run("--db", workspaces[1], "search", typed, env={"FRAUDGRAPH_PSEUDONYM_KEY": "o" * 32})
    assert "another key" in other.stderr and account_id not in other.stdout
