"""The workbench on the Neo4j workspace (the local Bolt server): the same pages, API and actions."""

from __future__ import annotations

import pytest
from neo4j_fixtures import bolt_server, neo4j_database, neo4j_driver, neo4j_ws  # noqa: F401 - fixtures

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo4j_client(neo4j_ws, tmp_path):
    from starlette.testclient import TestClient

    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.web.app import create_app

    write_world(generate_world(150, seed=5), tmp_path / "world")
    neo4j_ws.load(read_dataset(tmp_path / "world"))
    run_sweep(neo4j_ws, seed=0)
    with TestClient(create_app(lambda: neo4j_ws, hub_threshold=40)) as client:
        yield client


def test_the_workbench_reads_and_acts_on_neo4j(neo4j_client, neo4j_ws):
    queue = neo4j_client.get("/api/queue").json()
    assert queue["total"] > 0
    rings = neo4j_client.get("/api/queue", params={"view": "rings"}).json()["rows"]
    assert rings
    ring = neo4j_client.get(f"/api/rings/{rings[0]['ring_id']}").json()
    assert ring["shared"] and ring["members"]
    assert neo4j_client.get(f"/rings/{rings[0]['ring_id']}").status_code == 200

    account_id = queue["rows"][0]["account_id"]
    token = neo4j_client.get(f"/api/accounts/{account_id}").json()["token"]
    body = {"action": "confirm_fraud", "note": "seen on Neo4j", "analyst": "erin", "expected": token}
    assert neo4j_client.post(f"/api/accounts/{account_id}/actions", json=body).status_code == 200
    assert neo4j_ws.audit(account_id).iloc[-1]["actor"] == "erin"
    again = neo4j_client.post(f"/api/accounts/{account_id}/actions", json={**body, "action": "dismiss"})
    assert again.status_code == 409

    links = neo4j_ws.links()
    phone = links[(links["kind"] == "phone") & links["key"].notna()].iloc[0]
    found = neo4j_client.get("/api/search", params={"q": f"  {phone['value']} "}).json()
    assert any(phone["account_id"] in i["accounts"] for i in found["identifiers"])


def test_reveal_a_ring_action_and_check_on_neo4j(neo4j_client, neo4j_ws):
    ring_id = neo4j_client.get("/api/queue", params={"view": "rings"}).json()["rows"][0]["ring_id"]
    members = sorted(neo4j_ws.table("ring_members", ring_id=ring_id)["account_id"])
    token = neo4j_client.get(f"/api/rings/{ring_id}").json()["token"]
    shown = neo4j_client.post(f"/api/rings/{ring_id}/reveal", json={"analyst": "dana"}).json()
    assert shown["revealed"] == {"by": "dana", "audit_entries": len(members)}
    audit = neo4j_ws.audit_of(members)
    assert sorted(audit[audit["event"] == "reveal"]["account_id"]) == members
    body = {"action": "dismiss", "note": "one household", "analyst": "erin", "expected": token}
    done = neo4j_client.post(f"/api/rings/{ring_id}/actions", json=body)  # the reveal is no conflict
    assert done.status_code == 200 and sorted(done.json()["applied"]) == members
    event = {"account": {"account_id": "NEO-NEW", "created_at": "2026-11-01", "credit_limit": 100}, "links": []}
    answer = neo4j_client.post("/api/check", json={**event, "apply": True, "analyst": "erin"}).json()
    assert answer["applied"] is True and neo4j_ws.audit("NEO-NEW").iloc[-1]["actor"] == "erin"
