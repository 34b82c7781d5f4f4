"""Loading, on every backend: what is read back, idempotent reloads, update rules, failed loads."""

from __future__ import annotations

import pandas as pd
import pytest
from workspace_data import ACCOUNTS, LINKS, TXNS, TXNS_WITH_UNLOADED_PAYEE, hand_made_dataset, make_dataset

READS = ("accounts", "links", "transactions", "account_state", "audit", "notices", "reviews", "sweeps")
TABLES = ("rings", "ring_members", "ring_identifiers", "account_scores", "hubs", "decisions")


def test_an_empty_workspace_reads_empty_frames_like_the_reference(workspace, reference):
    ref = reference()
    for read in READS:
        got = getattr(workspace, read)()
        assert got.empty, read
        pd.testing.assert_frame_equal(got, getattr(ref, read)(), obj=read)
    for name in TABLES:
        pd.testing.assert_frame_equal(workspace.table(name), ref.table(name), obj=name)
    assert workspace.next_ring_number() == 1
    status = workspace.status()
    assert status["counts"] == {"accounts": 0, "links": 0, "transactions": 0}
    assert (status["last_load"], status["last_sweep"], status["rings"]) == (None, None, 0)
    assert status["backend"] == workspace.backend
    mine, theirs = ({k: v for k, v in s.items() if k not in ("workspace", "backend")} for s in (status, ref.status()))
    assert mine == theirs


