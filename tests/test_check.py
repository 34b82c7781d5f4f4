"""`fraudgraph check`: one event against the last sweep, through the Python API and the CLI."""

from __future__ import annotations

import hashlib
import json

import pytest
from check_data import sql_rows, suspended_strong_link
from click.testing import CliRunner

from fraudgraph.app.check import Checker, EventError, check
from fraudgraph.cli import cli
from fraudgraph.decisions.policy import Policy
from fraudgraph.model.frames import ACTIONS
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

NEW = {"account_id": "NEW-1", "created_at": "2026-11-01T10:00:00", "credit_limit": 2000}


_rows = sql_rows


def _hub(db) -> tuple[str, str, int]:
    """(kind, raw value, accounts) of an identifier the sweep recorded as a hub."""
    kind, key, n = _rows(db, "SELECT kind, key, n_accounts FROM hubs ORDER BY n_accounts DESC LIMIT 1")[0]
    value = _rows(db, "SELECT value FROM links WHERE kind = ? AND key = ? LIMIT 1", kind, key)[0][0]
    return kind, value, n


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_account_joining_a_suspended_ring_by_card_is_held(db_copy):
    account, ring, kind, value = suspended_strong_link(db_copy)
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, {"account": NEW, "links": [{"kind": kind, "value": value}]})
    assert answer["action"] == "suspend" and answer["held"] and answer["new_account"]
    assert answer["trigger"] == "fraud_ring"
    (touched,) = [r for r in answer["rings"] if r["ring_id"] == ring]
    assert touched["tie"] == "strong" and touched["action"] == "suspend" and kind in touched["via"]
    assert account in {a["account_id"] for a in answer["accounts"]}
    assert [r["code"] for r in answer["reasons"]] == ["RING_STRONG_TIE"]
    assert answer["shared"][0]["kind"] == kind and answer["shared"][0]["rings"] == [ring]
    # The identifier is shown masked, never as given.
    assert value not in json.dumps(answer) and answer["shared"][0]["value"]
    assert answer["applied"] is False and answer["elapsed_ms"] > 0


def test_a_review_cap_in_the_policy_holds_for_review_instead(db_copy):
    _, _, kind, value = suspended_strong_link(db_copy)
    policy = Policy.from_text('[realtime]\nstrong_tie_cap = "review"\n')
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, {"account": NEW, "links": [{"kind": kind, "value": value}]}, policy=policy)
    assert answer["action"] == "review" and answer["held"]


def test_touching_only_a_hub_is_not_held(db_copy):
    kind, value, n = _hub(db_copy)
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, {"account": NEW, "links": [{"kind": kind, "value": value}]})
    assert answer["action"] == "none" and not answer["held"]
    assert answer["rings"] == [] and answer["accounts"] == []
    assert answer["shared"] == [
        {
            "kind": kind,
            "value": answer["shared"][0]["value"],
            "n_accounts": n,
            "hub": True,
            "rings": [],
            "flagged_accounts": 0,
        }
    ]
    assert [r["code"] for r in answer["reasons"]] == ["HUB_ONLY"]


def test_a_new_unrelated_account_gets_none(db_copy):
    event = {
        "account": NEW,
        "links": [
            {"kind": "email", "value": "someone.new@example.org"},
            {"kind": "device", "value": "dev-never-seen-4711"},
            {"kind": "phone", "value": "+1 (555) 010-9999", "first_seen": "2026-10-30T08:00:00Z"},
        ],
    }
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, event)
    assert answer["action"] == "none" and not answer["held"]
    assert answer["rings"] == answer["accounts"] == answer["shared"] == answer["reasons"] == []


