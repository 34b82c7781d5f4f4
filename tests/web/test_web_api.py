"""The workbench's JSON API and pages through Starlette's test client: what an analyst (or a
script) gets back, what an action writes, and what is refused."""

from __future__ import annotations

import contextlib
import json
import re

import pytest

from fraudgraph.ingest.normalize import canonical_key


def flagged_rings(client) -> list[dict]:
    return client.get("/api/queue", params={"view": "rings", "limit": 500}).json()["rows"]


def test_the_queue_counts_pages_filters_and_sorts(client, read_ws):
    ws = read_ws()
    state = ws.account_state()
    waiting = state[state["action"].isin(["review", "restrict", "suspend"]) & ~state["manual"].astype(bool)]
    first = client.get("/api/queue", params={"limit": 10}).json()
    assert first["total"] == len(waiting) > 10
    assert len(first["rows"]) == 10
    assert sum(first["counts"]["action"].values()) == len(waiting)
    scores = [r["score"] for r in first["rows"]]
    assert scores == sorted(scores, reverse=True)
    second = client.get("/api/queue", params={"limit": 10, "offset": 10}).json()
    assert not {r["account_id"] for r in first["rows"]} & {r["account_id"] for r in second["rows"]}

    by_exposure = client.get("/api/queue", params={"sort": "exposure", "limit": 500}).json()["rows"]
    exposures = [r["exposure"] for r in by_exposure]
    assert exposures == sorted(exposures, reverse=True)
    oldest_first = client.get("/api/queue", params={"sort": "age", "limit": 500}).json()["rows"]
    assert [r["since"] for r in oldest_first] == sorted(r["since"] for r in oldest_first)

    action = sorted(first["counts"]["action"])[0]
    only = client.get("/api/queue", params={"action": action, "limit": 500}).json()
    assert only["total"] == first["counts"]["action"][action]
    assert {r["action"] for r in only["rows"]} == {action}
    assert only["total_unfiltered"] == len(waiting)

    ring_id = flagged_rings(client)[0]["ring_id"]
    in_ring = client.get("/api/queue", params={"ring": ring_id}).json()["rows"]
    assert in_ring and {r["ring_id"] for r in in_ring} == {ring_id}


def test_the_queue_page_says_how_many_of_how_many(client):
    total = client.get("/api/queue").json()["total"]
    page = client.get("/queue", params={"limit": 40})
    assert page.status_code == 200
    assert f"1–40 of {total:,} accounts" in page.text
    assert "app;dur=" in page.headers["server-timing"]


def test_the_ring_api_shows_what_members_share_masked(client, read_ws):
    ring_id = flagged_rings(client)[0]["ring_id"]
    answer = client.get(f"/api/rings/{ring_id}").json()
    ws = read_ws()
    members = set(ws.table("ring_members", ring_id=ring_id)["account_id"])
    assert {m["account_id"] for m in answer["members"]} == members
    shared = ws.table("ring_identifiers", ring_id=ring_id)
    shared = shared[shared["n_members"] >= 2]
    assert len(answer["shared"]) == len(shared) > 0
    for s in answer["shared"]:
        assert s["n_members"] >= 2 and set(s["members"]) <= members
    # No raw spelling or canonical key of a shared identifier leaves the server in clear.
    text = json.dumps(answer)
    for raws, key in zip(shared["raw_values"], shared["key"]):
        for secret in [*raws, key]:
            if len(str(secret)) >= 6:
                assert str(secret) not in text
    assert all(isinstance(r["text"], str) for r in answer["reasons"])  # real objects, not JSON text
    assert answer["token"]


