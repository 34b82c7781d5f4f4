"""Tests for the synthetic world generator: contract shape, determinism, ground truth, realism."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.model.frames import IDENTIFIER_KINDS, TRANSACTION_COLUMNS
from fraudgraph.synthetic.world import (
    ACCOUNT_INPUT_COLUMNS,
    GROUP_KINDS,
    LINK_INPUT_COLUMNS,
    LONE_KIND,
    RING_KINDS,
    TRUTH_COLUMNS,
    generate_world,
    write_world,
)

AS_OF = pd.Timestamp("2026-11-01")
HUB_CAP = 40  # the detector's default: identifiers shared by more accounts link nobody
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
    "lane": "ln", "court": "ct", "place": "pl", "apartment": "apt", "suite": "ste",
}  # fmt: skip


def canonical(kind: str, value: str) -> str:
    """A crude identity key, good enough to check that the generator's variants are one thing."""
    v = value.strip().lower()
    if kind == "email":
        local, _, domain = v.partition("@")
        local = local.split("+")[0]
        if domain == "gmail.com":
            local = local.replace(".", "")
        return f"{local}@{domain}"
    if kind == "address":
        words = re.sub(r"[^a-z0-9 ]", " ", v.replace("#", " apt ")).split()
        return " ".join(_STREET_WORDS.get(w, w) for w in words)
    return re.sub(r"[^a-z0-9]", "", v)


@pytest.fixture(scope="module")
def world():
    return generate_world(20_000, seed=11)


@pytest.fixture(scope="module")
def keyed_links(world):
    links = world.links.copy()
    links["key"] = [canonical(k, v) for k, v in zip(links["kind"], links["value"])]
    return links.merge(world.truth, on="account_id")


def accounts_per_key(keyed_links: pd.DataFrame, kind: str) -> pd.Series:
    sub = keyed_links[keyed_links["kind"] == kind]
    return sub.groupby("key")["account_id"].nunique()


def test_same_seed_gives_byte_identical_files_and_other_seeds_differ(tmp_path):
    paths_a = write_world(generate_world(3000, seed=5), tmp_path / "a")
    paths_b = write_world(generate_world(3000, seed=5), tmp_path / "b")
    paths_c = write_world(generate_world(3000, seed=6), tmp_path / "c")
    for name in ("accounts", "links", "transactions", "truth"):
        assert paths_a[name].read_bytes() == paths_b[name].read_bytes(), name
        assert paths_a[name].read_bytes() != paths_c[name].read_bytes(), name


def test_tables_follow_the_data_contract(world):
    accounts, links, txns = world.accounts, world.links, world.transactions
    assert list(accounts.columns) == ACCOUNT_INPUT_COLUMNS
    assert list(links.columns) == LINK_INPUT_COLUMNS
    assert list(txns.columns) == TRANSACTION_COLUMNS
    assert accounts["account_id"].is_unique
    assert accounts["account_id"].str.fullmatch(r"A\d{7}").all()
    assert set(accounts["status"]) <= {"active", "suspended", "closed"}
    assert set(accounts["label"]) == {"", "fraud", "legit"}
    assert (accounts["credit_limit"] >= 0).all() and (accounts["overdue_days"] >= 0).all()
    assert (accounts["created_at"] < AS_OF).all()
    assert set(links["kind"]) == set(IDENTIFIER_KINDS)
    assert links["account_id"].isin(accounts["account_id"]).all()
    assert 6 <= len(links) / len(accounts) <= 10
    created = links["account_id"].map(accounts.set_index("account_id")["created_at"])
    assert (links["first_seen"] >= created).all() and (links["first_seen"] < AS_OF).all()
    assert not links.duplicated(["account_id", "kind", "value"]).any()
    assert txns["txn_id"].is_unique
    assert txns["account_id"].isin(accounts["account_id"]).all()
    to_account = txns["counterparty_kind"] == "account"
    assert txns.loc[to_account, "counterparty"].isin(accounts["account_id"]).all()
    assert set(txns["counterparty_kind"]) == {"account", "merchant"}
    assert (txns["amount"] > 0).all() and (txns["timestamp"] < AS_OF).all()
    assert set(txns["status"]) == {"settled", "declined", "chargeback", "refunded"}


