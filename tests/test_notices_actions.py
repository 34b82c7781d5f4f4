"""Notices outside sweeps: every restriction, suspension and lifting a real-time check or an analyst
makes tells the customer, through ``fraudgraph notices``, as a sweep's notices do."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from check_data import sql_rows, suspended_strong_link
from click.testing import CliRunner

from fraudgraph.app import analyst
from fraudgraph.app.check import check
from fraudgraph.cli import cli
from fraudgraph.decisions.policy import Policy
from fraudgraph.workspace.sqlite.store import SqliteWorkspace

NEW = {"account_id": "NEW-1", "created_at": "2026-11-01T10:00:00", "credit_limit": 2000}
# How a notice names the kind of identifier an account shares (decisions/notices.py), never its value.
PHRASE = {"card": "payment details", "bank_account": "payment details", "device": "a device"}
PHRASE["national_id"] = "identity details"


def run(db, *args, ok=True):
    result = CliRunner().invoke(cli, ["--db", str(db), *args], env={"COLUMNS": "100"})
    if ok:
        assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def notices(db, *args) -> list[dict]:
    return json.loads(run(db, "notices", "--format", "json", *args).stdout)


def notices_of(db, account_id: str) -> list[dict]:
    return [n for n in notices(db) if n["account_id"] == account_id]


_rows = sql_rows


def _account(db, sql: str) -> tuple:
    row = _rows(db, sql + " ORDER BY account_id LIMIT 1")
    assert row, sql
    return row[0]


def restricted(db) -> tuple[str, float]:
    """(account, limit it goes back to) of an account a sweep restricted."""
    return _account(db, "SELECT account_id, original_credit_limit FROM account_state WHERE action = 'restrict'")


def quiet(db) -> tuple[str, float]:
    """(account, credit limit) of an active account nothing was ever done to."""
    return _account(
        db,
        "SELECT account_id, credit_limit FROM accounts WHERE status = 'active' AND credit_limit > 0 "
        "AND account_id NOT IN (SELECT account_id FROM account_state)",
    )


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def text(notice: dict) -> str:
    return "\n".join([notice["subject"], notice["body"], *notice["customer_actions"]])


def test_an_applied_check_joining_a_suspended_ring_by_a_strong_identifier_tells_the_customer(db_copy):
    member, ring, kind, value = suspended_strong_link(db_copy)
    before = len(notices(db_copy))
    event = json.dumps({"account": NEW, "links": [{"kind": kind, "value": value}]})
    run(db_copy, "check", "--apply", "--event", event)
    assert len(notices(db_copy)) == before + 1
    (notice,) = notices_of(db_copy, "NEW-1")
    assert notice["notice_id"] == "check-1:NEW-1" and notice["sweep_id"] is None
    assert (notice["action"], notice["category"]) == ("suspend", "fraud_ring")
    # Why, in plain words (the kind of detail shared, not which), and what to do.
    assert "we have temporarily suspended your account" in notice["body"]
    assert f"your account shares {PHRASE[kind]} with accounts we are investigating" in notice["body"]
    assert "Verify your identity in the app or at a branch" in notice["customer_actions"]
    for secret in (value, value[-4:], ring, member, "score", "RING_"):
        assert secret not in text(notice)
    table = run(db_copy, "notices", "--offset", str(before)).stdout
    assert "check-1:NEW-1" in table and "suspend" in table and value not in table
    # The same event again changes nothing the customer sees: no second notice.
    run(db_copy, "check", "--apply", "--event", event)
    assert len(notices_of(db_copy, "NEW-1")) == 1


def test_a_check_without_apply_writes_no_notice(db_copy):
    _, _, kind, value = suspended_strong_link(db_copy)
    event = json.dumps({"account": NEW, "links": [{"kind": kind, "value": value}]})
    digest = hashlib.sha256(db_copy.read_bytes()).hexdigest()
    count = len(notices(db_copy))
    assert json.loads(run(db_copy, "check", "--format", "json", "--event", event).stdout)["action"] == "suspend"
    assert len(notices(db_copy)) == count and not notices_of(db_copy, "NEW-1")
    assert hashlib.sha256(db_copy.read_bytes()).hexdigest() == digest


def test_an_applied_check_that_restricts_nobody_writes_no_notice(db_copy):
    count = len(notices(db_copy))
    event = {"account": NEW, "links": [{"kind": "device", "value": "dev-never-seen-4711"}]}
    with SqliteWorkspace(db_copy) as ws:
        assert check(ws, event, apply=True)["action"] == "none"
    assert len(notices(db_copy)) == count


def test_a_manual_suspension_tells_the_customer_without_the_analysts_reason(db_copy):
    account, limit = quiet(db_copy)
    reason = f"ring mate of A0000000 uses card 4000 0012 3456 7899 (score 0.97), account {account}"
    run(db_copy, "suspend", account, "--reason", reason)
    (notice,) = notices_of(db_copy, account)
    assert notice["notice_id"] == f"suspend-1:{account}" and notice["sweep_id"] is None
    assert (notice["action"], notice["category"]) == ("suspend", "credit_risk")
    assert "we have temporarily suspended your account" in notice["body"]
    assert "Verify your identity in the app or at a branch" in notice["customer_actions"]
    for secret in (reason, "A0000000", "4000 0012", "7899", "0.97", "score", "ring mate", "card"):
        assert secret not in text(notice)
    # Suspending it again is refused; nothing new for the customer.
    assert run(db_copy, "suspend", account, "--reason", "again", ok=False).exit_code != 0
    assert len(notices_of(db_copy, account)) == 1


def test_reinstating_tells_the_customer_the_suspension_is_lifted_and_the_limit_back(db_copy):
    account, limit = quiet(db_copy)
    run(db_copy, "suspend", account, "--reason", "customer reported stolen identity")
    run(db_copy, "reinstate", account, "--reason", "identity restored")
    suspended, lifted = notices_of(db_copy, account)
    assert suspended["action"] == "suspend"
    assert lifted["notice_id"] == f"reinstate-2:{account}"
    assert (lifted["action"], lifted["category"]) == ("lift", "lifted")
    assert lifted["subject"] == "Your account is back to normal"
    assert "we have lifted the suspension on your account" in lifted["body"]
    assert f"Your credit limit is {money(limit)}." in lifted["body"]
    assert "identity restored" not in text(lifted)
    assert any("No action is needed" in a for a in lifted["customer_actions"])


def test_reinstating_an_account_nobody_limited_writes_no_notice(db_copy):
    account, _ = quiet(db_copy)
    count = len(notices(db_copy))
    run(db_copy, "reinstate", account, "--reason", "nothing to lift")
    assert len(notices(db_copy)) == count


def test_a_review_that_clears_a_restricted_account_tells_the_customer_the_limit_is_restored(db_copy):
    account, original = restricted(db_copy)
    sweep_notices = notices_of(db_copy, account)
    run(db_copy, "review", account, "--dismiss", "--note", "ID verified in branch")
    lifted = notices_of(db_copy, account)[len(sweep_notices) :]
    assert [n["action"] for n in lifted] == ["lift"]
    assert lifted[0]["notice_id"].startswith("review-") and lifted[0]["sweep_id"] is None
    assert f"we have restored the credit limit on your account to {money(original)}" in lifted[0]["body"]
    assert "ID verified" not in text(lifted[0])


def test_a_review_that_changes_nothing_the_customer_sees_writes_no_notice(db_copy):
    monitored = _account(
        db_copy,
        "SELECT account_id FROM decisions WHERE action IN ('monitor', 'review') "
        "AND account_id NOT IN (SELECT account_id FROM account_state WHERE action IN ('restrict', 'suspend'))",
    )[0]
    suspended = _account(db_copy, "SELECT account_id FROM account_state WHERE action = 'suspend'")[0]
    count = len(notices(db_copy))
    run(db_copy, "review", monitored, "--dismiss", "--note", "known customer")
    run(db_copy, "review", suspended, "--confirm-fraud", "--note", "called the customer")
    assert len(notices(db_copy)) == count


def test_a_review_confirming_fraud_on_a_restricted_account_tells_the_customer_of_the_suspension(db_copy):
    account, _ = restricted(db_copy)
    before = len(notices_of(db_copy, account))
    run(db_copy, "review", account, "--confirm-fraud", "--note", "called the customer")
    (notice,) = notices_of(db_copy, account)[before:]
    assert notice["action"] == "suspend" and "temporarily suspended" in notice["body"]


def test_notices_since_a_sweep_include_those_written_outside_a_sweep_after_it(db_copy):
    account, _ = quiet(db_copy)
    (sweep_id,) = _rows(db_copy, "SELECT sweep_id FROM sweeps")[0]
    assert notices(db_copy, "--since", sweep_id) == []
    run(db_copy, "suspend", account, "--reason", "customer reported stolen identity")
    since = notices(db_copy, "--since", sweep_id)
    assert [(n["account_id"], n["action"]) for n in since] == [(account, "suspend")]
    assert notices(db_copy)[-1] == since[0]


def test_the_notice_uses_the_policy_it_is_given(db_copy):
    policy = Policy.from_text('[notices]\nsupport_contact = "write to help@bank.example"\ncurrency = "EUR "\n')
    account, limit = quiet(db_copy)
    with SqliteWorkspace(db_copy) as ws:
        analyst.suspend(ws, account, reason="stolen identity", actor="erin", policy=policy)
        analyst.reinstate(ws, account, reason="restored", actor="erin", policy=policy)
        suspended, lifted = ws.notices().query("account_id == @account").to_dict("records")
    assert "To talk to us, write to help@bank.example." in suspended["body"]
    assert f"Your credit limit is EUR {limit:,.2f}." in lifted["body"]


def test_a_failed_notice_write_leaves_the_state_and_audit_unchanged(db_copy, monkeypatch):
    account, _ = quiet(db_copy)
    from fraudgraph.workspace.sqlite import results

    def broken(self, df):
        if df is not None and len(df):
            raise sqlite3.IntegrityError("notice refused")

    monkeypatch.setattr(results.SqliteResults, "_append_notices", broken)
    with SqliteWorkspace(db_copy) as ws, pytest.raises(sqlite3.IntegrityError):
        analyst.suspend(ws, account, reason="stolen identity", actor="erin")
    with SqliteWorkspace(db_copy) as ws:
        assert ws.account_state([account]).empty and ws.audit(account).empty


def test_the_analyst_commands_take_the_policy_whose_words_the_customer_gets(db_copy, tmp_path):
    policy = tmp_path / "bank.toml"
    policy.write_text('[notices]\nsupport_contact = "write to help@bank.example"\ncurrency = "EUR "\n')
    account, limit = quiet(db_copy)
    run(db_copy, "suspend", account, "--reason", "stolen identity", "--policy", str(policy))
    run(db_copy, "reinstate", account, "--reason", "restored", "--policy", str(policy))
    suspended, lifted = notices_of(db_copy, account)
    assert "To talk to us, write to help@bank.example." in suspended["body"]
    assert f"Your credit limit is EUR {limit:,.2f}." in lifted["body"]
    other, _ = restricted(db_copy)
    run(db_copy, "review", other, "--dismiss", "--note", "verified", "--policy", str(policy))
    assert "EUR" in notices_of(db_copy, other)[-1]["body"]