def test_weak_identifiers_alone_give_at_most_review_by_the_ring_score(db_copy):
    rows = _rows(
        db_copy,
        """SELECT l.kind, l.value, r.score FROM decisions d JOIN rings r ON r.ring_id = d.ring_id
           JOIN links l ON l.account_id = d.account_id
           WHERE d.action = 'suspend' AND l.kind IN ('phone', 'email', 'address', 'ip') AND l.key IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM hubs h WHERE h.kind = l.kind AND h.key = l.key)
           ORDER BY r.score DESC, l.kind, l.value LIMIT 1""",
    )
    kind, value, score = rows[0]
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, {"account": NEW, "links": [{"kind": kind, "value": value}]})
    tier = max(
        [a for a, t in Policy.default().tier_thresholds("tiers") if score >= t], default="none", key=ACTIONS.index
    )
    expected = "review" if tier in ("review", "restrict", "suspend") else tier
    assert answer["action"] == expected and answer["action"] != "suspend"
    assert any(r["tie"] == "weak" for r in answer["rings"])


def test_a_bad_event_names_the_field(db_copy):
    with SqliteWorkspace(db_copy) as ws:
        with pytest.raises(EventError, match=r"account\.credit_limit: credit_limit -5 is negative"):
            check(ws, {"account": {**NEW, "credit_limit": -5}, "links": []})
        with pytest.raises(EventError, match=r"links\[1\]\.kind: 'cardd' is not one of"):
            check(ws, {"account": NEW, "links": [{"kind": "ip", "value": "10.1.2.3"}, {"kind": "cardd", "value": "1"}]})
        with pytest.raises(EventError, match=r"account\.created_at: empty created_at"):
            check(ws, {"account": {"account_id": "NEW-2"}, "links": []})
        with pytest.raises(EventError, match=r"links\[0\]\.value: expected a plain value"):
            check(ws, {"account": NEW, "links": [{"kind": "ip", "value": ["10.1.2.3"]}]})


def test_the_fast_path_answers_as_the_contract_does(db_copy):
    """Events with plainly valid values skip pandas; the answers equal those of the full contract."""
    account, _, kind, value = suspended_strong_link(db_copy)
    hub_kind, hub_value, _ = _hub(db_copy)
    events = [
        {"account": NEW, "links": [{"kind": kind, "value": value}, {"kind": hub_kind, "value": hub_value}]},
        {"account": {**NEW, "created_at": "2026-11-01T10:00:00+02:00", "balance": -20.5, "status": "active"}},
        {"account": {"account_id": account}, "links": [{"kind": "email", "value": "X.Y+tag@Example.org"}]},
        {
            "account": {**NEW, "label": "legit"},
            "links": [{"kind": "address", "value": "12 Oak St. Apt 4", "first_seen": "2026-01-02"}],
        },
        {"account": NEW, "transactions": [_payment(account)]},
        {
            "account": NEW,
            "transactions": [
                _payment(account),
                {**_payment("shop-9"), "txn_id": "T-2", "counterparty_kind": "merchant"},
            ],
        },
    ]
    with SqliteWorkspace(db_copy) as ws:
        fast, strict = Checker(ws), Checker(ws, strict=True)
        for event in events:
            a, b = fast.check(event), strict.check(event)
            a.pop("elapsed_ms"), b.pop("elapsed_ms")
            assert a == b


def _payment(counterparty: str) -> dict:
    return {
        "txn_id": "T-1",
        "counterparty": counterparty,
        "counterparty_kind": "account",
        "amount": 250.0,
        "timestamp": "2026-11-01T09:00:00",
    }


def test_a_payment_to_a_suspended_ring_member_is_a_strong_tie(db_copy):
    account, ring, _, _ = suspended_strong_link(db_copy)
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, {"account": NEW, "transactions": [_payment(account)]})
        assert answer["action"] == "suspend" and answer["held"]
        (touched,) = answer["rings"]
        assert touched["ring_id"] == ring and touched["tie"] == "strong" and touched["via"] == ["payment"]
        with pytest.raises(
            EventError, match=r"transactions\[0\]\.counterparty: counterparty 'NOBODY' has counterparty_kind account"
        ):
            check(ws, {"account": NEW, "transactions": [_payment("NOBODY")]})
        with pytest.raises(EventError, match=r"transactions\[0\]\.amount: amount -3 is not > 0"):
            check(ws, {"account": NEW, "transactions": [{**_payment(account), "amount": -3}]})


def _cli(db, *args, input=None):
    return CliRunner().invoke(cli, ["--db", str(db), "check", *args], input=input)