def test_an_account_action_is_audited_and_a_stale_second_one_is_refused(client, read_ws):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    page = client.get(f"/api/accounts/{account_id}").json()
    body = {"action": "confirm_fraud", "note": "card testing pattern", "analyst": "alice", "expected": page["token"]}
    done = client.post(f"/api/accounts/{account_id}/actions", json=body)
    assert done.status_code == 200, done.text
    assert done.json()["applied"] == [account_id]
    ws = read_ws()
    state = ws.account_state([account_id]).iloc[0]
    assert (state["status"], state["action"], bool(state["manual"])) == ("suspended", "suspend", True)
    audit = ws.audit(account_id)
    assert (audit.iloc[-1]["actor"], audit.iloc[-1]["event"]) == ("alice", "review_confirm_fraud")

    # Bob opened the page before Alice acted: his dismissal is refused, and nothing is written.
    stale = {"action": "dismiss", "note": "looks fine", "analyst": "bob", "expected": page["token"]}
    refused = client.post(f"/api/accounts/{account_id}/actions", json=stale)
    assert refused.status_code == 409
    assert "alice" in refused.json()["error"] and "reload" in refused.json()["error"]
    assert len(read_ws().audit(account_id)) == len(audit)

    form = client.post(f"/accounts/{account_id}/actions", data={**stale, "expected": page["token"]})
    assert form.status_code == 409 and "Not applied" in form.text


def test_dismiss_needs_a_note_and_a_name(client):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    token = client.get(f"/api/accounts/{account_id}").json()["token"]
    no_note = client.post(
        f"/api/accounts/{account_id}/actions",
        json={"action": "dismiss", "note": "  ", "analyst": "bob", "expected": token},
    )
    assert no_note.status_code == 400 and "note must not be empty" in no_note.json()["error"]
    no_name = client.post(
        f"/api/accounts/{account_id}/actions",
        json={"action": "dismiss", "note": "verified", "analyst": "", "expected": token},
    )
    assert no_name.status_code == 400 and "analyst name" in no_name.json()["error"]
    unknown = client.post(
        f"/api/accounts/{account_id}/actions",
        json={"action": "delete", "note": "x", "analyst": "bob", "expected": token},
    )
    assert unknown.status_code == 400 and "confirm_fraud" in unknown.json()["error"]


