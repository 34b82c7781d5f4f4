"""Identifiers in full, on purpose: the workbench's Reveal (API and pages), audited like the CLI's
``--reveal``; without it no raw identifier leaves the server."""

from __future__ import annotations

import json

import pytest


def flagged_ring(client) -> str:
    return client.get("/api/queue", params={"view": "rings", "limit": 500}).json()["rows"][0]["ring_id"]


def raw_values(ws, account_ids) -> set[str]:
    """The raw spellings of these accounts' identifiers long enough to be unmistakable."""
    links = ws.links(account_ids).dropna(subset=["key"])
    return {str(v) for v in links["value"] if len(str(v)) >= 8}


def test_revealing_an_account_shows_it_in_full_once_and_is_audited(client, read_ws):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    ws = read_ws()
    secrets = raw_values(ws, [account_id])
    before = len(ws.audit(account_id))
    shown = client.post(f"/api/accounts/{account_id}/reveal", json={"analyst": "dana"})
    assert shown.status_code == 200, shown.text
    answer = shown.json()
    assert answer["revealed"] == {"by": "dana", "audit_entries": 1}
    assert secrets and secrets <= {i["shown"] for i in answer["identifiers"]}
    last = read_ws().audit(account_id).iloc[-1]
    assert (last["event"], last["actor"]) == ("reveal", "dana")
    assert last["note"] == f"identifiers shown in full by: workbench account page {account_id}"
    assert len(read_ws().audit(account_id)) == before + 1
    # The next view is masked again, in the API and on the page.
    again = client.get(f"/api/accounts/{account_id}").text + client.get(f"/accounts/{account_id}").text
    assert not any(s in again for s in secrets)


def test_revealing_a_ring_page_writes_one_row_per_member(client, read_ws):
    ring_id = flagged_ring(client)
    ws = read_ws()
    members = ws.table("ring_members", ring_id=ring_id)["account_id"].tolist()
    shared = ws.table("ring_identifiers", ring_id=ring_id)
    shared_raws = {r for raws in shared[shared["n_members"] >= 2]["raw_values"] for r in raws if len(r) >= 6}
    page = client.post(f"/rings/{ring_id}/reveal", data={"analyst": "dana"})
    assert page.status_code == 200
    assert shared_raws and all(r in page.text for r in shared_raws)
    assert "Identifiers shown in full for this view only" in page.text and "Value (in full)" in page.text
    assert page.cookies.get("fraudgraph_analyst") == "dana"
    audit = read_ws().audit()
    rows = audit[(audit["event"] == "reveal") & (audit["actor"] == "dana")]
    assert sorted(rows["account_id"]) == sorted(members)
    assert all(n == f"identifiers shown in full by: workbench ring page {ring_id}" for n in rows["note"])
    api = client.post(f"/api/rings/{ring_id}/reveal", json={"analyst": "dana"}).json()
    assert shared_raws <= {v for s in api["shared"] for v in s["shown"]}


def test_no_raw_identifier_leaves_the_server_without_a_reveal(client, read_ws):
    ring_id = flagged_ring(client)
    ws = read_ws()
    members = ws.table("ring_members", ring_id=ring_id)["account_id"].tolist()
    secrets = raw_values(ws, members)
    assert secrets
    texts = [
        client.get(f"/api/rings/{ring_id}").text,
        client.get(f"/rings/{ring_id}").text,
        client.get(f"/rings/{ring_id}/graph.svg").text,
        *(client.get(f"/rings/{ring_id}/export.{fmt}").text for fmt in ("json", "graphml", "gexf", "html", "cypher")),
        client.get(f"/rings/{ring_id}/report.html").text,
        client.get("/api/queue", params={"ring": ring_id}).text,
        client.get(f"/api/rings/{ring_id}/preview", params={"action": "confirm_fraud"}).text,
    ]
    for account_id in members:
        texts += [client.get(f"/api/accounts/{account_id}").text, client.get(f"/accounts/{account_id}").text]
    for secret in sorted(secrets)[:5]:  # what search finds (it echoes the query itself, as typed)
        found = client.get("/api/search", params={"q": secret}).json()
        assert found["identifiers"]
        texts.append(json.dumps({k: v for k, v in found.items() if k != "query"}, ensure_ascii=False))
    leaked = [s for s in secrets if any(s in t for t in texts)]
    assert leaked == []
    assert (read_ws().audit()["event"] == "reveal").sum() == 0  # and nothing was revealed


@pytest.mark.parametrize("body", [{}, {"analyst": "   "}])
def test_a_reveal_needs_a_name_and_writes_nothing_without_one(client, read_ws, body):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    refused = client.post(f"/api/accounts/{account_id}/reveal", json=body)
    assert refused.status_code == 400 and "analyst name" in refused.json()["error"]
    assert (read_ws().audit()["event"] == "reveal").sum() == 0
    page = client.post(f"/accounts/{account_id}/reveal", data=body)
    assert page.status_code == 400 and f'href="/accounts/{account_id}"' in page.text


def test_a_reveal_from_another_site_or_of_nobody_is_refused(client, read_ws):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    other = client.post(
        f"/accounts/{account_id}/reveal", data={"analyst": "mallory"}, headers={"Origin": "https://evil.example"}
    )
    assert other.status_code == 403
    assert client.post("/api/accounts/NOPE-1/reveal", json={"analyst": "dana"}).status_code == 404
    assert client.post("/api/rings/R-999999/reveal", json={"analyst": "dana"}).status_code == 404
    assert (read_ws().audit()["event"] == "reveal").sum() == 0
    assert json.loads(client.get(f"/api/accounts/{account_id}").text)["identifiers"]
