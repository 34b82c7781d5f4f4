"""`check` on every backend: a small swept world answers each event as the reference (SQLite) does,
and ``--apply`` records the event and its decision the same way."""

from __future__ import annotations

import json

import pytest
from workspace_data import swept_with

from fraudgraph.app.check import Checker
from fraudgraph.model.frames import ACTIONS, IDENTIFIER_KINDS

NEW = {"account_id": "NEW-1", "created_at": "2026-11-01T10:00:00", "credit_limit": 1500}


@pytest.fixture(scope="module")
def reference_ws(reference, small_world):
    return swept_with(reference(), small_world)


@pytest.fixture(scope="module")
def swept(stores, small_world):
    return swept_with(stores.open(stores.new_store()), small_world)


def _events(ws) -> list[dict]:
    """Events that touch the sweep's results: a suspended member's strong identifier, the same
    member's weak ones, the biggest hub, an existing account's new phone, an unrelated account."""
    decisions = ws.table("decisions")
    flagged = decisions[decisions["ring_id"].notna() & (decisions["action"] != "none")]
    severity = flagged["action"].map({a: -i for i, a in enumerate(ACTIONS)})
    members = flagged.assign(severity=severity).sort_values(["severity", "account_id"])
    links = ws.links(members["account_id"].head(1).tolist())
    links = links[links["key"].notna()].sort_values(["account_id", "kind", "value"])
    hubs = ws.table("hubs").sort_values(["n_accounts", "kind", "key"], ascending=[False, True, True])
    strong = links[links["kind"].isin(["card", "device", "bank_account", "national_id"])].head(2)
    weak = links[links["kind"].isin(["phone", "email", "address"])].head(2)
    events = [
        {"account": NEW, "links": [{"kind": k, "value": v} for k, v in zip(strong["kind"], strong["value"])]},
        {
            "account": {**NEW, "account_id": "NEW-2"},
            "links": [{"kind": k, "value": v} for k, v in zip(weak["kind"], weak["value"])],
        },
        {"account": {**NEW, "account_id": "NEW-3"}, "links": [{"kind": "email", "value": "nobody.else@example.org"}]},
        {
            "account": {"account_id": members["account_id"].iloc[0]},
            "links": [{"kind": "phone", "value": "+1 555 010 7777"}],
        },
    ]
    if len(hubs):
        kind, key = hubs.iloc[0][["kind", "key"]]
        raw = ws.identifier_counts(hubs.head(1)[["kind", "key"]])["raw_values"].iloc[0][0]
        assert kind in IDENTIFIER_KINDS
        events.append({"account": {**NEW, "account_id": "NEW-4"}, "links": [{"kind": kind, "value": raw}]})
    return events


def _answers(ws, events, **options):
    checker = Checker(ws)
    out = []
    for event in events:
        answer = checker.check(json.dumps(event), **options)
        answer.pop("elapsed_ms")
        out.append(answer)
    return out


def test_check_answers_as_the_reference_does(swept, reference_ws):
    events = _events(reference_ws)
    mine, theirs = _answers(swept, events), _answers(reference_ws, events)
    assert mine == theirs
    assert mine[0]["held"] and mine[0]["rings"], "a suspended member's strong identifier holds the event"
    assert mine[2]["action"] == "none"


def test_check_apply_records_like_the_reference(store_maker, reference, small_world):
    ws = swept_with(store_maker.open(store_maker.new_store()), small_world)
    ref = swept_with(reference(), small_world)
    event = _events(ref)[0]
    mine, theirs = _answers(ws, [event], apply=True)[0], _answers(ref, [event], apply=True)[0]
    assert mine == theirs and mine["applied"]
    for w in (ws, ref):
        assert w.accounts(["NEW-1"])["credit_limit"].tolist() == [1500.0]
        assert len(w.links(["NEW-1"])) == len(event["links"])
        assert w.account_state(["NEW-1"])["action"].tolist() == [mine["action"]]
        assert w.audit("NEW-1")["actor"].tolist() == ["check"]