def test_a_ring_action_reviews_every_member_after_a_preview(client, read_ws):
    ring = flagged_rings(client)[0]
    ring_id = ring["ring_id"]
    answer = client.get(f"/api/rings/{ring_id}").json()
    members = sorted(m["account_id"] for m in answer["members"])
    preview = client.get(f"/api/rings/{ring_id}/preview", params={"action": "dismiss"}).json()
    assert sorted(a["account_id"] for a in preview["accounts"]) == members
    assert all(a["after"]["status"] == "active" for a in preview["accounts"])
    assert preview["changed"] == sum(a["before"] != a["after"] for a in preview["accounts"]) > 0

    form = {"action": "dismiss", "note": "family sharing one device", "analyst": "carol", "expected": answer["token"]}
    done = client.post(f"/rings/{ring_id}/actions", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.cookies.get("fraudgraph_analyst") == "carol"
    ws = read_ws()
    for account_id in members:
        last = ws.audit(account_id).iloc[-1]
        assert (last["actor"], last["event"], last["note"]) == ("carol", "review_dismiss", "family sharing one device")
    reviews = ws.reviews()
    assert set(reviews[reviews["actor"] == "carol"]["account_id"]) == set(members)
    page = client.get(done.headers["location"])
    assert "dismiss: " in page.text and f"{len(members)} account(s) changed" in page.text
    assert 'value="carol"' in page.text  # the name is remembered for the next form


def test_search_finds_raw_spellings_canonical_keys_and_ids(client, read_ws):
    ws = read_ws()
    links = ws.links()
    phone = links[(links["kind"] == "phone") & links["key"].notna()].iloc[0]
    key = str(phone["key"])
    spaced = " ".join(re.findall(".{1,3}", key))  # typed with spaces
    assert canonical_key("phone", spaced) == key
    for query in (spaced, str(phone["value"]), key):
        found = client.get("/api/search", params={"q": query}).json()
        hits = [i for i in found["identifiers"] if i["kind"] == "phone"]
        assert hits and phone["account_id"] in hits[0]["accounts"], query
        assert key not in json.dumps(found["identifiers"])  # shown masked
    email = links[(links["kind"] == "email") & links["key"].notna()].iloc[0]
    shouted = f"  {str(email['value']).upper()} "
    found = client.get("/api/search", params={"q": shouted}).json()
    assert any(email["account_id"] in i["accounts"] for i in found["identifiers"])
    assert client.get("/api/search", params={"q": "nobody@nowhere.invalid"}).json()["identifiers"] == []
    account_id = str(phone["account_id"])
    jump = client.get("/search", params={"q": account_id}, follow_redirects=False)
    assert jump.status_code == 302 and jump.headers["location"] == f"/accounts/{account_id}"


def test_values_are_escaped_in_pages(client):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    token = client.get(f"/api/accounts/{account_id}").json()["token"]
    note = "<script>alert('x')</script>"
    client.post(
        f"/api/accounts/{account_id}/actions",
        json={"action": "suspend", "note": note, "analyst": "<b>eve</b>", "expected": token},
    )
    page = client.get(f"/accounts/{account_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<b>eve</b>" not in page and "&lt;b&gt;eve&lt;/b&gt;" in page


def test_the_account_page_masks_identifiers(client, read_ws):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    answer = client.get(f"/api/accounts/{account_id}").json()
    links = read_ws().links([account_id]).dropna(subset=["key"])
    text = json.dumps(answer) + client.get(f"/accounts/{account_id}").text
    assert answer["identifiers"]
    for value in links["value"]:
        if len(str(value)) >= 8:
            assert str(value) not in text
    assert answer["state"]["action"] in ("review", "restrict", "suspend")


def test_sweeps_exports_and_report_download(client):
    sweeps = client.get("/api/sweeps").json()
    assert sweeps and isinstance(sweeps[0]["diff"], dict) and isinstance(sweeps[0]["summary"], dict)
    assert "rings new" in client.get("/sweeps").text
    ring_id = flagged_rings(client)[0]["ring_id"]
    graphml = client.get(f"/rings/{ring_id}/export.graphml")
    assert graphml.status_code == 200 and b"<graphml" in graphml.content
    assert "attachment" in graphml.headers["content-disposition"]
    report = client.get(f"/rings/{ring_id}/report.html")
    assert report.status_code == 200 and ring_id in report.text
    assert client.get(f"/rings/{ring_id}/export.exe").status_code == 404
    svg = client.get(f"/rings/{ring_id}/graph.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "shared-identifier" in svg.text


def test_unknown_things_are_404_with_a_message(client):
    missing = client.get("/api/accounts/NOPE-1")
    assert missing.status_code == 404 and "NOPE-1" in missing.json()["error"]
    assert client.get("/rings/R-999999").status_code == 404
    assert client.get("/api/queue", params={"sort": "colour"}).status_code == 400


@pytest.mark.parametrize("path", ["/static/workbench.css", "/static/workbench.js"])
def test_assets_are_served_from_the_package(client, path):
    assert client.get(path).status_code == 200


def test_the_queue_drops_an_account_at_once_after_an_action(client):
    first = client.get("/api/queue").json()
    account_id = first["rows"][0]["account_id"]
    token = client.get(f"/api/accounts/{account_id}").json()["token"]
    client.post(
        f"/api/accounts/{account_id}/actions",
        json={"action": "dismiss", "note": "verified", "analyst": "dan", "expected": token},
    )
    after = client.get("/api/queue").json()
    assert after["total"] == first["total"] - 1
    assert account_id not in {r["account_id"] for r in after["rows"]}


def test_a_refreshed_queue_snapshot_sees_changes_made_elsewhere(read_ws):
    from fraudgraph.app.analyst import review, suspend
    from fraudgraph.web.data import QueueSnapshot

    ws = read_ws()
    snap = QueueSnapshot.read(ws)
    ids = snap.waiting.sort_values("account_id")["account_id"].tolist()
    review(ws, ids[0], "confirm_fraud", note="from the command line", actor="cli")
    suspend(ws, ids[1], reason="from the command line", actor="cli")
    fresh = snap.refreshed(ws)
    assert set(fresh.waiting["account_id"]) == set(QueueSnapshot.read(ws).waiting["account_id"]) == set(ids[2:])


def test_an_action_posted_from_another_site_is_refused(client, read_ws):
    account_id = client.get("/api/queue").json()["rows"][0]["account_id"]
    token = client.get(f"/api/accounts/{account_id}").json()["token"]
    before = len(read_ws().audit(account_id))
    form = {"action": "dismiss", "note": "x", "analyst": "mallory", "expected": token}
    refused = client.post(f"/accounts/{account_id}/actions", data=form, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert len(read_ws().audit(account_id)) == before


def test_only_this_machine_s_names_are_served_when_asked(db_copy):
    from starlette.testclient import TestClient

    from fraudgraph.web.app import create_app
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    app = create_app(lambda: SqliteWorkspace(db_copy, create=False), hub_threshold=40, allowed_hosts=["127.0.0.1"])
    with TestClient(app, base_url="http://127.0.0.1:8765") as local:
        assert local.get("/api/queue").status_code == 200
    with TestClient(app, base_url="http://rebound.example") as other:
        assert other.get("/api/queue").status_code == 400


def test_a_workspace_taking_its_first_load_is_unavailable_for_now_and_opens_once_loaded(
    tmp_path, world_dir, monkeypatch
):
    """The workbench started on a new workspace whose first load is being written: 503 (try again),
    not a bad request, and the same server answers once the load is in."""
    from starlette.testclient import TestClient

    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.web.app import create_app
    from fraudgraph.workspace.sqlite import store

    monkeypatch.setattr(store, "_SMALL_LOAD", 0)  # the 3,000-account world counts as a big first load
    path = tmp_path / "ws.db"
    answers: list = []
    app = create_app(lambda: store.SqliteWorkspace(path), hub_threshold=40)
    loading = store.SqliteWorkspace(path)
    with contextlib.ExitStack() as server:
        clients = []

        def ask(msg):
            if msg == "indexing":  # the server starts while the load is being written
                clients.append(server.enter_context(TestClient(app)))
                answers.append(clients[0].get("/api/queue"))

        loading.load(read_dataset(world_dir), progress=ask)
        loading.close()
        answers.append(clients[0].get("/api/queue"))  # the same server, once the load is in
    assert answers[0].status_code == 503
    assert "first load" in answers[0].json()["error"]
    assert answers[1].status_code == 200 and answers[1].json()["rows"] == []  # loaded, not swept yet


def test_a_verdict_preview_says_what_it_does_to_the_ring_mates(client, read_ws):
    rows = client.get("/api/queue", params={"action": "review", "limit": 500}).json()["rows"]
    row = next(r for r in rows if r["ring_id"])
    account_id, ring_id = row["account_id"], row["ring_id"]
    preview = client.get(f"/api/accounts/{account_id}/preview", params={"action": "confirm_fraud"}).json()
    (only,) = preview["accounts"]
    assert only["account_id"] == account_id and only["changes"]
    assert only["after"] == {"action": "suspend", "status": "suspended", "credit_limit": 0.0}
    members = set(read_ws().table("ring_members", ring_id=ring_id)["account_id"]) - {account_id}
    mates = {m["account_id"] for m in preview["ring_mates"] if m["ring_id"] == ring_id}
    assert mates == members and all(m["effect"] for m in preview["ring_mates"])
    suspend = client.get(f"/api/accounts/{account_id}/preview", params={"action": "suspend"}).json()
    assert suspend["ring_mates"] == [] and suspend["accounts"][0]["after"]["status"] == "suspended"
    assert client.get(f"/api/accounts/{account_id}/preview", params={"action": "nuke"}).status_code == 400


def test_a_colleague_revealing_identifiers_is_no_conflict(client, read_ws):
    account_id = client.get("/api/queue", params={"action": "review"}).json()["rows"][0]["account_id"]
    token = client.get(f"/api/accounts/{account_id}").json()["token"]
    assert client.post(f"/api/accounts/{account_id}/reveal", json={"analyst": "dana"}).status_code == 200
    body = {"action": "dismiss", "note": "verified in branch", "analyst": "bob", "expected": token}
    done = client.post(f"/api/accounts/{account_id}/actions", json=body)
    assert done.status_code == 200 and done.json()["applied"] == [account_id]
    # A real change still conflicts, and the message names it, not the reveal.
    again = client.post(f"/api/accounts/{account_id}/reveal", json={"analyst": "dana"})
    stale = client.post(f"/api/accounts/{account_id}/actions", json={**body, "action": "suspend"})
    assert again.status_code == 200 and stale.status_code == 409
    assert "bob (review dismiss" in stale.json()["error"]
    assert read_ws().audit(account_id).iloc[-1]["event"] == "reveal"


@pytest.fixture
def proposals_client(db_copy):
    """The workbench after a sweep that proposes reinstatements: one restricted or suspended member
    of each ring was dismissed, so the sweep finds its mates less suspicious but keeps their
    restriction until an analyst accepts the proposal."""
    from starlette.testclient import TestClient
    from web_fixtures import make_app

    from fraudgraph.app.analyst import review_many
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    with SqliteWorkspace(db_copy, create=False) as ws:
        state = ws.account_state()
        limited = state[state["action"].isin(["restrict", "suspend"]) & (state["trigger"] == "fraud_ring")]
        rings = ws.table("decisions", account_id=limited["account_id"].tolist())
        firsts = rings.dropna(subset=["ring_id"]).groupby("ring_id")["account_id"].min().tolist()
        review_many(ws, firsts, "dismiss", note="cleared", actor="setup")
        run_sweep(ws, seed=0)
    with TestClient(make_app(db_copy)) as c:
        yield c


def test_proposed_reinstatements_show_in_the_queue_and_are_accepted_there(proposals_client, read_ws):
    from fraudgraph.app.analyst import queue as analyst_queue

    client = proposals_client
    expected = analyst_queue(read_ws())
    expected = expected[expected["proposal"] != ""]
    assert len(expected) > 0, "dismissing one member of each ring proposes reinstatements on this world"
    answer = client.get("/api/queue", params={"proposal": "yes", "limit": 500}).json()
    assert answer["counts"]["proposals"] == answer["total"] == len(expected)
    assert {r["account_id"]: r["proposal"] for r in answer["rows"]} == dict(
        zip(expected["account_id"], expected["proposal"])
    )
    assert all(" -> " in r["proposal"] and r["token"] for r in answer["rows"])
    plain = client.get("/api/queue", params={"limit": 500}).json()["rows"]
    assert all(r["proposal"] is None for r in plain if r["account_id"] not in set(expected["account_id"]))

    page = client.get("/queue", params={"proposal": "yes"})
    assert page.text.count("Accept (reinstate)") == len(expected)
    row = answer["rows"][0]
    form = {
        "action": "reinstate",
        "expected": row["token"],
        "note": "accepted from the queue",
        "analyst": "fay",
        "back": "/queue?proposal=yes",
    }
    done = client.post(f"/accounts/{row['account_id']}/actions", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/queue?proposal=yes&done=")
    ws = read_ws()
    state = ws.account_state([row["account_id"]]).iloc[0]
    assert (state["action"], state["status"], bool(state["manual"])) == ("none", "active", True)
    last = ws.audit(row["account_id"]).iloc[-1]
    assert last["actor"] == "fay" and f"accepts the sweep's proposal: {row['proposal']}" in last["note"]
    after = client.get("/api/queue", params={"proposal": "yes", "limit": 500}).json()
    assert after["total"] == len(expected) - 1
    assert client.post(f"/accounts/{row['account_id']}/actions", data=form).status_code == 409  # stale now
    away = client.post(
        f"/accounts/{answer['rows'][1]['account_id']}/actions",
        data={**form, "expected": answer["rows"][1]["token"], "back": "//evil.example/queue"},
        follow_redirects=False,
    )
    assert away.headers["location"].startswith(f"/accounts/{answer['rows'][1]['account_id']}?")
