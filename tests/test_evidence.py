"""The evidence-code registry: each code defined once, and every code detection emits is in it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraudgraph.detection.evidence import (
    ACCOUNT_REASON_CODES,
    ACCOUNT_REASONS,
    DEFAULT_EVIDENCE_WEIGHTS,
    PATTERN_CODES,
    RING_EVIDENCE,
    RING_REASON_CODES,
    SCORE_ORDER,
    RingFacts,
    ring_evidence,
)
from fraudgraph.detection.pipeline import detect
from fraudgraph.ingest.normalize import canonical_keys
from fraudgraph.synthetic.world import generate_world


def test_every_code_and_reason_code_is_registered_once():
    codes = [e.code for e in RING_EVIDENCE]
    assert len(codes) == len(set(codes))
    reason_codes = [c for e in RING_EVIDENCE for c in e.reasons]
    assert len(reason_codes) == len(set(reason_codes))
    account_codes = [r.code for r in ACCOUNT_REASONS]
    assert len(account_codes) == len(set(account_codes))


def test_scored_codes_have_a_weight_a_strength_and_a_measure():
    scored = [e for e in RING_EVIDENCE if e.weight is not None]
    for e in RING_EVIDENCE:
        assert (e.weight is not None) == (e.strength is not None) == (e.measure is not None), e.code
        assert e.measure is not None or e.explain is not None, e.code
        assert e.about, e.code
    assert sorted(SCORE_ORDER) == sorted(e.code for e in scored)
    assert {e.code: e.weight for e in scored} == DEFAULT_EVIDENCE_WEIGHTS
    patterns = {
        "BUST_OUT_PATTERN",
        "TAKEOVER_PATTERN",
        "MULE_PATTERN",
        "RECOMBINED_IDENTITY",
        "KNOWN_FRAUD_IN_RING",
        "INSTRUMENT_CROWD",
        "SPENDING_TOGETHER",
    }
    assert patterns == PATTERN_CODES


@pytest.fixture(scope="module")
def world_detection():
    world = generate_world(4000, 5)
    accounts = world.accounts.assign(properties="{}")
    accounts["label"] = accounts["label"].astype(object).where(accounts["label"].isin(["fraud", "legit"]), None)
    links = world.links.assign(key=canonical_keys(world.links["kind"], world.links["value"]))
    return detect(accounts, links, world.transactions, seed=0)


def test_codes_emitted_on_a_generated_world_are_all_registered(world_detection):
    ring_codes = {r["code"] for reasons in world_detection.rings["reasons"] for r in reasons}
    account_codes = {r["code"] for reasons in world_detection.account_scores["reasons"] for r in reasons}
    assert ring_codes <= RING_REASON_CODES, ring_codes - RING_REASON_CODES
    assert account_codes <= ACCOUNT_REASON_CODES, account_codes - ACCOUNT_REASON_CODES
    # The world has rings of every kind: many codes fire, so the check above is not vacuous.
    assert len(ring_codes) >= 8 and {"KNOWN_FRAUD_IN_RING", "OPENED_TOGETHER"} <= ring_codes
    assert {"IN_SUSPECT_RING", "KNOWN_FRAUD"} <= account_codes


def test_each_measure_reads_only_the_features_it_declares(world_detection):
    features = pd.DataFrame([ring["features"] for ring in world_detection.rings.to_dict("records")])
    full = ring_evidence(features)
    for e in RING_EVIDENCE:
        if e.measure is not None:
            alone = e.measure(features[list(e.features)])
            assert (alone == full[e.code].to_numpy()).all(), e.code


def test_each_explainer_reads_only_the_features_it_declares(world_detection):
    features = pd.DataFrame([ring["features"] for ring in world_detection.rings.to_dict("records")])
    evidence = ring_evidence(features)
    anomaly = np.linspace(0, 1, len(features))
    no_identifiers = pd.DataFrame(columns=["cluster", "kind", "key", "n_members", "n_accounts", "weight", "values"])
    emitted = set()
    for e in RING_EVIDENCE:
        if e.explain is None:
            continue
        declared = features[list(dict.fromkeys(("size", *e.features)))]
        facts = RingFacts(
            declared, evidence, anomaly, no_identifiers, pd.Series(dtype=object), pd.Series(dtype=object), 30.0
        )
        facts.collected = [[(1.0, {})] for _ in range(len(features))]
        found = list(e.explain(facts))
        assert {r["code"] for _, _, r in found} <= set(e.reasons), e.code
        emitted |= {r["code"] for _, _, r in found}
    assert {"OPENED_TOGETHER", "KNOWN_FRAUD_IN_RING", "UNUSUAL_RING"} <= emitted