def test_a_stream_answers_every_line_and_goes_on_after_a_bad_one(db_copy):
    _, ring, kind, value = suspended_strong_link(db_copy)
    lines = [
        json.dumps({"account": NEW, "links": [{"kind": kind, "value": value}]}),
        json.dumps({"account": {**NEW, "account_id": "NEW-2"}, "links": [{"kind": "cardd", "value": "1"}]}),
        "{not json",
        "",
        json.dumps({"account": {**NEW, "account_id": "NEW-3"}, "links": [{"kind": "ip", "value": "10.9.8.7"}]}),
    ]
    r = _cli(db_copy, "--format", "json", input="\n".join(lines) + "\n")
    assert r.exit_code == 1
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["account_id"] == "NEW-1" and out[0]["action"] == "suspend" and out[0]["rings"][0]["ring_id"] == ring
    assert out[1] == {"line": 2, "account_id": "NEW-2", "error": out[1]["error"]}
    assert out[1]["error"].startswith("links[0].kind: 'cardd' is not one of")
    assert out[2]["line"] == 3 and out[2]["error"].startswith("event: not valid JSON")
    assert out[3]["account_id"] == "NEW-3" and out[3]["action"] == "none"
    assert "2 event(s) rejected" in r.stderr


def test_one_event_as_text_fits_100_columns(db_copy):
    _, ring, kind, value = suspended_strong_link(db_copy)
    hub_kind, hub_value, _ = _hub(db_copy)
    event = {"account": NEW, "links": [{"kind": kind, "value": value}, {"kind": hub_kind, "value": hub_value}]}
    r = _cli(db_copy, "--event", json.dumps(event))
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("NEW-1: SUSPEND (held)  new account")
    assert ring in r.stdout and "RING_STRONG_TIE" in r.stdout and "HUB_ONLY" in r.stdout
    assert value not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 100


def test_a_bad_event_on_the_command_line_is_one_error_line(db_copy):
    r = _cli(db_copy, "--event", '{"account": {"account_id": "X"}, "links": [{"kind": "ip", "value": "1.2.3.4"}]}')
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == ["Error: account.created_at: empty created_at (a date is required)"]


def test_without_apply_nothing_is_written(db_copy):
    _, _, kind, value = suspended_strong_link(db_copy)
    before = _digest(db_copy)
    event = json.dumps({"account": NEW, "links": [{"kind": kind, "value": value}]})
    assert _cli(db_copy, "--event", event).exit_code == 0
    assert _cli(db_copy, "--format", "json", input=event + "\n").exit_code == 0
    assert _digest(db_copy) == before
    assert _rows(db_copy, "SELECT count(*) FROM accounts WHERE account_id = 'NEW-1'") == [(0,)]


def test_apply_records_the_account_its_links_and_the_decision_with_an_audit_entry(db_copy):
    _, ring, kind, value = suspended_strong_link(db_copy)
    event = {"account": NEW, "links": [{"kind": kind, "value": value}, {"kind": "email", "value": "new1@example.org"}]}
    r = _cli(db_copy, "--apply", "--format", "json", "--event", json.dumps(event))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["applied"] is True
    with SqliteWorkspace(db_copy) as ws:
        acc = ws.accounts(["NEW-1"])
        assert acc["credit_limit"].tolist() == [2000.0]
        links = ws.links(["NEW-1"])
        assert sorted(links["kind"]) == sorted([kind, "email"])
        assert set(ws.links()["account_id"]) >= {"NEW-1"}  # the columnar copy a sweep reads, too
        state = ws.account_state(["NEW-1"]).iloc[0]
        assert (state["action"], state["status"], state["credit_limit"], bool(state["manual"])) == (
            "suspend",
            "suspended",
            0.0,
            False,
        )
        (audit,) = ws.audit("NEW-1").to_dict("records")
    assert audit["actor"] == "check" and audit["event"] == "escalate" and audit["new_action"] == "suspend"
    assert "real-time check (new account)" in audit["note"]
    # A second identical event changes no data and records the check itself.
    r = _cli(db_copy, "--apply", "--event", json.dumps(event))
    assert r.exit_code == 0
    with SqliteWorkspace(db_copy) as ws:
        assert [a["event"] for a in ws.audit("NEW-1").to_dict("records")] == ["escalate", "check"]
        assert len(ws.links(["NEW-1"])) == 2


