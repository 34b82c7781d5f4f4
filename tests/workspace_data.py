"""Small hand-made workspace data shared by the SQLite and Neo4j workspace tests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from fraudgraph.model.frames import ACCOUNT_COLUMNS, LINK_COLUMNS, TRANSACTION_COLUMNS
from fraudgraph.workspace.base import SweepRecord


def make_dataset(accounts, links, transactions=None):
    acc = pd.DataFrame(
        accounts,
        columns=["account_id", "created_at", "credit_limit", "balance", "overdue_days", "status", "label"],
    )
    acc["created_at"] = pd.to_datetime(acc["created_at"])
    acc["credit_limit"] = acc["credit_limit"].astype("float64")
    acc["balance"] = acc["balance"].astype("float64")
    acc["properties"] = "{}"
    ln = pd.DataFrame(links, columns=["account_id", "kind", "value", "key", "first_seen"])
    ln["first_seen"] = pd.to_datetime(ln["first_seen"])
    tx = pd.DataFrame(transactions or [], columns=TRANSACTION_COLUMNS)
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    tx["amount"] = tx["amount"].astype("float64")
    return SimpleNamespace(
        accounts=acc[ACCOUNT_COLUMNS], links=ln[LINK_COLUMNS], transactions=tx, warnings=[], files={}
    )


ACCOUNTS = [
    ("007", "2024-01-01", 1000.0, 100.0, 0, "active", None),
    ("A2", "2024-01-02", 2000.0, 1900.0, 45, "active", "fraud"),
    ("A3", "2024-01-03", np.nan, np.nan, 0, "active", None),
    ("A4", "2024-01-04", 500.0, 0.0, 0, "active", "legit"),
]
LINKS = [
    ("007", "device", "DEV-1", "dev-1", "2024-02-01"),
    ("A2", "device", "dev-1 ", "dev-1", "2024-02-03"),
    ("A2", "email", "N/A", None, None),
    ("A3", "email", "N/A", None, None),
    ("A3", "phone", "(555) 123-4567", "5551234567", "2024-03-01"),
    ("A4", "phone", "+1 555 123 4567", "5551234567", None),
    ("A4", "ip", "10.0.0.1", "10.0.0.1", None),
]
TXNS = [
    ("t1", "007", "A2", "account", 50.0, "2024-05-01T10:00:00", "settled"),
    ("t2", "A2", "shop-1", "merchant", 20.0, "2024-05-02T10:00:00", "chargeback"),
]


def each_load(ws, loads, *, whole: bool):
    """Load ACCOUNTS, LINKS and TXNS into ``ws``, then each of ``loads`` ((accounts, links) rows):
    its own rows, or (``whole``) the whole extract again with them changed or added. Yields after
    every load, the first included."""
    ws.load(make_dataset(ACCOUNTS, LINKS, TXNS))
    yield
    extract = {row[:3]: row for row in LINKS}
    for accounts, links in loads:
        if whole:
            extract.update({row[:3]: row for row in links})
            links = list(extract.values())
        ws.load(make_dataset(accounts, links, TXNS))
        yield


def sweep_record(sweep_id="S-000001", ring_members=None):
    """A small but complete SweepRecord over the ACCOUNTS above: one ring, scores, decisions, state, logs."""
    members = (
        ring_members
        if ring_members is not None
        else pd.DataFrame({"ring_id": ["R-000001"] * 2, "account_id": ["007", "A2"]})
    )
    rings = pd.DataFrame(
        [
            {
                "ring_id": "R-000001",
                "size": 2,
                "score": 0.9,
                "exposure": 3000.0,
                "features": {"size": 2},
                "reasons": [
                    {
                        "code": "SHARED_DEVICE",
                        "text": "2 accounts use device dev-1",
                        "evidence": {"key": "dev-1"},
                    }
                ],
            }
        ]
    )
    scores = pd.DataFrame(
        [
            {"account_id": a, "score": s, "ring_id": r, "reasons": []}
            for a, s, r in [
                ("007", 0.9, "R-000001"),
                ("A2", 0.95, "R-000001"),
                ("A3", 0.1, None),
                ("A4", 0.0, None),
            ]
        ]
    )
    decisions = scores.assign(
        action=["suspend", "suspend", "none", "none"],
        trigger=["fraud_ring"] * 2 + ["none"] * 2,
        credit_limit=[1000.0, 2000.0, np.nan, 500.0],
        new_credit_limit=[0.0, 0.0, np.nan, np.nan],
        evidence=["e1", "e1", None, None],
    )
    state = pd.DataFrame(
        [
            {
                "account_id": "007",
                "action": "suspend",
                "trigger": "fraud_ring",
                "status": "suspended",
                "credit_limit": 0.0,
                "original_credit_limit": 1000.0,
                "manual": False,
                "evidence": "e1",
                "updated_at": "2026-01-01T00:00:00",
                "sweep_id": sweep_id,
            }
        ]
    )
    audit = pd.DataFrame(
        [
            {
                "at": "2026-01-01T00:00:00",
                "sweep_id": sweep_id,
                "actor": "sweep",
                "account_id": "007",
                "event": "escalate",
                "previous_action": "none",
                "new_action": "suspend",
                "previous_status": "active",
                "new_status": "suspended",
                "previous_limit": 1000.0,
                "new_limit": 0.0,
                "score": 0.9,
                "reasons": "[]",
                "policy_hash": "abc",
                "note": None,
            }
        ]
    )
    notices = pd.DataFrame(
        [
            {
                "notice_id": f"{sweep_id}-007",
                "sweep_id": sweep_id,
                "account_id": "007",
                "created_at": "2026-01-01T00:00:00",
                "category": "fraud_ring",
                "action": "suspend",
                "subject": "s",
                "body": "b",
                "customer_actions": "[]",
                "repayment_plan": "",
            }
        ]
    )
    return SweepRecord(
        sweep={
            "sweep_id": sweep_id,
            "started_at": "2026-01-01T00:00:00",
            "finished_at": f"2026-01-01T00:00:0{sweep_id[-1]}",
            "as_of": "2025-01-01T00:00:00",
            "seed": 0,
            "engine": "python",
            "policy_hash": "abc",
            "dry_run": False,
            "summary": {"rings": 1},
            "diff": {"new": [{"ring_id": "R-000001"}]},
        },
        tables={
            "rings": rings,
            "ring_members": members,
            "account_scores": scores,
            "decisions": decisions,
            "hubs": pd.DataFrame([{"kind": "ip", "key": "10.0.0.1", "n_accounts": 5000, "reason": "cap"}]),
            "ring_identifiers": pd.DataFrame(
                [
                    {
                        "ring_id": "R-000001",
                        "kind": "device",
                        "key": "dev-1",
                        "n_members": 2,
                        "n_accounts": 2,
                        "raw_values": ["DEV-1", "dev-1 "],
                    }
                ]
            ),
        },
        state=state,
        audit=audit,
        notices=notices,
        next_ring_number=2,
    )


# A payment to X9, an account the hand-made data set does not load (yet).
TXNS_WITH_UNLOADED_PAYEE = TXNS + [("t3", "A3", "X9", "account", 5.0, "2024-05-03T10:00:00", "settled")]


def hand_made_dataset():
    """The conformance suite's hand-made data set: 4 accounts, 7 links, 3 payments (one to X9)."""
    return make_dataset(ACCOUNTS, LINKS, TXNS_WITH_UNLOADED_PAYEE)