def test_truth_covers_every_account_with_rings_of_each_kind(world):
    truth = world.truth
    assert list(truth.columns) == TRUTH_COLUMNS
    assert truth["account_id"].tolist() == world.accounts["account_id"].tolist()
    assert truth["is_fraud"].mean() == pytest.approx(0.036, abs=0.002)  # 3% in rings, 0.6% lone
    fraud = truth[truth["is_fraud"] == 1]
    lone = fraud["ring_kind"] == LONE_KIND
    assert (fraud.loc[~lone, "ring_id"] != "").all() and (fraud.loc[lone, "ring_id"] == "").all()
    assert (truth.loc[truth["is_fraud"] == 0, ["ring_id", "ring_kind"]] == "").all().all()
    assert set(fraud["ring_kind"]) == set(RING_KINDS) | {LONE_KIND}
    assert 0.1 < lone.mean() < 0.25
    fraud = fraud[~lone]
    rings = fraud.groupby("ring_id").agg(size=("account_id", "size"), kind=("ring_kind", "first"))
    assert rings["kind"].value_counts().min() >= 5
    assert rings["size"].between(3, 27).all() and rings["size"].max() >= 15
    assert rings.index.str.fullmatch(r"(bust_out|ato_farm|mule_network)-\d+").all()
    assert set(truth["group_kind"]) == set(GROUP_KINDS) | {""}
    grouped = truth["group_kind"] != ""
    prefixes = truth.loc[grouped, "group_id"].str.rsplit("-", n=1).str[0]
    assert (prefixes == truth.loc[grouped, "group_kind"]).all()
    # Fraud accounts are scattered through the id space, not one block.
    positions = np.flatnonzero(truth["is_fraud"].to_numpy())
    assert positions.min() < len(truth) * 0.1 and positions.max() > len(truth) * 0.9
    # Some rings carry a confirmed label on a member; most fraud accounts carry none.
    labels = fraud["account_id"].map(world.accounts.set_index("account_id")["label"])
    assert 0 < (labels == "fraud").mean() < 0.2


def test_households_share_one_address_spelled_several_ways(keyed_links):
    addresses = keyed_links[(keyed_links["kind"] == "address") & (keyed_links["group_kind"] == "household")]
    per_key = addresses.groupby(["group_id", "key"]).agg(
        accounts=("account_id", "nunique"), spellings=("value", "nunique")
    )
    shared = per_key[per_key["accounts"] >= 2]
    assert shared.index.get_level_values("group_id").nunique() >= 1000
    assert (shared["spellings"] >= 2).sum() >= 500


def test_innocent_hubs_are_large(keyed_links):
    addresses = accounts_per_key(keyed_links, "address")
    ips = accounts_per_key(keyed_links, "ip")
    devices = accounts_per_key(keyed_links, "device")
    assert (addresses > 100).sum() >= 3  # parcel lockers
    assert ips.max() > 1000  # carrier NAT
    assert devices.max() > 100  # a store kiosk or a junk id
    junk = {"00000000000000000000000000000000", "unknown", "na", "none", "null"}
    assert devices.index.isin(junk).sum() >= 3
    corporate = keyed_links[(keyed_links["kind"] == "card") & (keyed_links["group_kind"] == "corporate_card")]
    assert corporate.groupby("key")["account_id"].nunique().max() >= 8


