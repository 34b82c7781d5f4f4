"""``POST /api/check``: ``fraudgraph check`` over HTTP, on the swept 3,000-account world."""

from __future__ import annotations

import json

from check_data import suspended_strong_link

from fraudgraph.app.check import check
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

NEW = {"account_id": "NEW-W1", "created_at": "2026-11-01T10:00:00", "credit_limit": 2000}


def test_the_check_api_answers_as_the_command_does_masked(client, db_copy):
    account, ring, kind, value = suspended_strong_link(db_copy)
    event = {"account": NEW, "links": [{"kind": kind, "value": value}]}
    response = client.post("/api/check", json=event)
    assert response.status_code == 200, response.text
    answer = response.json()
    with SqliteWorkspace(db_copy, create=False) as ws:
        expected = check(ws, event)
    for key in ("account_id", "action", "held", "trigger", "score", "rings", "accounts", "shared", "reasons"):
        assert answer[key] == json.loads(json.dumps(expected[key])), key
    assert answer["action"] == "suspend" and answer["held"] and answer["applied"] is False
    assert ring in {r["ring_id"] for r in answer["rings"]} and account in {a["account_id"] for a in answer["accounts"]}
    assert value not in response.text  # the identifier comes back masked
    with SqliteWorkspace(db_copy, create=False) as ws:
        assert ws.accounts(["NEW-W1"]).empty and ws.audit("NEW-W1").empty  # nothing written


def test_an_applied_check_is_recorded_by_the_analyst(client, db_copy):
    _, _, kind, value = suspended_strong_link(db_copy)
    event = {"account": NEW, "links": [{"kind": kind, "value": value}]}
    refused = client.post("/api/check", json={**event, "apply": True})
    assert refused.status_code == 400 and "analyst" in refused.json()["error"]
    done = client.post("/api/check", json={**event, "apply": True, "analyst": "erin"})
    assert done.status_code == 200 and done.json()["applied"] is True
    with SqliteWorkspace(db_copy, create=False) as ws:
        assert len(ws.accounts(["NEW-W1"])) == 1
        audit = ws.audit("NEW-W1")
        assert audit.iloc[-1]["actor"] == "erin" and audit.iloc[-1]["new_action"] == "suspend"
    # The queue shows what was recorded at once.
    queued = client.get("/api/queue", params={"action": "suspend", "limit": 500}).json()["rows"]
    assert "NEW-W1" in {r["account_id"] for r in queued}


def test_a_bad_check_request_is_400_naming_the_field(client):
    cases = [
        ({"account": {**NEW, "credit_limit": -5}}, "account.credit_limit"),
        ({"account": NEW, "links": [{"kind": "cardd", "value": "1"}]}, "links[0].kind"),
        ({"links": []}, "account"),
        ({"account": NEW, "apply": "yes"}, "apply"),
        ({"account": NEW, "colour": "red"}, "unknown field(s) colour"),
        ([1, 2], "event"),
    ]
    for body, field in cases:
        response = client.post("/api/check", json=body)
        assert response.status_code == 400, body
        assert field in response.json()["error"], (body, response.json())
    broken = client.post("/api/check", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"].startswith("event: not valid JSON")


def test_the_app_keeps_one_checker(client, db_copy):
    client.post("/api/check", json={"account": NEW, "links": []})
    checker = client.app.state.workbench.checker
    client.post("/api/check", json={"account": {**NEW, "account_id": "NEW-W2"}, "links": []})
    assert client.app.state.workbench.checker is checker is not None
