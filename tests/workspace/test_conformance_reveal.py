"""What --reveal and --config leave in a workspace, the same on every backend: a `reveal` audit row
per account shown (nothing else changed), and the configuration a load was read under."""

from __future__ import annotations

from workspace_data import hand_made_dataset

from fraudgraph.app.investigate import record_reveal


def test_a_reveal_is_one_audit_row_per_account_and_changes_no_state(workspace):
    ds = hand_made_dataset()
    workspace.load(ds)
    ids = sorted(ds.accounts["account_id"])[:2]
    state_before = workspace.account_state()
    assert record_reveal(workspace, [*ids, ids[0]], actor="dana", command="fraudgraph ring R-1 --reveal") == 2
    audit = workspace.audit()
    rows = audit[audit["event"] == "reveal"]
    assert sorted(rows["account_id"]) == ids
    assert set(rows["actor"]) == {"dana"} and all("ring R-1" in n for n in rows["note"])
    assert len(workspace.account_state()) == len(state_before)


def test_a_load_remembers_the_configuration_it_was_read_under(workspace):
    ds = hand_made_dataset()
    ds.config = {"path": "/etc/fraudgraph.toml", "text": "[kinds]\nloyalty_card = 3.0\n"}
    workspace.load(ds)
    assert workspace.last_load()["config"] == ds.config
    assert workspace.status()["last_load"]["config"] == ds.config
