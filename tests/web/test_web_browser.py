"""The workbench in a real browser: Debian's headless Chromium, driven by Playwright, against the
server `fraudgraph serve` runs (uvicorn), on a private copy of the swept 3,000-account world.

Screenshots go to $FRAUDGRAPH_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from browser import CHROMIUM, HEADLESS_ARGS

pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, swept_db):
    """The workbench served by uvicorn on 127.0.0.1 over a private copy of the swept world."""
    import sqlite3

    import uvicorn
    from web_fixtures import make_app

    db = tmp_path_factory.mktemp("browser") / "ws.db"
    src, dst = sqlite3.connect(swept_db), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(make_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the workbench did not start"
    yield {"url": f"http://127.0.0.1:{port}", "db": db}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=HEADLESS_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("FRAUDGRAPH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_ws(server):
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    return SqliteWorkspace(server["db"], create=False)


def first_ring(page, server) -> str:
    page.goto(server["url"] + "/queue?view=rings")
    return page.locator("table.queue tbody tr td a").first.inner_text()


def test_the_queue_loads_with_counts_and_sorts(page, server, shots):
    page.goto(server["url"] + "/")
    assert page.locator("h1").inner_text() == "Accounts awaiting an analyst"
    count = page.locator("p.count .shown").inner_text()
    assert re.fullmatch(r"1–50 of [\d,]+ accounts", count), count
    assert page.locator("table.queue tbody tr").count() == 50
    page.screenshot(path=str(shots / "workbench-queue.png"), full_page=True)
    page.get_by_role("link", name="Exposure").click()
    exposures = [
        float(t.replace(",", "")) for t in page.locator("table.queue tbody tr td:nth-child(3)").all_inner_texts()
    ]
    assert exposures == sorted(exposures, reverse=True)
    page.get_by_role("link", name=re.compile("next 50")).click()
    assert page.locator("p.count .shown").inner_text().startswith("51–")


def test_a_ring_page_shows_the_shared_identifiers(page, server, shots):
    ring_id = first_ring(page, server)
    page.goto(f"{server['url']}/rings/{ring_id}")
    assert page.locator("h1").inner_text() == f"Ring {ring_id}"
    with read_ws(server) as ws:
        idents = ws.table("ring_identifiers", ring_id=ring_id)
        members = ws.table("ring_members", ring_id=ring_id)["account_id"].tolist()
    shared = idents[idents["n_members"] >= 2]
    boxes = page.locator("svg.ringgraph g.shared-identifier")
    assert boxes.count() == len(shared) > 0
    assert page.locator("svg.ringgraph a.account-node").count() == len(members)
    labels = " ".join(page.locator("svg.ringgraph g.shared-identifier text.value").all_text_contents())
    assert "·" in labels  # masked values with their tags
    for raws in shared["raw_values"]:
        for raw in raws:
            if len(raw) >= 6:
                assert raw not in page.content()
    assert page.locator("table.shared tbody tr").count() == len(shared)
    page.screenshot(path=str(shots / "workbench-ring.png"), full_page=True)


def decide(page, action: str, note: str, analyst: str) -> None:
    page.locator(f"form.actions input[value={action}]").check()
    page.locator("form.actions .preview").filter(has_text="account(s) change").wait_for()
    page.locator("form.actions textarea[name=note]").fill(note)
    page.locator("form.actions input[name=analyst]").fill(analyst)
    page.locator("form.actions button[type=submit]").click()


def test_confirm_on_an_account_changes_the_workspace_and_the_audit(page, server, shots):
    page.goto(server["url"] + "/queue?action=review")
    account_id = page.locator("table.queue tbody tr td a").first.inner_text()
    page.goto(f"{server['url']}/accounts/{account_id}")
    decide(page, "confirm_fraud", "same device as a confirmed fraud", "alice")
    assert "confirm fraud: 1 account(s) changed" in page.locator("p.flash").inner_text()
    audit = page.locator("table.audit tbody tr").first.inner_text()
    assert "alice" in audit and "review confirm fraud" in audit
    assert "same device as a confirmed fraud" in page.locator(".verdict").inner_text()
    with read_ws(server) as ws:
        state = ws.account_state([account_id]).iloc[0]
        assert (state["status"], bool(state["manual"])) == ("suspended", True)
        assert ws.audit(account_id).iloc[-1]["actor"] == "alice"
    page.screenshot(path=str(shots / "workbench-account.png"), full_page=True)
    # The name is remembered for the next form.
    assert page.locator("form.actions input[name=analyst]").input_value() == "alice"


def test_dismiss_on_a_whole_ring(page, server):
    ring_id = first_ring(page, server)
    page.goto(f"{server['url']}/rings/{ring_id}")
    n = page.locator("table.members tbody tr").count()
    decide(page, "dismiss", "one household, checked in branch", "bob")
    assert f"dismiss: {n} account(s) changed" in page.locator("p.flash").inner_text()
    with read_ws(server) as ws:
        members = ws.table("ring_members", ring_id=ring_id)["account_id"].tolist()
        last = [ws.audit(a).iloc[-1] for a in members]
    assert {(r["actor"], r["event"]) for r in last} == {("bob", "review_dismiss")}
    assert page.locator("table.audit tbody tr").filter(has_text="bob").count() >= n


def test_search_finds_a_raw_spelling(page, server, shots):
    with read_ws(server) as ws:
        links = ws.links()
    email = links[(links["kind"] == "email") & links["key"].notna()].iloc[0]
    page.goto(server["url"] + "/queue")
    page.locator("header form.search input").fill(str(email["value"]).upper())
    page.locator("header form.search button").click()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator("table.results").get_by_role("link", name=str(email["account_id"])).count() >= 1
    assert str(email["value"]) not in page.locator("table.results").inner_text()  # shown masked
    page.screenshot(path=str(shots / "workbench-search.png"), full_page=True)


def test_a_conflicting_second_change_is_refused(browser, server, shots):
    first, second = (browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(2))
    try:
        alice, bob = first.new_page(), second.new_page()
        alice.goto(server["url"] + "/queue?action=restrict")
        account_id = alice.locator("table.queue tbody tr td a").first.inner_text()
        for p in (alice, bob):
            p.goto(f"{server['url']}/accounts/{account_id}")
        decide(alice, "suspend", "chargebacks on three cards", "alice")
        assert "1 account(s) changed" in alice.locator("p.flash").inner_text()
        with read_ws(server) as ws:
            before = len(ws.audit(account_id))
        decide(bob, "reinstate", "customer called", "bob")
        assert bob.locator("h1").inner_text() == "Not applied: someone else changed this"
        message = bob.locator("p.flash.conflict").inner_text()
        assert "alice" in message and "reload" in message
        bob.screenshot(path=str(shots / "workbench-conflict.png"), full_page=True)
        with read_ws(server) as ws:
            assert len(ws.audit(account_id)) == before
            assert ws.account_state([account_id]).iloc[0]["status"] == "suspended"
    finally:
        first.close()
        second.close()


def test_reveal_shows_an_account_s_identifiers_in_full_for_that_view_only(page, server, shots):
    page.goto(server["url"] + "/queue?action=review")
    account_id = page.locator("table.queue tbody tr td a").first.inner_text()
    with read_ws(server) as ws:
        links = ws.links([account_id]).dropna(subset=["key"])
    raws = sorted({str(v) for v in links["value"] if len(str(v)) >= 8})
    assert raws
    page.goto(f"{server['url']}/accounts/{account_id}")
    assert not any(raw in page.content() for raw in raws)
    form = page.locator("form.reveal")
    if form.locator("input[name=analyst]:not([type=hidden])").count():
        form.locator("input[name=analyst]").fill("gus")
    form.get_by_role("button", name="Reveal identifiers").click()
    page.locator("p.flash.revealed").wait_for()
    shown = page.locator("td.ident").all_inner_texts()
    assert set(raws) <= set(shown)
    page.screenshot(path=str(shots / "workbench-revealed.png"), full_page=True)
    with read_ws(server) as ws:
        last = ws.audit(account_id).iloc[-1]
    assert (last["event"], last["actor"]) == ("reveal", "gus")
    assert "reveal" in page.locator("table.audit tbody tr").first.inner_text()
    page.get_by_role("link", name="Mask them again").click()
    page.wait_for_url(f"{server['url']}/accounts/{account_id}")
    assert not any(raw in page.content() for raw in raws)
    assert page.locator("form.reveal input[name=analyst]").input_value() == "gus"  # remembered
