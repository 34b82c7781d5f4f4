"""The workbench writes the customer's notice as the commands do: an applied ``POST /api/check``
that suspends, the suspend, reinstate and verdict buttons (``/api/accounts/{id}/actions``)."""

from __future__ import annotations

from check_data import suspended_strong_link

NEW = {"account_id": "NEW-W1", "created_at": "2026-11-01T10:00:00", "credit_limit": 2000}


def _notices(read_ws, account_id: str) -> list[dict]:
    notices = read_ws().notices()
    return notices[notices["account_id"] == account_id].to_dict("records")


def test_an_applied_check_writes_the_notice(client, read_ws, db_copy):
    _, ring, kind, value = suspended_strong_link(db_copy)
    event = {"account": NEW, "links": [{"kind": kind, "value": value}]}
    assert client.post("/api/check", json=event).status_code == 200
    assert _notices(read_ws, "NEW-W1") == []  # not applied: nothing written
    done = client.post("/api/check", json={**event, "apply": True, "analyst": "erin"})
    assert done.status_code == 200 and done.json()["action"] == "suspend"
    (notice,) = _notices(read_ws, "NEW-W1")
    assert notice["notice_id"] == "check-1:NEW-W1" and notice["action"] == "suspend"
    assert value not in notice["body"] and ring not in notice["body"]


def test_the_action_buttons_write_the_notices(client, read_ws):
    state = read_ws().account_state()
    quiet = sorted(set(read_ws().accounts()["account_id"]) - set(state["account_id"]))[0]

    def act(action: str, note: str) -> None:
        token = client.get(f"/api/accounts/{quiet}").json()["token"]
        body = {"action": action, "note": note, "analyst": "alice", "expected": token}
        done = client.post(f"/api/accounts/{quiet}/actions", json=body)
        assert done.status_code == 200, done.text

    act("suspend", "customer reported a stolen card")
    act("reinstate", "card replaced")
    act("dismiss", "nothing more to lift")
    notices = _notices(read_ws, quiet)
    assert [(n["notice_id"], n["action"]) for n in notices] == [
        (f"suspend-1:{quiet}", "suspend"),
        (f"reinstate-2:{quiet}", "lift"),
    ]
    assert all("stolen card" not in n["body"] and "card replaced" not in n["body"] for n in notices)


def test_the_buttons_write_the_notice_in_the_workbench_policys_words(db_copy, read_ws):
    from starlette.testclient import TestClient
    from web_fixtures import make_app

    from fraudgraph.decisions.policy import Policy

    policy = Policy.from_text('[notices]\nsupport_contact = "write to help@bank.example"\n')
    state = read_ws().account_state()
    quiet = sorted(set(read_ws().accounts()["account_id"]) - set(state["account_id"]))[0]
    with TestClient(make_app(db_copy, policy=policy)) as client:
        token = client.get(f"/api/accounts/{quiet}").json()["token"]
        body = {"action": "suspend", "note": "stolen card", "analyst": "alice", "expected": token}
        assert client.post(f"/api/accounts/{quiet}/actions", json=body).status_code == 200
    (notice,) = _notices(read_ws, quiet)
    assert "To talk to us, write to help@bank.example." in notice["body"]