def test_apply_of_an_unrelated_new_account_records_it_and_the_check(db_copy):
    event = {"account": NEW, "links": [{"kind": "device", "value": "dev-never-seen-4711"}]}
    with SqliteWorkspace(db_copy) as ws:
        assert check(ws, event, apply=True)["action"] == "none"
        assert ws.links(["NEW-1"])["value"].tolist() == ["dev-never-seen-4711"]
        assert ws.account_state(["NEW-1"]).empty
        (audit,) = ws.audit("NEW-1").to_dict("records")
    assert (audit["event"], audit["new_action"], audit["previous_limit"], audit["new_limit"]) == (
        "check",
        "none",
        None,
        2000.0,
    )


def test_apply_to_an_existing_account_changes_only_the_fields_given(db_copy):
    account_id, created = _rows(
        db_copy, "SELECT account_id, created_at FROM accounts WHERE status = 'active' ORDER BY account_id LIMIT 1"
    )[0]
    event = {
        "account": {"account_id": account_id, "credit_limit": 7777},
        "links": [{"kind": "phone", "value": "+1 555 010 4242"}],
    }
    with SqliteWorkspace(db_copy) as ws:
        answer = check(ws, event, apply=True)
        assert answer["new_account"] is False and answer["applied"]
        row = ws.accounts([account_id]).iloc[0]
        assert row["credit_limit"] == 7777.0
        assert "5550104242" in set(ws.links([account_id])["key"])
    assert _rows(db_copy, "SELECT created_at FROM accounts WHERE account_id = ?", account_id) == [(created,)]


def test_applied_events_reach_the_snapshot_a_sweep_reads_as_a_load_would(db_copy, tmp_path):
    """`--apply` adds its rows to the columnar snapshot as a small part (no rewrite of millions of
    rows); what the sweep reads then equals the tables, and a later big load folds the parts in."""
    import pandas as pd

    from fraudgraph.app.sweep import run_sweep

    account_id = _rows(db_copy, "SELECT account_id FROM accounts ORDER BY account_id LIMIT 1")[0][0]
    events = [
        {"account": NEW, "links": [{"kind": "device", "value": "dev-a"}, {"kind": "email", "value": "a@example.org"}]},
        {"account": {"account_id": account_id, "balance": 12.5}, "links": [{"kind": "device", "value": "dev-a"}]},
        {"account": {"account_id": "NEW-1"}, "transactions": [_payment(account_id)]},
        {"account": NEW, "links": [{"kind": "device", "value": "dev-a", "first_seen": "2025-01-01T00:00:00"}]},
    ]
    with SqliteWorkspace(db_copy) as ws:
        for event in events:
            check(ws, event, apply=True)
        parts = _rows(db_copy, "SELECT name, count(*) FROM snapshots WHERE part >= 1000000 GROUP BY name ORDER BY name")
        assert parts == [("accounts", 3), ("links", 3), ("transactions", 1)]
        ids = sorted(ws.accounts()["account_id"])
        for read, key in (
            ("accounts", ["account_id"]),
            ("links", ["account_id", "kind", "value"]),
            ("transactions", ["txn_id"]),
        ):
            whole = getattr(ws, read)().sort_values(key).reset_index(drop=True)
            by_id = getattr(ws, read)(ids).sort_values(key).reset_index(drop=True)
            pd.testing.assert_frame_equal(whole, by_id[whole.columns], check_dtype=False, obj=read)
        seen = ws.links(["NEW-1"]).set_index("value")["first_seen"]
        assert seen["dev-a"] == pd.Timestamp("2025-01-01")  # the earliest first_seen, as a load keeps it
        run_sweep(ws, seed=0)
        assert "NEW-1" in set(ws.table("account_scores")["account_id"])
