"""``Workspace.audit_of``: the audit of several accounts in one read, on every backend."""

from __future__ import annotations


def test_audit_of_several_accounts_is_each_account_s_audit_in_one_read(swept_workspace):
    ws = swept_workspace
    everyone = ws.audit()
    ids = sorted(set(everyone["account_id"]))[:3] + ["A4", "NOBODY"]
    both = ws.audit_of(ids)
    assert list(both.columns) == list(everyone.columns)
    assert set(both["account_id"]) == set(everyone["account_id"]) & set(ids)
    for account_id in ids:
        one = ws.audit(account_id).reset_index(drop=True)
        mine = both[both["account_id"] == account_id].reset_index(drop=True)
        assert mine.astype(str).equals(one.astype(str)), account_id
    assert ws.audit_of([]).empty and list(ws.audit_of([]).columns) == list(everyone.columns)