def record(sweep_id="S-000001"):
    """The conformance suite's sweep record: ring members saved out of sorted order (A2 before 007)."""
    return sweep_record(sweep_id, ring_members=pd.DataFrame({"ring_id": ["R-000001"] * 2, "account_id": ["A2", "007"]}))


# 30 accounts on one carrier IP (a hub), chained H0 -device- H1 -card- H2 -phone- H3 besides.
HUB_ACCOUNTS = [(f"H{i}", "2024-01-01", 100.0, 0.0, 0, "active", None) for i in range(30)]
HUB_LINKS = [(f"H{i}", "ip", "1.2.3.4", "1.2.3.4", None) for i in range(30)] + [
    ("H0", "device", "d0", "d0", "2024-01-05"),
    ("H1", "device", "D0", "d0", None),
    ("H1", "card", "c1", "c1", None),
    ("H2", "card", "c1", "c1", None),
    ("H2", "phone", "555", "555", None),
    ("H3", "phone", "555", "555", None),
]
HUB_PAYMENTS = [("p1", "H0", "H1", "account", 10.0, "2024-02-01T00:00:00", "settled")]


def hub_dataset():
    return make_dataset(HUB_ACCOUNTS, HUB_LINKS, HUB_PAYMENTS)


def swept_with(ws, folder):
    """``ws`` with ``folder`` loaded and swept once (seed 3)."""
    from fraudgraph.app.sweep import run_sweep
    from fraudgraph.ingest.contract import read_dataset

    ws.load(read_dataset(folder))
    run_sweep(ws, seed=3)
    return ws