def test_rings_share_identifiers_and_fraud_uses_innocent_hubs(keyed_links):
    fraud = keyed_links[keyed_links["is_fraud"] == 1]
    shared = fraud.groupby(["ring_id", "kind", "key"])["account_id"].nunique()
    shared = shared[shared >= 2].reset_index()
    sharing_rings = shared["ring_id"].unique()
    kinds_per_ring = shared.groupby("ring_id")["kind"].nunique()
    assert (kinds_per_ring >= 4).sum() >= 5  # strong rings
    assert (kinds_per_ring <= 2).sum() >= 5  # weak rings
    assert len(sharing_rings) >= 0.8 * fraud["ring_id"].nunique()
    # Bust-out identities spell the same Gmail box in several ways.
    emails = fraud[(fraud["kind"] == "email") & (fraud["ring_kind"] == "bust_out")]
    spellings = emails.groupby("key")["value"].nunique()
    assert (spellings >= 3).sum() >= 3
    hub_ips = accounts_per_key(keyed_links, "ip")
    big_ips = hub_ips[hub_ips > 500].index
    assert fraud[(fraud["kind"] == "ip") & fraud["key"].isin(big_ips)]["account_id"].nunique() > 30


def test_ato_farms_are_old_accounts_with_a_fresh_shared_payout(world, keyed_links):
    created = world.accounts.set_index("account_id")["created_at"]
    ato = keyed_links[keyed_links["ring_kind"] == "ato_farm"]
    banks = ato[ato["kind"] == "bank_account"]
    payout = banks.groupby(["ring_id", "key"]).agg(
        accounts=("account_id", "nunique"), latest=("first_seen", "max"), earliest=("first_seen", "min")
    )
    payout = payout[payout["accounts"] >= 2]
    assert payout.index.get_level_values("ring_id").nunique() == ato["ring_id"].nunique()
    on_payout = banks[banks["key"].isin(payout.index.get_level_values("key"))]
    # Most payout users are years-old victims; the rest are the fraudster's fresh cash-out accounts.
    old = AS_OF - on_payout["account_id"].map(created) > pd.Timedelta(days=600)
    assert old.mean() > 0.8
    assert (AS_OF - on_payout.loc[old, "first_seen"] < pd.Timedelta(days=25)).all()
    assert (AS_OF - on_payout.loc[~old, "account_id"].map(created) < pd.Timedelta(days=70)).all()


def test_money_flows_fan_into_mules_and_legit_landlords(world):
    txns, truth = world.transactions, world.truth.set_index("account_id")
    p2p = txns[txns["counterparty_kind"] == "account"]
    payers_per_receiver = p2p.groupby("counterparty")["account_id"].nunique()
    kind = truth["ring_kind"].reindex(payers_per_receiver.index)
    mule_in = payers_per_receiver[kind == "mule_network"]
    assert (mule_in >= 3).sum() >= 20
    legit_fan_in = payers_per_receiver[truth["is_fraud"].reindex(payers_per_receiver.index) == 0]
    assert (legit_fan_in >= 15).sum() >= 10  # landlords and small businesses
    household_p2p = p2p[
        p2p["account_id"].map(truth["group_id"]).eq(p2p["counterparty"].map(truth["group_id"]))
        & p2p["account_id"].map(truth["group_kind"]).eq("household")
    ]
    assert len(household_p2p) >= 1000


def test_credit_behaviour_alone_does_not_separate_fraud(world):
    accounts = world.accounts.set_index("account_id")
    truth = world.truth.set_index("account_id")
    utilization = accounts["balance"] / accounts["credit_limit"]
    maxed_or_late = (utilization > 0.9) | (accounts["overdue_days"] > 0)
    bust_out = truth["ring_kind"] == "bust_out"
    assert maxed_or_late[bust_out].mean() > 0.9
    assert truth["is_fraud"][maxed_or_late].mean() < 0.4  # most maxed or late accounts are legit
    chargebacks = world.transactions[world.transactions["status"] == "chargeback"]["account_id"]
    assert (truth["is_fraud"].reindex(chargebacks.unique()) == 0).sum() >= 20  # friendly fraud


