"""Tests for the second world generator (fraudgraph.synthetic.second): the contract, determinism,
and the planted tactics and look-alikes having the properties they promise."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from fraudgraph.ingest.contract import read_dataset
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.second import GROUP_KINDS, TACTICS, TRUTH_COLUMNS, generate_city, write_city

N = 4000


@pytest.fixture(scope="module")
def world():
    return generate_city(N, seed=11)


@pytest.fixture(scope="module")
def keyed(world):
    """Links with canonical keys, the truth joined on."""
    links = world.links.assign(key=canonical_keys(world.links["kind"], world.links["value"]).to_numpy())
    return links.merge(world.truth, on="account_id")


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_output_is_a_valid_dataset(world, tmp_path):
    paths = write_city(world, tmp_path)
    assert set(paths) == {"accounts", "links", "transactions", "truth"}
    ds = read_dataset(tmp_path)
    assert ds.warnings == []
    assert len(ds.accounts) == N and ds.accounts["account_id"].is_unique
    assert len(ds.links) == len(world.links) and len(ds.transactions) == len(world.transactions)
    assert ds.links["key"].notna().all()  # every generated identifier carries identity
    truth = pd.read_csv(paths["truth"], dtype=str, keep_default_na=False)
    assert list(truth.columns) == TRUTH_COLUMNS
    assert set(truth["account_id"]) == set(ds.accounts["account_id"])
    # Nothing happens after the extract date, nor before the account it belongs to was opened.
    as_of = pd.Timestamp("2026-11-01")
    assert ds.accounts["created_at"].max() < as_of
    assert ds.links["first_seen"].max() < as_of and ds.transactions["timestamp"].max() < as_of
    opened = ds.accounts.set_index("account_id")["created_at"]
    assert (ds.links["first_seen"].to_numpy() >= opened.reindex(ds.links["account_id"]).to_numpy()).all()
    paid = ds.transactions["timestamp"].to_numpy() >= opened.reindex(ds.transactions["account_id"]).to_numpy()
    assert paid.all()


def test_same_seed_same_bytes_other_seed_other_world(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_city(generate_city(1500, seed=3), a)
    write_city(generate_city(1500, seed=3), b)
    write_city(generate_city(1500, seed=4), c)
    assert _digests(a) == _digests(b)
    assert _digests(a)["links.csv"] != _digests(c)["links.csv"]


def test_sizes_and_kinds_are_in_range(world):
    t = world.truth
    assert 0.02 <= t["is_fraud"].mean() <= 0.04
    sizes = t[t["ring_id"] != ""].groupby("ring_id").size()
    assert sizes.min() >= 3 and sizes.max() <= 40
    assert set(t.loc[t["ring_id"] != "", "ring_kind"]) == set(TACTICS)
    assert set(GROUP_KINDS) <= set(t["group_kind"])
    assert not (t["is_fraud"] & (t["group_kind"] != "")).any()  # groups are innocent


def test_every_ring_member_shares_an_identifier_with_its_ring(keyed):
    ring = keyed[keyed["ring_id"] != ""].drop_duplicates(["ring_id", "kind", "key", "account_id"])
    users = ring.groupby(["ring_id", "kind", "key"])["account_id"].transform("size")
    tied = set(ring.loc[users >= 2, "account_id"])
    assert set(ring["account_id"]) == tied


def test_early_stage_means_no_overdue_member_in_the_ring(world):
    t = world.truth.merge(world.accounts[["account_id", "overdue_days"]], on="account_id")
    rings = (
        t[t["ring_id"] != ""]
        .groupby("ring_id")
        .agg(early=("early_stage", "first"), any_overdue=("overdue_days", lambda s: bool((s > 0).any())))
    )
    assert (rings["early"] == ~rings["any_overdue"]).all()
    assert rings["early"].any() and not rings["early"].all()
    assert not t.loc[t["ring_id"] == "", "early_stage"].any()


def test_sleeper_rings_burst_share_card_and_address_and_have_spent_but_not_defaulted(world, keyed):
    acc = world.accounts.merge(world.truth, on="account_id")
    sleepers = acc[acc["ring_kind"] == "sleeper"]
    assert len(sleepers) and (sleepers["overdue_days"] == 0).all() and sleepers["early_stage"].all()
    assert (sleepers["label"] == "").all()
    used = sleepers["balance"] / sleepers["credit_limit"]
    assert used.between(0.4, 0.9).all()
    for _ring_id, m in sleepers.groupby("ring_id"):
        assert m["created_at"].max() - m["created_at"].min() <= pd.Timedelta(days=15)
        links = keyed[keyed["account_id"].isin(m["account_id"])]
        card = links[links["kind"] == "card"]
        assert card["key"].nunique() == 1 and card["account_id"].nunique() == len(m)
        # One delivery address; about 1% of address entries carry a typo that splits them off.
        address = links[links["kind"] == "address"].groupby("key")["account_id"].nunique()
        assert address.max() >= 0.8 * len(m)
        ip_users = links[links["kind"] == "ip"].groupby("key")["account_id"].nunique()
        assert ip_users.max() >= 0.5 * len(m) - 1


def test_instrument_rings_share_only_payment_instruments(keyed):
    ring = keyed[keyed["ring_kind"] == "instrument_only"].drop_duplicates(["ring_id", "kind", "key", "account_id"])
    users = ring.groupby(["ring_id", "kind", "key"])["account_id"].transform("size")
    assert set(ring.loc[users >= 2, "kind"]) <= {"card", "bank_account"}
    assert (users >= 2).any()


def test_camouflaged_rings_sit_on_public_hubs(keyed):
    users = keyed.groupby(["kind", "key"])["account_id"].transform("nunique")
    camo = keyed["ring_kind"] == "camouflaged"
    on_hub = keyed.loc[camo & (users >= 15), "account_id"].nunique()
    assert on_hub >= 0.6 * keyed.loc[camo, "account_id"].nunique()


def test_synthetic_identities_reuse_an_ssn_with_other_phones(keyed):
    synth = keyed[keyed["ring_kind"] == "synthetic_id"]
    ssn = synth[synth["kind"] == "national_id"].groupby("key")["account_id"].nunique()
    assert ssn.min() >= 2
    per_ssn = synth[synth["kind"] == "national_id"][["account_id", "key"]].merge(
        synth[synth["kind"] == "phone"][["account_id", "key"]], on="account_id", suffixes=("_ssn", "_phone")
    )
    assert (per_ssn.groupby("key_ssn")["key_phone"].nunique() >= 2).all()


def test_care_homes_share_a_staff_managed_bank_account(keyed):
    care = keyed[keyed["group_kind"] == "care_home"]
    for _gid, home in care.groupby("group_id"):
        banks = home[home["kind"] == "bank_account"].groupby("key")["account_id"].nunique()
        assert banks.max() >= 3
        assert home.loc[home["kind"] == "address", "key"].nunique() <= 2  # one address (rare typo)


def test_student_housing_opens_in_september_on_shared_ips(world, keyed):
    acc = world.accounts.merge(world.truth, on="account_id")
    students = acc[acc["group_kind"] == "student_housing"]
    assert (students["created_at"].astype(str).str[5:7] == "09").all()
    ips = keyed[(keyed["group_kind"] == "student_housing") & (keyed["kind"] == "ip")]
    assert ips.groupby("key")["account_id"].nunique().median() >= 5


def test_recycled_phones_pass_between_strangers_years_apart(keyed):
    rec = keyed[(keyed["group_kind"] == "recycled_phone") & (keyed["kind"] == "phone")]
    shared = rec.groupby("key").filter(lambda g: g["account_id"].nunique() == 2)
    gap = shared.groupby("key")["first_seen"].agg(lambda s: s.max() - s.min())
    assert len(gap) and (gap >= pd.Timedelta(days=365)).all()
    homes = keyed[keyed["account_id"].isin(shared["account_id"]) & (keyed["kind"] == "address")]
    assert homes.groupby("key")["account_id"].nunique().max() == 1


def test_spellings_vary_but_fold_to_one_key(keyed):
    spellings = keyed.groupby(["kind", "key"])["value"].nunique()
    for kind in ("address", "phone", "card", "email", "national_id"):
        assert (spellings.loc[kind] >= 2).any(), kind


def test_mules_move_money_between_members(world):
    t = world.truth.set_index("account_id")
    tx = world.transactions[world.transactions["counterparty_kind"] == "account"]
    ring_of = t["ring_id"]
    inside = tx[
        (ring_of.reindex(tx["account_id"]).to_numpy() == ring_of.reindex(tx["counterparty"]).to_numpy())
        & (ring_of.reindex(tx["account_id"]).to_numpy() != "")
    ]
    assert len(inside) and set(t.loc[inside["account_id"], "ring_kind"]) == {"mule_network"}


def test_parquet_output_reads_the_same(world, tmp_path):
    write_city(world, tmp_path, format="parquet")
    ds = read_dataset(tmp_path)
    assert len(ds.accounts) == N and len(ds.links) == len(world.links)
    assert pd.read_parquet(tmp_path / "truth.parquet")["is_fraud"].sum() == world.truth["is_fraud"].sum()


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_accounts"):
        generate_city(50, seed=1)
    with pytest.raises(ValueError):
        generate_city(1000, seed=1, fraud_share=0.5)
    assert np.isclose(generate_city(1000, seed=1, fraud_share=0.0, lone_share=0.0).truth["is_fraud"].sum(), 0)
