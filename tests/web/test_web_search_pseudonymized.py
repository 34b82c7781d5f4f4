"""Searching a pseudonymized workspace by an identifier an investigator holds (a phone number from
a customer call, a card as printed): found when the operator's key is set, a one-line notice when
it is not, and a plain workspace answers exactly as before."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from web_fixtures import make_app

from fraudgraph.app.privacy import NO_KEY, OTHER_KEY
from fraudgraph.ingest.normalize import canonical_key

KEY = "investigator-key-" + "k" * 16
OTHER = "another-key-" + "z" * 20


@pytest.fixture(scope="module")
def private_db(tmp_path_factory, world_dir):
    """The test world loaded with --pseudonymize (under KEY) and swept."""
    from fraudgraph.app.privacy import prepare_load
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    path = tmp_path_factory.mktemp("private") / "ws.db"
    with SqliteWorkspace(path) as ws:
        dataset = read_dataset(world_dir)
        prepare_load(ws, dataset, pseudonymize=True, environ={"FRAUDGRAPH_PSEUDONYM_KEY": KEY})
        ws.load(dataset)
        run_sweep(ws, seed=0)
    return path


@pytest.fixture(scope="module")
def raw_links(world_dir):
    return pd.read_csv(world_dir / "links.csv", dtype=str)


def one_of(links: pd.DataFrame, kind: str) -> tuple[str, str]:
    """(account_id, raw spelling as loaded) of an identifier of ``kind`` that carries an identity."""
    rows = links[links["kind"] == kind]
    for account_id, value in zip(rows["account_id"], rows["value"]):
        if canonical_key(kind, value) and (kind == "email" or len(re.sub(r"\D", "", value)) >= 10):
            return account_id, value
    raise AssertionError(f"no {kind} in the test world")


def respelled(kind: str, value: str) -> str:
    """How an investigator might type it: other punctuation, other case, stray spaces."""
    digits = re.sub(r"\D", "", value)
    if kind == "phone":
        return "+1 " + ".".join([digits[-10:-7], digits[-7:-4], digits[-4:]])
    if kind == "card":
        return " " + " ".join(re.findall(".{1,4}", digits)) + " "
    return f"  {value.upper()} "


@pytest.fixture
def private_client(private_db, monkeypatch):
    from starlette.testclient import TestClient

    monkeypatch.setenv("FRAUDGRAPH_PSEUDONYM_KEY", KEY)
    with TestClient(make_app(private_db)) as c:
        yield c


@pytest.mark.parametrize("kind", ["phone", "card", "email"])
def test_a_raw_spelling_finds_its_account_in_a_pseudonymized_workspace(private_client, raw_links, kind):
    account_id, value = one_of(raw_links, kind)
    typed = respelled(kind, value)
    assert typed.strip() != value and canonical_key(kind, typed) == canonical_key(kind, value)
    found = private_client.get("/api/search", params={"q": typed}).json()
    hits = [i for i in found["identifiers"] if i["kind"] == kind]
    assert hits and account_id in hits[0]["accounts"], found
    assert "notice" not in found
    shown = json.dumps(found["identifiers"], ensure_ascii=False)
    assert value not in shown and str(canonical_key(kind, value)) not in shown and KEY not in shown
    page = private_client.get("/search", params={"q": typed})
    assert page.status_code == 200 and f'href="/accounts/{account_id}"' in page.text
    assert "Nothing matches" not in page.text and "FRAUDGRAPH_PSEUDONYM_KEY" not in page.text
    assert value not in page.text and KEY not in page.text  # the loaded spelling is nowhere on the page


def test_without_the_key_the_page_says_it_is_needed(private_db, raw_links, monkeypatch):
    from starlette.testclient import TestClient

    account_id, value = one_of(raw_links, "phone")
    monkeypatch.delenv("FRAUDGRAPH_PSEUDONYM_KEY", raising=False)
    with TestClient(make_app(private_db)) as client:
        found = client.get("/api/search", params={"q": value}).json()
        assert found["identifiers"] == [] and found["notice"] == NO_KEY
        page = client.get("/search", params={"q": value}).text
        assert "set FRAUDGRAPH_PSEUDONYM_KEY to the key it was loaded with" in page
        assert client.get("/search").text.count("FRAUDGRAPH_PSEUDONYM_KEY") == 1  # said before a search too
        jump = client.get("/search", params={"q": account_id}, follow_redirects=False)  # ids still found
        assert jump.status_code == 302 and jump.headers["location"] == f"/accounts/{account_id}"
    monkeypatch.setenv("FRAUDGRAPH_PSEUDONYM_KEY", OTHER)
    with TestClient(make_app(private_db)) as client:
        found = client.get("/api/search", params={"q": value}).json()
        assert found["identifiers"] == [] and found["notice"] == OTHER_KEY
        assert "under another key" in client.get("/search", params={"q": value}).text
        assert OTHER not in json.dumps(found)


def test_a_plain_workspace_answers_as_before_with_or_without_a_key(client, read_ws, monkeypatch):
    links = read_ws().links()
    phone = links[(links["kind"] == "phone") & links["key"].notna()].iloc[0]
    typed = respelled("phone", str(phone["value"]))
    before = client.get("/api/search", params={"q": typed}).json()
    assert set(before) == {"query", "accounts", "rings", "identifiers", "truncated"}  # no notice
    assert any(phone["account_id"] in i["accounts"] for i in before["identifiers"])
    monkeypatch.setenv("FRAUDGRAPH_PSEUDONYM_KEY", KEY)  # a key set for another workspace changes nothing here
    assert client.get("/api/search", params={"q": typed}).json() == before
    assert "FRAUDGRAPH_PSEUDONYM_KEY" not in client.get("/search", params={"q": typed}).text
