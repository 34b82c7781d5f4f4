"""detect() end to end on a hand-built world with known answers, and on a small generated world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudgraph.detection.pipeline import detect
from fraudgraph.detection.scoring import DEFAULT_TIERS, default_actions
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.model.frames import ACCOUNT_SCORE_COLUMNS, HUB_COLUMNS, RING_COLUMNS, RING_MEMBER_COLUMNS

AS_OF = pd.Timestamp("2026-06-01")
RING = [f"r{i}" for i in range(6)]
HOUSEHOLD = ["h0", "h1", "h2"]


def build_world(seed: int = 0, with_transactions: bool = True):
    rng = np.random.default_rng(seed)
    background = [f"b{i:02d}" for i in range(74)]
    ids = RING + HOUSEHOLD + background
    n = len(ids)
    age = rng.uniform(300, 2500, n)
    age[:6] = 200 + np.arange(6) * 0.7  # the ring opened within four days
    age[6:9] = [2400, 1300, 500]  # family members joined over years
    limit = rng.choice([1000.0, 2000.0, 5000.0], n)
    balance = limit * rng.uniform(0.0, 0.5, n)
    balance[:6] = limit[:6] * 0.99
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": [AS_OF - pd.Timedelta(days=float(a)) for a in age],
            "credit_limit": limit,
            "balance": balance,
            "overdue_days": [30] * 6 + [0] * (n - 6),
            "status": "active",
            "label": [None] * 6 + ["legit"] + [None] * (n - 7),
            "properties": "{}",
        }
    )
    rows = []
    device_spellings = ["3F2A99C177AB", "3f2a99c177ab", " 3F2A99C177ab "]
    phone_spellings = ["(555) 010-7788", "+1 555 010 7788", "555.010.7788"]
    for i, acc in enumerate(RING):
        rows.append((acc, "device", device_spellings[i % 3], AS_OF - pd.Timedelta(days=199)))
        rows.append((acc, "phone", phone_spellings[i % 3], AS_OF - pd.Timedelta(days=199)))
    for acc, spelling, days in zip(
        HOUSEHOLD, ["12 Oak St. Apt 4", "12 OAK STREET APT 4", "12 oak st apt 4"], (2399, 1299, 499)
    ):
        rows.append((acc, "address", spelling, AS_OF - pd.Timedelta(days=days)))
    for i, acc in enumerate(ids):
        rows.append((acc, "ip", "203.0.113.9", AS_OF - pd.Timedelta(days=10)))  # carrier NAT: a hub
        rows.append((acc, "email", f"person{i}@example.com", AS_OF - pd.Timedelta(days=float(age[i]) - 1)))
        rows.append((acc, "device", "unknown", AS_OF - pd.Timedelta(days=5)))  # carries no identity
    links = pd.DataFrame(rows, columns=["account_id", "kind", "value", "first_seen"])
    links["key"] = canonical_keys(links["kind"], links["value"])
    links = links[["account_id", "kind", "value", "key", "first_seen"]]
    cols = ["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp", "status"]
    if not with_transactions:
        return accounts, links, pd.DataFrame(columns=cols)
    tx = [
        (
            f"t{i}",
            acc,
            "m-electronics",
            "merchant",
            float(limit[i]) * 0.6,
            AS_OF - pd.Timedelta(days=20 + i % 2),
            "settled",
        )
        for i, acc in enumerate(RING)
    ]
    tx += [
        (
            f"u{i}",
            acc,
            "m-grocer",
            "merchant",
            40.0,
            AS_OF - pd.Timedelta(days=int(rng.integers(1, 90))),
            "settled",
        )
        for i, acc in enumerate(ids)
    ]
    return accounts, links, pd.DataFrame(tx, columns=cols)


@pytest.fixture(scope="module")
def world():
    return build_world()


@pytest.fixture(scope="module")
def detection(world):
    return detect(*world, seed=0)


def actions_of(detection):
    return default_actions(detection.account_scores.set_index("account_id")["score"])


def test_frames_have_the_contract_columns_and_every_account(world, detection):
    assert list(detection.rings.columns) == RING_COLUMNS
    assert list(detection.ring_members.columns) == RING_MEMBER_COLUMNS
    assert list(detection.account_scores.columns) == ACCOUNT_SCORE_COLUMNS
    assert list(detection.hubs.columns) == HUB_COLUMNS
    assert sorted(detection.account_scores["account_id"]) == sorted(world[0]["account_id"])
    assert detection.account_scores["score"].between(0, 1).all()
    assert set(detection.stage_seconds) >= {"graph", "rings", "features", "scoring", "reasons"}


def test_ring_linked_through_variant_spellings_is_found_and_suspended(detection):
    members = detection.ring_members.groupby("ring_id")["account_id"].apply(sorted)
    assert RING in members.tolist()
    actions = actions_of(detection)
    assert (actions[RING] == "suspend").all()
    ring = detection.rings.iloc[0]
    assert ring["size"] == 6 and ring["score"] >= DEFAULT_TIERS["suspend"]
    assert ring["exposure"] == pytest.approx(float(detection.account_features.loc[RING, "exposure"].sum()))


def test_household_is_not_flagged(detection):
    actions = actions_of(detection)
    assert set(actions[HOUSEHOLD]) <= {"none", "monitor"}
    assert (actions.drop(RING) == "none").sum() >= len(actions) - len(RING) - len(HOUSEHOLD)


def test_hub_is_recorded_and_does_not_link(detection):
    assert detection.hubs[["kind", "key", "n_accounts"]].values.tolist() == [["ip", "203.0.113.9", 83]]
    assert len(detection.ring_members) <= len(RING) + len(HOUSEHOLD)


def test_reasons_name_the_shared_identifiers_with_their_spellings(detection):
    reasons = detection.rings.iloc[0]["reasons"]
    codes = [r["code"] for r in reasons]
    assert {"SHARED_DEVICE", "OPENED_TOGETHER", "MAXED_CREDIT"} <= set(codes)
    device = next(r for r in reasons if r["code"] == "SHARED_DEVICE")
    assert device["text"].startswith("6 accounts use device")
    assert sorted(device["evidence"]["values"]) == sorted({"3F2A99C177AB", "3f2a99c177ab", " 3F2A99C177ab "})
    ident = detection.ring_identifiers
    ring_id = detection.rings.iloc[0]["ring_id"]
    assert set(ident.loc[ident["ring_id"] == ring_id, "kind"]) == {"device", "phone"}
    account_reasons = detection.account_scores.set_index("account_id").loc["r0", "reasons"]
    assert account_reasons[0]["code"] == "IN_SUSPECT_RING" and ring_id in account_reasons[0]["text"]


def test_ring_ids_are_stable_across_sweeps(world, detection):
    again = detect(*world, seed=0, previous_members=detection.ring_members, next_ring_number=detection.next_ring_number)
    assert again.ring_members.equals(detection.ring_members)
    assert again.next_ring_number == detection.next_ring_number
    # One ring member leaves: the ring keeps its id.
    accounts, links, tx = world
    fewer = detect(
        accounts,
        links[links["account_id"] != "r5"],
        tx,
        seed=0,
        previous_members=detection.ring_members,
        next_ring_number=detection.next_ring_number,
    )
    old_id = detection.ring_members.set_index("account_id").loc["r0", "ring_id"]
    assert fewer.ring_members.set_index("account_id").loc["r0", "ring_id"] == old_id


def test_same_seed_same_result(world, detection):
    again = detect(*world, seed=0)
    pd.testing.assert_frame_equal(
        again.account_scores.drop(columns="reasons"), detection.account_scores.drop(columns="reasons")
    )
    assert again.rings["reasons"].tolist() == detection.rings["reasons"].tolist()


def test_as_of_defaults_to_latest_timestamp_and_hides_later_links(world):
    accounts, links, tx = world
    latest = max(accounts["created_at"].max(), links["first_seen"].max(), tx["timestamp"].max())
    assert detect(accounts, links, tx).as_of == latest
    earlier = detect(accounts, links, tx, as_of=AS_OF - pd.Timedelta(days=300))
    # The ring's device and phone were first seen 199 days before AS_OF: not yet shared then.
    assert not earlier.ring_members["account_id"].isin(RING).any()


def test_without_transactions_balances_and_arrears_still_convict(world):
    result = detect(*build_world(with_transactions=False), seed=0)
    actions = actions_of(result)
    assert (actions[RING].isin(["review", "suspend"])).all()
    assert set(actions[HOUSEHOLD]) <= {"none", "monitor"}


def test_generated_world_quality():
    from fraudgraph.app.quality import evaluate_quality
    from fraudgraph.synthetic.world import generate_world

    w = generate_world(4000, seed=21)
    accounts = w.accounts.assign(properties="{}")
    accounts["label"] = accounts["label"].astype(object).where(accounts["label"].isin(["fraud", "legit"]), None)
    links = w.links.assign(key=canonical_keys(w.links["kind"], w.links["value"]))
    result = detect(accounts, links, w.transactions, seed=0)
    quality = evaluate_quality(w.truth, result.account_scores, actions_of(result), result.ring_members)
    review = quality["accounts"]["review_or_worse"]
    assert review["precision"] >= 0.9 and review["recall"] >= 0.8
    assert quality["false_flags"].get("household", {"rate": 0.0})["rate"] < 0.01