def test_load_reads_back_ids_raw_spellings_and_types(workspace, reference):
    ds = hand_made_dataset()
    first = workspace.load(ds)
    assert (first.accounts_new, first.links_new, first.transactions_new) == (4, 7, 3)
    acc = workspace.accounts()
    assert acc["account_id"].tolist() == ["007", "A2", "A3", "A4"]  # '007' stays a string
    assert acc.loc[acc["account_id"] == "A2", "label"].item() == "fraud"
    assert pd.isna(acc.loc[acc["account_id"] == "A3", "credit_limit"].item())
    assert acc["created_at"].dtype == "datetime64[ns]"
    links = workspace.links()
    assert set(links["value"]) >= {"N/A", "dev-1 ", "(555) 123-4567"}  # raw spellings kept
    assert links.loc[links["value"] == "N/A", "key"].isna().all()
    assert workspace.links(["A4"])["value"].tolist() == ["10.0.0.1", "+1 555 123 4567"]
    tx = workspace.transactions()
    assert tx["txn_id"].tolist() == ["t1", "t2", "t3"]
    assert tx["timestamp"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00")
    assert sorted(workspace.transactions(["A2"])["txn_id"]) == ["t1", "t2"]  # paid by or to A2
    # Columns and dtypes too: the same frames the reference backend gives.
    ref = reference()
    ref.load(ds)
    for read in ("accounts", "links", "transactions"):
        pd.testing.assert_frame_equal(getattr(workspace, read)(), getattr(ref, read)(), obj=read)


def test_an_account_is_paid_only_by_payments_to_an_account(workspace):
    """A merchant's id is not an account's, even when it is spelled like one: a payment to merchant
    "A3" is not among the payments A3 received (on Neo4j it goes to a (:Merchant) node)."""
    ds = make_dataset(ACCOUNTS, LINKS, [*TXNS, ("t9", "A4", "A3", "merchant", 9.0, "2024-05-03T10:00:00", "settled")])
    workspace.load(ds)
    assert workspace.transactions(["A3"])["txn_id"].tolist() == []
    assert workspace.transactions(["A4"])["txn_id"].tolist() == ["t9"]  # its payer's, as any other
    assert workspace.transactions(["A2"])["txn_id"].tolist() == ["t1", "t2"]


def test_reload_is_idempotent(workspace):
    ds = hand_made_dataset()
    workspace.load(ds)
    before = (workspace.accounts(), workspace.links(), workspace.transactions())
    again = workspace.load(ds)
    assert again.unchanged
    assert (len(workspace.accounts()), len(workspace.links()), len(workspace.transactions())) == (4, 7, 3)
    for read, frame in zip(("accounts", "links", "transactions"), before):
        pd.testing.assert_frame_equal(getattr(workspace, read)(), frame, obj=read)


def test_newer_extract_updates_accounts_keeps_earliest_first_seen_and_moves_rekeyed_links(workspace):
    workspace.load(hand_made_dataset())
    newer_accounts = [list(a) for a in ACCOUNTS] + [["X9", "2024-02-01", 10.0, 0.0, 0, "active", None]]
    newer_accounts[0][3] = 900.0  # balance changed
    newer_links = [
        ("007", "device", "DEV-1", "dev-1", "2024-03-01"),  # later sighting: first_seen stays 2024-02-01
        ("A4", "phone", "+1 555 123 4567", "5551234567", "2024-06-01"),  # unknown before: now known
        ("A4", "card", "4111", "4111", "2024-06-02"),  # new observation
        ("A2", "device", "dev-1 ", "dev-9", "2024-02-03"),  # re-normalized to another identifier
    ]
    s = workspace.load(make_dataset([tuple(a) for a in newer_accounts], newer_links, TXNS_WITH_UNLOADED_PAYEE))
    assert (s.accounts_new, s.accounts_updated) == (1, 1)
    assert (s.links_new, s.links_updated) == (1, 2)
    links = workspace.links().set_index(["account_id", "kind", "value"])
    assert links.loc[("007", "device", "DEV-1"), "first_seen"] == pd.Timestamp("2024-02-01")
    assert links.loc[("A4", "phone", "+1 555 123 4567"), "first_seen"] == pd.Timestamp("2024-06-01")
    assert links.loc[("A2", "device", "dev-1 "), "key"] == "dev-9"
    assert workspace.accounts(["007"])["balance"].item() == 900.0
    counts = workspace.identifier_counts(pd.DataFrame({"kind": ["device", "device"], "key": ["dev-1", "dev-9"]}))
    assert counts[["key", "n_accounts"]].values.tolist() == [["dev-1", 1], ["dev-9", 1]]
    assert counts["raw_values"].tolist() == [["DEV-1"], ["dev-1 "]]
    # X9 is now loaded: the payment made to it before is adopted (it shows as paid to X9).
    assert workspace.transactions(["X9"])["txn_id"].tolist() == ["t3"]


def test_an_earlier_sighting_moves_first_seen_back_and_full_reads_match_reads_by_id(workspace):
    """Sweeps read everything at once (SQLite: the columnar snapshot); it must agree with reads by id."""
    workspace.load(hand_made_dataset())
    newer = [list(a) for a in ACCOUNTS]
    newer[1][2] = 2500.0
    workspace.load(
        make_dataset(
            [tuple(a) for a in newer] + [("A9", "2024-09-09", 10.0, 0.0, 0, "closed", None)],
            [
                ("007", "device", "DEV-1", "dev-1", "2024-01-15"),
                ("A9", "card", "c9", "c9", None),
                ("A4", "phone", "+1 555 123 4567", "5551234567", "2024-06-01"),
            ],
            [
                ("t2", "A2", "shop-1", "merchant", 20.0, "2024-05-02T10:00:00", "refunded"),
                ("t4", "A9", "A2", "account", 5.0, "2024-06-02T10:00:00", "settled"),
            ],
        )
    )
    ids = workspace.accounts()["account_id"].tolist()
    assert ids == ["007", "A2", "A3", "A4", "A9"]
    assert workspace.accounts(["A2"])["credit_limit"].item() == 2500.0
    pd.testing.assert_frame_equal(workspace.accounts(), workspace.accounts(ids), check_dtype=False)
    everything, by_id = workspace.links(), workspace.links(ids)
    pd.testing.assert_frame_equal(everything.reset_index(drop=True), by_id.reset_index(drop=True), check_dtype=False)
    first_seen = everything.set_index(["account_id", "kind", "value"]).loc[("007", "device", "DEV-1"), "first_seen"]
    assert first_seen == pd.Timestamp("2024-01-15")
    tx, tx_by_id = workspace.transactions(), workspace.transactions(ids)
    pd.testing.assert_frame_equal(tx, tx_by_id, check_dtype=False)
    assert tx.set_index("txn_id").loc["t2", "status"] == "refunded"


def test_a_failed_load_leaves_nothing_of_itself(workspace, load_failure):
    workspace.load(make_dataset(ACCOUNTS, LINKS))
    before = (
        workspace.accounts(),
        workspace.links(),
        workspace.transactions(),
        workspace.status()["last_load"],
    )
    bigger = make_dataset(
        ACCOUNTS + [("A5", "2024-01-05", 1.0, 1.0, 0, "active", None)],
        LINKS + [("A5", "card", "4000", "4000", "2024-01-09")],
        TXNS_WITH_UNLOADED_PAYEE,
    )
    failing, error = load_failure(bigger)  # fails half-way: accounts (and links) already written
    with pytest.raises(error):
        workspace.load(failing)
    for read, frame in zip(("accounts", "links", "transactions"), before[:3]):
        pd.testing.assert_frame_equal(getattr(workspace, read)(), frame, obj=read)
    assert workspace.status()["last_load"] == before[3]
    assert workspace.accounts(["A5"]).empty


def test_analyst_actions_and_label_survive_a_reload(workspace):
    from workspace_data import record

    ds = make_dataset(ACCOUNTS, LINKS)
    workspace.load(ds)
    audit = record().audit.assign(actor="ana", event="manual_suspend")
    workspace.apply_manual(
        state=record().state,
        audit=audit,
        review={
            "account_id": "A2",
            "verdict": "dismiss",
            "note": "known family",
            "actor": "ana",
            "at": "2026-01-02T00:00:00",
            "evidence": None,
        },
        label=("A2", "legit"),
    )
    assert workspace.accounts(["A2"])["label"].item() == "legit"  # overrides the loaded 'fraud'
    workspace.load(ds)
    assert workspace.accounts(["A2"])["label"].item() == "legit"
    assert workspace.reviews()["verdict"].tolist() == ["dismiss"]
    assert workspace.audit("007")["actor"].tolist() == ["ana"]
    assert workspace.account_state()["status"].tolist() == ["suspended"]


def test_a_label_alone_overrides_the_loaded_label_and_survives_a_reload(workspace):
    ds = make_dataset(ACCOUNTS, LINKS)
    workspace.load(ds)
    workspace.apply_manual(
        state=pd.DataFrame(columns=["account_id"]).iloc[0:0], audit=pd.DataFrame(), label=("A2", "legit")
    )
    assert workspace.accounts(["A2"])["label"].item() == "legit"
    workspace.load(ds)
    assert workspace.accounts(["A2"])["label"].item() == "legit"
    assert workspace.audit().empty and workspace.account_state().empty