def test_spelling_habits_do_not_separate_fraud(keyed_links):
    emails = keyed_links[keyed_links["kind"] == "email"]
    gmail = emails["value"].str.lower().str.endswith("@gmail.com")
    share = gmail.groupby(emails["is_fraud"]).mean()
    assert abs(share[1] - share[0]) < 0.25
    addresses = keyed_links[keyed_links["kind"] == "address"]
    upper = addresses["value"].str.isupper()
    by_class = upper.groupby(addresses["is_fraud"]).mean()
    assert abs(by_class[1] - by_class[0]) < 0.1


def test_written_files_read_back_as_strings(tmp_path, world):
    paths = write_world(world, tmp_path / "csv")
    assert sorted(p.name for p in paths.values()) == [
        "accounts.csv", "links.csv", "transactions.csv", "truth.csv",
    ]  # fmt: skip
    links = pd.read_csv(paths["links"], dtype=str, keep_default_na=False)
    assert len(links) == len(world.links)
    assert {"N/A", "unknown"} <= set(links["value"])
    accounts = pd.read_csv(paths["accounts"], dtype=str, keep_default_na=False)
    assert accounts["account_id"].tolist() == world.accounts["account_id"].tolist()
    read_back = pd.to_datetime(accounts["created_at"]).to_numpy().astype("datetime64[s]")
    assert (read_back == world.accounts["created_at"].to_numpy().astype("datetime64[s]")).all()
    truth = pd.read_csv(paths["truth"], dtype=str, keep_default_na=False)
    assert set(truth["is_fraud"]) == {"0", "1"}
    parquet = write_world(world, tmp_path / "pq", format="parquet")
    assert pd.read_parquet(parquet["transactions"])["amount"].sum() == pytest.approx(world.transactions["amount"].sum())


def test_options_and_bad_arguments():
    small = generate_world(500, seed=1, as_of="2025-01-15", with_transactions=False, fraud_share=0.1)
    assert len(small.transactions) == 0 and list(small.transactions.columns) == TRANSACTION_COLUMNS
    assert (small.links["first_seen"] < pd.Timestamp("2025-01-15")).all()
    assert (small.truth["ring_id"] != "").sum() == 50 and (small.truth["ring_kind"] == LONE_KIND).sum() == 3
    assert generate_world(500, seed=1, fraud_share=0.0, lone_share=0.0).truth["is_fraud"].sum() == 0
    only_lone = generate_world(500, seed=1, fraud_share=0.0, lone_share=0.02).truth
    assert only_lone["is_fraud"].sum() == 10 and set(only_lone.loc[only_lone["is_fraud"] == 1, "ring_kind"]) == {
        LONE_KIND
    }
    with pytest.raises(ValueError, match="n_accounts"):
        generate_world(3, seed=1)
    with pytest.raises(ValueError, match="fraud_share"):
        generate_world(100, seed=1, fraud_share=0.9)
    with pytest.raises(ValueError, match="lone_share"):
        generate_world(100, seed=1, fraud_share=0.3, lone_share=0.3)
    with pytest.raises(ValueError, match="as_of 'soon'"):
        generate_world(100, seed=1, as_of="soon")


def test_example_script_writes_a_world_without_transactions(tmp_path):
    script = Path(__file__).resolve().parents[1] / "examples" / "generate.py"
    spec = importlib.util.spec_from_file_location("generate_example", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "world"
    (out).mkdir()
    (out / "transactions.csv").write_text("stale\n")
    assert module.main([str(out), "--accounts", "400", "--seed", "2", "--no-transactions"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["accounts.csv", "links.csv", "truth.csv"]
    accounts = pd.read_csv(out / "accounts.csv", dtype=str, keep_default_na=False)
    assert len(accounts) == 400


def test_innocent_groups_also_act_in_sync(world, keyed_links):
    """Look-alikes of ring behaviour: a family on a new IP the same day, a household late together."""
    recent = keyed_links[(keyed_links["kind"] == "ip") & (keyed_links["first_seen"] > AS_OF - pd.Timedelta(days=50))]
    recent = recent[recent["group_kind"] == "household"]
    burst = recent.groupby(["group_id", "key"]).agg(
        accounts=("account_id", "nunique"), span=("first_seen", lambda t: t.max() - t.min())
    )
    assert ((burst["accounts"] >= 3) & (burst["span"] < pd.Timedelta(days=2))).sum() >= 10
    accounts = world.accounts.merge(world.truth, on="account_id")
    late_households = accounts[(accounts["overdue_days"] > 0) & (accounts["group_kind"] == "household")]
    assert (late_households.groupby("group_id").size() >= 2).sum() >= 10


def test_legit_accounts_share_strong_identifiers_too(keyed_links):
    """National ids and cards are not fraud-only: repeat customers, spouses, families pay for kin."""
    legit = keyed_links[keyed_links["is_fraud"] == 0]
    per_key = legit.groupby(["kind", "key"])["account_id"].nunique()
    shared = per_key[per_key >= 2]
    assert shared.loc["national_id"].shape[0] >= 20  # about 35 expected at 20,000 accounts
    cards = legit[(legit["kind"] == "card") & (legit["group_kind"] == "household")]
    households_per_card = cards.groupby("key")["group_id"].nunique()
    assert (households_per_card >= 2).sum() >= 30  # a parent's card on a grown child's account


def normalized_links(world) -> pd.DataFrame:
    """Links as the detector sees them: canonical keys (fraudgraph.ingest.normalize), no value that
    carries no identity, no hub (shared by more accounts than the hub cap), truth attached."""
    links = world.links.assign(key=canonical_keys(world.links["kind"], world.links["value"]))
    links = links.dropna(subset=["key"]).drop_duplicates(["account_id", "kind", "key"])
    holders = links.groupby(["kind", "key"])["account_id"].transform("size")
    return links[holders <= HUB_CAP].merge(world.truth, on="account_id")


def transfers(world) -> pd.DataFrame:
    txns = world.transactions
    p2p = txns[(txns["counterparty_kind"] == "account") & (txns["status"] != "declined")]
    return p2p[p2p["account_id"] != p2p["counterparty"]]


@pytest.mark.parametrize("with_transactions", [True, False])
def test_every_ring_member_is_tied_to_its_ring(world, with_transactions):
    """A shared identifier value (after normalization, not a hub) or a transfer with another member."""
    if not with_transactions:
        world = generate_world(20_000, seed=12, with_transactions=False)
    links = normalized_links(world)
    ring = links[links["ring_id"] != ""]
    holders = ring.groupby(["ring_id", "kind", "key"])["account_id"].transform("size")
    tied = set(ring.loc[holders >= 2, "account_id"])
    ring_of = world.truth.set_index("account_id")["ring_id"]
    p2p = transfers(world)
    same_ring = p2p["account_id"].map(ring_of).pipe(lambda r: (r != "") & (r == p2p["counterparty"].map(ring_of)))
    tied |= set(p2p.loc[same_ring, "account_id"]) | set(p2p.loc[same_ring, "counterparty"])
    members = world.truth.loc[world.truth["ring_id"] != "", "account_id"]
    untied = members[~members.isin(tied)]
    assert len(members) >= 500 and untied.empty, f"{len(untied)} ring members share nothing with their ring"
    if not with_transactions:
        return
    # Weak rings stay weak: a good share of rings is tied by at most two kinds of identifier.
    kinds = (
        ring[holders >= 2].groupby("ring_id")["kind"].nunique().reindex(ring_of[ring_of != ""].unique(), fill_value=0)
    )
    assert (kinds <= 2).mean() > 0.3


def test_lone_fraudsters_share_nothing_with_other_fraud(world):
    truth = world.truth.set_index("account_id")
    lone = truth.index[truth["ring_kind"] == LONE_KIND]
    assert len(lone) == 120  # 0.6% of 20,000
    fraud_links = normalized_links(world).query("is_fraud == 1")
    holders = fraud_links.groupby(["kind", "key"])["account_id"].transform("nunique")
    shared = fraud_links[(holders >= 2) & fraud_links["account_id"].isin(lone)]
    assert shared.empty, shared.head().to_string()
    fraud = set(truth.index[truth["is_fraud"] == 1])
    p2p = transfers(world)
    with_fraud = (p2p["account_id"].isin(lone) & p2p["counterparty"].isin(fraud)) | (
        p2p["counterparty"].isin(lone) & p2p["account_id"].isin(fraud)
    )
    assert not with_fraud.any()
    # They still use hubs and have identifiers of their own, like everybody.
    all_links = world.links[world.links["account_id"].isin(lone)]
    assert all_links.groupby("account_id").size().reindex(lone, fill_value=0).min() >= 3
    # Bust-out individuals: line maxed, overdue; the confirmed ones through chargebacks.
    accounts = world.accounts.set_index("account_id").loc[lone]
    assert (accounts["balance"] / accounts["credit_limit"] > 0.85).mean() > 0.9
    assert (accounts["overdue_days"] > 0).mean() > 0.6
    confirmed = accounts.index[accounts["label"] == "fraud"]
    assert 0 < len(confirmed) < 0.3 * len(lone)
    charged_back = world.transactions.loc[world.transactions["status"] == "chargeback", "account_id"]
    assert charged_back.isin(confirmed).any()


def test_lone_fraudsters_are_not_told_apart_by_artefacts(world):
    """Ids scattered through the id space; creation dates and limits overlapping legit accounts."""
    truth, accounts = world.truth, world.accounts
    positions = np.flatnonzero((truth["ring_kind"] == LONE_KIND).to_numpy())
    assert positions.min() < len(truth) * 0.1 and positions.max() > len(truth) * 0.9
    lone = accounts[(truth["ring_kind"] == LONE_KIND).to_numpy()]
    legit = accounts[(truth["is_fraud"] == 0).to_numpy()]
    age_lone = (AS_OF - lone["created_at"]).dt.days
    age_legit = (AS_OF - legit["created_at"]).dt.days
    assert age_legit.quantile(0.2) < age_lone.median() < age_legit.quantile(0.8)
    assert legit["credit_limit"].quantile(0.2) < lone["credit_limit"].median() < legit["credit_limit"].quantile(0.8)
    assert lone["account_id"].str.fullmatch(r"A\d{7}").all()


def test_spellings_rendered_in_chunks_are_coded_as_when_rendered_whole(monkeypatch):
    # Above about a million accounts Arrow hands some renders back as chunked arrays; a 2M-account
    # `generate` failed on them ("ChunkedArray has no attribute indices").
    import pyarrow as pa

    from fraudgraph.synthetic.kinds import CARD, DEVICE
    from fraudgraph.synthetic.people import Spellings

    kind = np.array([DEVICE] * 6 + [CARD] * 4, dtype=np.int64)
    entity = np.array([1, 2, 2, 3, 1, 4, 7, 8, 7, 9], dtype=np.int64)
    variant = np.zeros(10, dtype=np.int64)
    whole = Spellings(5, [], []).render_values(kind, entity, variant)
    render = Spellings.render_devices

    def in_chunks(self, ent, var):
        text = render(self, ent, var)
        return pa.chunked_array([text.slice(0, 1), text.slice(1)])

    monkeypatch.setattr(Spellings, "render_devices", in_chunks)
    chunked = Spellings(5, [], []).render_values(kind, entity, variant)
    assert chunked[0].to_pylist() == whole[0].to_pylist()
    assert chunked[1].tolist() == whole[1].tolist()
    assert chunked[1][0] == chunked[1][4] and chunked[1][1] == chunked[1][2]  # same entity, same code
