"""The ring evidence codes, each defined once: what it reads, how strong it is, what it weighs,
and how it is explained to an investigator.

A ring's score is a noisy-OR over evidence strengths in [0, 1] (``RingScorer``); its reasons are
plain-language sentences with the figures behind them. Both used to be written out code by code
in several places; here every code is one ``Evidence`` entry of ``RING_EVIDENCE``, and
``ring_evidence`` / ``ring_reasons`` are loops over it. Codes that only explain (a spending burst,
members 90+ days late, the anomaly score, verified-legit members) are entries without a weight.

The order of ``RING_EVIDENCE`` is the order reasons are collected in, which decides the order of
reasons of equal strength. ``SCORE_ORDER`` is the order the noisy-OR multiplies the weighted codes
in (floating-point products depend on it in the last bits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from fraudgraph.detection.features import PERSONAL_KINDS, group_lists
from fraudgraph.detection.keys import text_ranks

REASON_THRESHOLD = 0.3  # evidence strength from which a code is reported

# Shared identifiers a person should check first: strong kinds before medium before weak.
KIND_ORDER = {
    "device": 0,
    "card": 1,
    "bank_account": 2,
    "national_id": 3,
    "phone": 4,
    "email": 5,
    "address": 6,
    "ip": 7,
}
VERBS = {
    "device": "use",
    "card": "pay with",
    "bank_account": "pay out to",
    "national_id": "give",
    "address": "live at",
    "phone": "give",
    "email": "give",
    "ip": "connect from",
}


def clip01(x) -> np.ndarray:
    """``x`` as floats clipped to [0, 1], NaN as 0."""
    return np.clip(np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0), 0.0, 1.0)


def ramp(x, low: float, high: float) -> np.ndarray:
    """0 at or below ``low``, 1 at or above ``high``, linear between."""
    return clip01((np.nan_to_num(np.asarray(x, dtype=np.float64), nan=low) - low) / (high - low))


def reason(code: str, text: str, evidence: dict) -> dict:
    """One reason as stored: code, plain-language text, the figures behind it."""
    return {"code": code, "text": text, "evidence": evidence}


def fmt_days(days: float) -> str:
    days = float(days)
    return f"{days:.0f} day" + ("" if round(days) == 1 else "s")


# ---------------------------------------------------------------- the registry's shape

# (ring row, sort key: higher first, reason)
Explained = Iterable[tuple[int | np.integer, float | np.floating, dict]]


@dataclass
class RingFacts:
    """What the explainers read: ring features (index = cluster number), evidence strengths,
    anomaly, shared identifiers (cluster, kind, key, n_members, n_accounts, weight, values),
    confirmed fraud ids and top payees per cluster, and the reasons collected so far per ring."""

    features: pd.DataFrame
    evidence: pd.DataFrame
    anomaly: np.ndarray
    identifiers: pd.DataFrame
    known_fraud_ids: pd.Series
    top_payees: pd.Series
    burst_days: float
    max_identifiers: int = 3
    collected: list[list[tuple[float | np.floating, dict]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.row_of_cluster = pd.Series(np.arange(len(self.features)), index=self.features.index)
        self.clusters = self.features.index.to_numpy()
        self.size = self.features["size"].to_numpy()

    def col(self, name: str) -> np.ndarray:
        return self.features[name].to_numpy()

    def fire(self, code: str) -> np.ndarray:
        """Rows where evidence ``code`` is strong enough to report."""
        return np.flatnonzero(self.evidence[code].to_numpy() >= REASON_THRESHOLD)

    def count(self, share: np.ndarray, r: int | np.integer) -> int:
        """Members a share of ring ``r`` stands for."""
        return int(round(share[r] * self.size[r]))


@dataclass(frozen=True)
class Evidence:
    """One evidence code.

    code: the evidence code (column of ``ring_evidence``, key of the weights).
    strength: "strong" for patterns and confirmed fraud (they can carry a ring to the top),
        "weak" for single signs (together capped by ``RingScorer.generic_cap``), None for codes
        that only explain and do not score.
    weight: noisy-OR weight within its class when fully present (None: not scored).
    features: the ring features it reads (to measure it and to explain it).
    about: what it means, in plain language.
    reasons: the reason codes its explanation emits (usually ``(code,)``).
    measure: ring features -> strength in [0, 1] per ring (None: not scored).
    explain: RingFacts -> (ring row, sort key, reason) for the rings it explains.
    """

    code: str
    strength: Literal["strong", "weak"] | None
    weight: float | None
    features: tuple[str, ...]
    about: str
    reasons: tuple[str, ...] = ()
    measure: Callable[[pd.DataFrame], np.ndarray] | None = None
    explain: Callable[[RingFacts], Explained] | None = None


# ---------------------------------------------------------------- measures


def _f(features: pd.DataFrame, name: str) -> np.ndarray:
    return features[name].to_numpy(np.float64)


def _group(f: pd.DataFrame) -> np.ndarray:
    """Two accounts prove less than a crowd: a pair counts a third for single signs."""
    return ramp(f["size"].to_numpy(np.float64), 1.5, 3)


def _pattern_group(f: pd.DataFrame) -> np.ndarray:
    """A pair opened together, linked together and busted together is rare: 70% for patterns."""
    return np.where(f["size"].to_numpy(np.float64) >= 3, 1.0, 0.7)


def _sign(feature: str, low: float, high: float) -> Callable[[pd.DataFrame], np.ndarray]:
    """A single sign: the share ``feature`` ramped from ``low`` to ``high``, discounted for pairs."""

    def measure(f: pd.DataFrame) -> np.ndarray:
        return ramp(f[feature], low, high) * _group(f)

    return measure


def _shared_strong(f: pd.DataFrame) -> np.ndarray:
    return clip01(f["strong_member_share"]) * _group(f)


def _bust_out_credit(f: pd.DataFrame) -> np.ndarray:
    """How much the ring's opening core looks busted out on credit (maxed, late, spent in a burst)."""
    core = f["core_size"].to_numpy(np.float64)
    # A bust-out maxes every line: most of the core maxed, three or more of them. Honest groups
    # (roommates who opened together) rarely have more than one member at the limit.
    most_maxed = ramp(f["core_maxed_share"], 0.6, 0.95)
    several = ramp(f["core_maxed_share"].to_numpy(np.float64) * core, 1, 3)
    core_overdue = ramp(f["core_overdue_share"], 0.3, 0.7)
    # The bust itself: lines maxed by a burst of purchases within a week. A household hit by a
    # job loss is maxed and late too, but got there slowly. Not every member's burst is visible,
    # so half the core bursting is enough. A bust older than the transaction extract shows
    # as lines maxed and 90+ days past due together, which a recent shock does not reach.
    # Without transactions, balances and arrears have to do.
    burst_share = f["core_spend_burst_share"].to_numpy(np.float64)
    no_tx = np.isnan(burst_share)
    spent = np.where(no_tx, 1.0, ramp(burst_share, 0.25, 0.5))
    written_off = ramp(f["core_severe_overdue_share"], 0.3, 0.6)
    credit = np.maximum(most_maxed, core_overdue) * several * np.maximum(spent, written_off)
    # A core of two must both be maxed, and both be 90+ days late or both have spent in a burst
    # (both merely late, when there are no transactions to tell).
    both_maxed = ramp(f["core_maxed_share"], 0.75, 1.0)
    both_spent = np.where(no_tx, 0.0, ramp(burst_share, 0.75, 1.0))
    both_late = np.where(
        no_tx, ramp(f["core_overdue_share"], 0.75, 1.0), ramp(f["core_severe_overdue_share"], 0.75, 1.0)
    )
    pair_credit = np.minimum(both_maxed, np.maximum(both_late, both_spent))
    return np.where(core >= 3, credit, np.where(core == 2, pair_credit, 0.0))


def _bust_out(f: pd.DataFrame) -> np.ndarray:
    """Judged on the ring's opening core (the most members opened within a few weeks), so a farm
    glued to a neighbour's family by a shared Wi-Fi still shows."""
    size = f["size"].to_numpy(np.float64)
    core = f["core_size"].to_numpy(np.float64)
    core_share = core / np.maximum(size, 1)
    chargebacks = ramp(f["chargeback_member_share"], 0.2, 0.5)
    core_group = np.where(core >= 3, 1.0, 0.7)
    # Bust-outs cash in within a year or two of opening; accounts opened together six years ago
    # and now behind on payments are people in trouble, not a farm.
    young = 1.0 - ramp(f["core_median_age_days"], 730, 1460)
    credit = _bust_out_credit(f)
    return np.maximum(credit, chargebacks * (core >= 3)) * young * core_group * ramp(core_share, 0.1, 0.3)


def _fresh_exposure(f: pd.DataFrame) -> np.ndarray:
    """Credit at risk (lines and balances) in a ring of new accounts: money a bust-out has not
    taken yet. A long-standing group's lines have a repayment history behind them."""
    fresh = 1.0 - ramp(f["median_age_days"], 180, 365)
    return ramp(f["exposure"], 15_000, 60_000) * fresh * _group(f)


def _instrument_crowd(f: pd.DataFrame) -> np.ndarray:
    """Many accounts behind one card, bank account or national id. A family card has two to four
    holders and an employer's card is allow-listed in the policy; a crowd of strangers on one card
    is what a ring looks like before it has cost anything. Accounts that came to share an
    instrument as they were opened over years (a firm's card as staff join, a care home's bank
    account as residents move in) are an institution, not a ring: the evidence fades as the
    accounts' opening dates spread from one year to three, and with how long they have stood."""
    crowd = ramp(f["max_instrument_holders"], 4, 10)
    spread = ramp(f["created_span_days"], 365, 1095)
    standing = ramp(f["median_age_days"], 730, 1460)
    return crowd * (1.0 - np.maximum(spread, standing))


def _spending_together(f: pd.DataFrame) -> np.ndarray:
    """Accounts tied by a device, card, bank account or national id that ran up their lines in a
    week-long burst each, before anyone is late: the bust-out under way, not after the fact.
    Three or more of them, most of the ring; lines still in use and fresh accounts opened
    together say it louder. Without transactions the burst cannot be seen (0)."""
    burst = _f(f, "spend_burst_share")
    seen = ~np.isnan(burst)
    burst = np.nan_to_num(burst)
    size = _f(f, "size")
    several = ramp(burst * size, 2, 3)
    most = ramp(burst, 0.4, 0.7)
    # A line run up and then paid down again (from victims' money, as mules do) still burst.
    used = 0.6 + 0.4 * ramp(f["mean_utilization"], 0.2, 0.5)
    tied = ramp(f["strong_member_share"], 0.4, 0.8)
    fresh = ramp(f["opened_together_share"], 0.4, 0.8) * (1.0 - ramp(f["median_age_days"], 180, 365))
    return np.where(seen, several * most * used * tied * (0.7 + 0.3 * fresh), 0.0)


def _takeover(f: pd.DataFrame) -> np.ndarray:
    size = f["size"].to_numpy(np.float64)
    # In a pair, both accounts must be long-standing ones that just picked up the shared identifiers.
    burst = np.where(
        size >= 3,
        ramp(f["recent_link_old_account_share"], 0.3, 0.7),
        ramp(f["recent_link_old_account_share"], 0.75, 1.0),
    )
    payout = ramp(f["new_shared_payout_share"], 0.3, 0.7)
    synced = ramp(f["link_sync_share"], 0.4, 0.8)
    # Co-residents picking up a new router or joint account together are a family, not a takeover.
    apart = 1.0 - ramp(f["max_address_cover"], 0.3, 0.7)
    # A takeover plants strong identifiers (a device, a payout account); a shared IP alone is a
    # family switching internet provider.
    planted = ramp(f["strong_member_share"], 0.3, 0.7)
    return burst * np.maximum(payout, synced * planted) * apart * _pattern_group(f)


def _mule(f: pd.DataFrame) -> np.ndarray:
    size = f["size"].to_numpy(np.float64)
    pass_through = ramp(f["pass_through_share"], 0.25, 0.6)
    # Passing on money from many payers is rare among honest customers; paying it to the same
    # collector inside the ring completes the picture.
    collector = ramp(f["n_collectors"], 0, 1)
    # One landlord forwarding rent to a property manager is one pass-through account; a network
    # has several.
    several_mules = ramp(f["pass_through_share"].to_numpy(np.float64) * size, 1, 2)
    return pass_through * several_mules * (0.75 + 0.25 * collector) * _pattern_group(f)


def _known_fraud(f: pd.DataFrame) -> np.ndarray:
    """One confirmed account convicts a small ring; in a big cluster it may be one account glued
    to a crowd of neighbours, so it needs company."""
    size = f["size"].to_numpy(np.float64)
    return clip01(f["known_fraud"].to_numpy(np.float64) / np.maximum(1.0, 0.15 * size))


def recombined_identity_evidence(features: pd.DataFrame) -> np.ndarray:
    """Strength in [0, 1] of the recombined-identity (synthetic identity) evidence of each ring.

    Unlike the behaviour patterns this needs no credit data, transactions or dates: it reads only
    who shares which identity elements (features._recombined_features). The strengths, times the
    code's weight 0.9, give the tier the ring reaches on this evidence alone:

    - a national id whose holders disagree on phone or e-mail (more than they agree, see
      features.identity_conflicts): 0.8 (suspend) when both differ: the classic SSN misuse,
      nothing else matches; 1.0 when three or more accounts hold it; 0.45 (below review) for a
      pair where one differs and the other is unknown: on generated worlds that is a repeat
      customer with a new e-mail and a typo in the address as often as not.
    - an e-mail shared by holders of different national ids: 0.6 (review). E-mail boxes are
      personal and not reissued; a family box comes with the family's shared address, which
      makes it no recombination.
    - a phone shared by holders of different national ids: 0 on its own. Carriers recycle
      numbers and family phone plans span households at different addresses: on generated
      worlds a 0.3 here lifted such families to 0.48, and counting two such phones, or one
      phone behind three accounts, as a pattern put 26 innocent accounts per 100,000 at review.
      A phone still counts as a kind of the mosaic below.
    - a mosaic, two or more kinds of recombined element (A and B share a national id, B and C a
      phone, ...): 1.0 with three or more members on them (suspend), 0.7 for a pair (review).
      Innocent groups recombine one kind at most: a landline or a recycled number.
    The strength is scaled down when the accounts on varied elements are under half the ring
    (full at half, none at a quarter).
    - three or more accounts, a recombined national id or e-mail, and links over two or more
      personal kinds (A and C share a national id and e-mail, A and B an e-mail but not the
      national id): 0.7 (review). The same for three or more accounts on varied elements of two
      or more kinds (A and C one national id on two phones, A and B one phone for two national
      ids): one varied element is a person who changed phone, two kinds of them are a mosaic.
    """
    f = features
    conflicts = _f(f, "national_id_conflicts")
    holders = _f(f, "national_id_holders")
    misuse = np.where(conflicts <= 0, 0.0, np.where(holders >= 3, 1.0, np.where(conflicts >= 2, 0.8, 0.45)))
    email = np.where(_f(f, "email_across_ids") > 0, 0.6, 0.0)
    several_kinds = _f(f, "recombined_kinds") >= 2
    crowd = _f(f, "recombined_members") >= 3
    mosaic = np.where(several_kinds, np.where(crowd, 1.0, 0.7), 0.0)
    not_phone = _f(f, "recombined_identifiers") - _f(f, "phone_across_ids")
    partial = (not_phone >= 1) & (_f(f, "size") >= 3) & (_f(f, "shared_personal_kinds") >= 2)
    # Varied elements over two kinds across three accounts: the same national id on two accounts
    # with different phones, one of which another identity uses too (A and C one identity on
    # two phones, A and B one phone for two identities).
    varied = (_f(f, "size") >= 3) & (_f(f, "varied_kinds") >= 2) & (_f(f, "varied_members") >= 3)
    # Two accounts that give two of the three personal elements alike and differ on the third,
    # with no home or device in common to say it is one person coming back: one person holding
    # credit under recombined details, a first-party fraud sign worth a review (0.6).
    two_of_three = _f(f, "two_of_three_members") >= 2
    strength = np.maximum.reduce(
        [misuse, email, mosaic, np.where(partial | varied, 0.7, 0.0), np.where(two_of_three, 0.6, 0.0)]
    )
    # A recombined pair glued to a crowd of neighbours (a building's Wi-Fi) convicts the pair, not
    # the crowd: the evidence fades when the accounts on varied elements are under half the ring.
    coverage = _f(f, "varied_members") / np.maximum(_f(f, "size"), 1)
    return strength * ramp(coverage, 0.25, 0.5)


# ---------------------------------------------------------------- explainers


def _explain_shared(facts: RingFacts) -> Explained:
    """The ring's shared identifiers, strongest kinds first, a few per ring."""
    identifiers = facts.identifiers
    if not len(identifiers):
        return
    # sort_values(["cluster", kind order, "n_members", "key"], ascending=[True, True, False, True])
    # then the first few of each cluster, on numbers: the keys ranked by Arrow's sort, not pandas'.
    order = identifiers["kind"].map(KIND_ORDER).fillna(9).to_numpy(dtype=np.float64)
    cluster = identifiers["cluster"].to_numpy()
    rows = np.lexsort((text_ranks(identifiers["key"]), -identifiers["n_members"].to_numpy(np.float64), order, cluster))
    sorted_cluster = cluster[rows]
    at = np.arange(len(rows))
    starts = np.r_[True, sorted_cluster[1:] != sorted_cluster[:-1]]
    place = at - np.maximum.accumulate(np.where(starts, at, 0))  # place within its cluster
    top = identifiers.take(rows[place < facts.max_identifiers])
    rows = facts.row_of_cluster.reindex(top["cluster"]).to_numpy()
    kinds = top["kind"].tolist()
    # What depends on the kind alone, once per kind: its code, the words around the count and
    # the key, its strength (300k reasons at 1M accounts).
    said = {
        kind: (
            f"SHARED_{kind.upper()}",
            f" accounts {VERBS.get(kind, 'share')} {kind.replace('_', ' ')} ",
            0.6 if kind in ("device", "card", "bank_account", "national_id") else 0.5,
        )
        for kind in set(kinds)
    }
    # Plain Python numbers (tolist): numpy scalars make each comparison and format slower.
    for row, kind, key, n_mem, n_acc, weight, values in zip(
        rows.tolist(),
        kinds,
        top["key"].tolist(),
        top["n_members"].astype(np.int64).tolist(),
        top["n_accounts"].astype(np.int64).tolist(),
        top["weight"].astype(np.float64).tolist(),
        top["values"].tolist(),
    ):
        if row < 0 or row != row:  # absent (NaN)
            continue
        code, words, strength = said[kind]
        text = f"{n_mem}{words}{key}"
        if n_acc > n_mem:
            text += f" ({n_acc} accounts in all)"
        evidence = {
            "kind": kind,
            "key": key,
            "values": list(values) if isinstance(values, (list, tuple, np.ndarray)) else [],
            "n_members": n_mem,
            "n_accounts": n_acc,
            "weight": round(weight, 4),
        }
        yield int(row), strength, reason(code, text, evidence)


def _explain_known_fraud(facts: RingFacts) -> Explained:
    kf = facts.col("known_fraud")
    for r in np.flatnonzero(kf > 0):
        ids = list(facts.known_fraud_ids.get(facts.clusters[r], []))
        n = int(kf[r])
        text = f"{n} confirmed fraud account{'s' if n != 1 else ''} in the ring"
        yield r, 2.0, reason("KNOWN_FRAUD_IN_RING", text, {"account_ids": ids[:20], "n_known_fraud": n})


def _explain_opened(facts: RingFacts) -> Explained:
    e, span, together = (
        facts.evidence["OPENED_TOGETHER"].to_numpy(),
        facts.col("created_span_days"),
        facts.col("opened_together_share"),
    )
    size, age = facts.size, facts.col("median_age_days")
    for r in facts.fire("OPENED_TOGETHER"):
        n_t = facts.count(together, r)
        window = span[r] if n_t == size[r] else None
        text = (
            f"{n_t} of {size[r]} accounts opened within {fmt_days(window)}"
            if window is not None
            else f"{n_t} of {size[r]} accounts opened within a few weeks of each other"
        )
        evidence = {
            "n_opened_together": n_t,
            "created_span_days": round(float(span[r]), 1),
            "median_age_days": round(float(age[r]), 1),
        }
        yield r, e[r], reason("OPENED_TOGETHER", text, evidence)


def _explain_burst(facts: RingFacts) -> Explained:
    e, share, days = (
        facts.evidence["RECENT_LINK_BURST"].to_numpy(),
        facts.col("recent_link_old_account_share"),
        facts.burst_days,
    )
    for r in facts.fire("RECENT_LINK_BURST"):
        n = facts.count(share, r)
        text = f"{n} long-standing accounts picked up shared identifiers in the last {fmt_days(days)}"
        yield r, e[r], reason("RECENT_LINK_BURST", text, {"n_accounts": n, "window_days": days})


def _explain_exposure(facts: RingFacts) -> Explained:
    e, exposure = facts.evidence["LARGE_EXPOSURE"].to_numpy(), facts.col("exposure").astype(np.float64)
    for r in facts.fire("LARGE_EXPOSURE"):
        text = (
            f"{facts.size[r]} new accounts hold {exposure[r]:,.0f} of credit between them (lines and balances at risk)"
        )
        yield r, 0.3 + 0.3 * e[r], reason("LARGE_EXPOSURE", text, {"exposure": round(float(exposure[r]), 2)})


def _explain_payout(facts: RingFacts) -> Explained:
    e, share, days = (
        facts.evidence["NEW_SHARED_PAYOUT"].to_numpy(),
        facts.col("new_shared_payout_share"),
        facts.burst_days,
    )
    banks = {}
    if len(facts.identifiers):
        b = facts.identifiers[facts.identifiers["kind"] == "bank_account"]
        banks = group_lists(b["cluster"].to_numpy(), b["key"].to_numpy(), limit=3).to_dict()
    for r in facts.fire("NEW_SHARED_PAYOUT"):
        n = facts.count(share, r)
        text = f"{n} accounts added the same payout bank account in the last {fmt_days(days)}"
        evidence = {"n_accounts": n, "bank_accounts": banks.get(facts.clusters[r], []), "window_days": days}
        yield r, e[r], reason("NEW_SHARED_PAYOUT", text, evidence)


def _explain_maxed(facts: RingFacts) -> Explained:
    e, maxed = facts.evidence["MAXED_CREDIT"].to_numpy(), facts.col("maxed_share")
    util, exposure = facts.col("mean_utilization"), facts.col("exposure")
    for r in facts.fire("MAXED_CREDIT"):
        n = facts.count(maxed, r)
        text = f"{n} of {facts.size[r]} accounts use 90% or more of their credit line"
        evidence = {
            "n_maxed": n,
            "mean_utilization": round(float(np.nan_to_num(util[r])), 3),
            "exposure": round(float(exposure[r]), 2),
        }
        yield r, e[r], reason("MAXED_CREDIT", text, evidence)


def _explain_overdue(facts: RingFacts) -> Explained:
    e, od, od_days = (
        facts.evidence["OVERDUE_TOGETHER"].to_numpy(),
        facts.col("overdue_share"),
        facts.col("mean_overdue_days"),
    )
    for r in facts.fire("OVERDUE_TOGETHER"):
        n = facts.count(od, r)
        evidence = {"n_overdue": n, "mean_overdue_days": round(float(od_days[r]), 1)}
        yield r, e[r], reason("OVERDUE_TOGETHER", f"{n} of {facts.size[r]} accounts are past due", evidence)


def _explain_spending_burst(facts: RingFacts) -> Explained:
    """Bursts among the accounts opened together; failing that, across the ring (members who
    joined one by one and each ran up the line in a week)."""
    core_n, core_spent = facts.col("core_size"), np.nan_to_num(facts.col("core_spend_burst_share").astype(np.float64))
    spent = np.nan_to_num(facts.col("spend_burst_share").astype(np.float64))
    in_core = (core_spent * core_n >= 2) & (core_spent >= 0.3)
    for r in np.flatnonzero(in_core):
        n = int(round(core_spent[r] * core_n[r]))
        text = (
            f"{n} of the {int(core_n[r])} accounts opened together ran up a fifth or more of their credit line"
            " within a week"
        )
        yield (
            r,
            0.5 + 0.4 * core_spent[r],
            reason("SPENDING_BURST", text, {"n_accounts": n, "core_size": int(core_n[r])}),
        )
    for r in np.flatnonzero(~in_core & (spent * facts.size >= 2) & (spent >= 0.3)):
        n = facts.count(spent, r)
        text = f"{n} of {facts.size[r]} accounts each ran up a fifth or more of their credit line within a week"
        yield r, 0.5 + 0.4 * spent[r], reason("SPENDING_BURST", text, {"n_accounts": n})


def _explain_severe(facts: RingFacts) -> Explained:
    severe, size = facts.col("severe_overdue_share"), facts.size
    for r in np.flatnonzero((severe * size >= 2) & (severe >= 0.3)):
        n = facts.count(severe, r)
        text = f"{n} of {size[r]} accounts are 90 or more days past due"
        yield r, 0.4 + 0.4 * severe[r], reason("SEVERELY_PAST_DUE", text, {"n_accounts": n})


def _explain_chargebacks(facts: RingFacts) -> Explained:
    e, members, share = (
        facts.evidence["CHARGEBACKS"].to_numpy(),
        facts.col("chargeback_member_share"),
        facts.col("chargeback_share"),
    )
    for r in facts.fire("CHARGEBACKS"):
        n = facts.count(members, r)
        evidence = {"n_accounts": n, "chargeback_share": round(float(share[r]), 3)}
        yield r, e[r], reason("CHARGEBACKS", f"{n} of {facts.size[r]} accounts had chargebacks", evidence)


def _explain_pass_through(facts: RingFacts) -> Explained:
    e, pt, fan_in, internal = (
        facts.evidence["PASS_THROUGH_MONEY"].to_numpy(),
        facts.col("pass_through_share"),
        facts.col("fan_in"),
        facts.col("internal_flow"),
    )
    for r in facts.fire("PASS_THROUGH_MONEY"):
        n = facts.count(pt, r)
        payees = list(facts.top_payees.get(facts.clusters[r], []))
        text = f"{n} of {facts.size[r]} accounts pass on money from {int(fan_in[r])} outside payers"
        if payees:
            text += f" to the same accounts ({', '.join(payees[:3])})"
        evidence = {
            "n_pass_through": n,
            "n_payers": int(fan_in[r]),
            "collectors": payees[:10],
            "internal_flow": round(float(internal[r]), 2),
        }
        yield r, e[r], reason("MONEY_FAN_IN", text, evidence)


def _plural(kind: str) -> str:
    return kind.replace("_", " ") + "s"


def _recombined_sentence(row) -> tuple[str, dict]:
    """One shared identity element whose holders differ on the rest: its sentence and evidence."""
    values = list(row.values) if isinstance(row.values, (list, tuple, np.ndarray)) else []
    shown = values[0] if values else row.key
    differs = [k for i, k in enumerate(PERSONAL_KINDS) if int(row.conflicts) >> i & 1]
    parts = []
    for kind in differs:
        n_distinct = int(getattr(row, f"distinct_{kind}"))
        if n_distinct >= row.n_members:
            parts.append(("own", kind))
        else:
            parts.append(("some", f"{n_distinct} different {_plural(kind)}"))
    own = [k.replace("_", " ") for how, k in parts if how == "own"]
    some = [k for how, k in parts if how == "some"]
    clauses = []
    if own:
        clauses.append(f"each has its own {' and '.join(own)}")
    if some:
        clauses.append(f"they use {' and '.join(some)}")
    sentence = f"{row.n_members} accounts share {row.kind.replace('_', ' ')} {shown} but {' and '.join(clauses)}"
    item = {
        "kind": row.kind,
        "key": row.key,
        "values": values,
        "n_members": int(row.n_members),
        "differs_in": differs,
        "recombined": bool(row.recombined),
    }
    return sentence, item


# Recombined before merely varied; national ids first (the anchor of an identity), then e-mails, phones.
_RECOMBINED_KIND_ORDER = {"national_id": 0, "email": 1, "phone": 2}


def _explain_recombined(facts: RingFacts, max_identifiers: int = 5) -> Explained:
    """RECOMBINED_IDENTITY reasons, for the rings where the evidence fires (not every ring)."""
    identifiers, features = facts.identifiers, facts.features
    if "RECOMBINED_IDENTITY" not in facts.evidence or "recombined" not in identifiers:
        return
    strength = facts.evidence["RECOMBINED_IDENTITY"].to_numpy()
    fired = facts.fire("RECOMBINED_IDENTITY")
    if len(fired) == 0:
        return
    varied = (
        identifiers["varied"].to_numpy(bool) if "varied" in identifiers else identifiers["recombined"].to_numpy(bool)
    )
    rec = identifiers[varied & identifiers["cluster"].isin(facts.clusters[fired]).to_numpy()]
    order = _RECOMBINED_KIND_ORDER
    rec = rec.assign(order=rec["kind"].map(order).to_numpy(), plain=~rec["recombined"].to_numpy(bool)).sort_values(
        ["cluster", "plain", "order", "n_members", "key"], ascending=[True, True, True, False, True]
    )
    # Every holder of a recombined element also holds a varied one (recombined implies varied).
    members = (
        features["varied_members"].to_numpy()
        if "varied_members" in features
        else features["recombined_members"].to_numpy()
    )
    # The rows as tuples once (itertuples per ring cost 2 ms each, for its class), then ring by
    # ring: the frame is sorted by cluster.
    if rec.empty:
        return
    rows = list(rec.itertuples(index=False))
    clusters, kinds_of = rec["cluster"].to_numpy(), rec["kind"].to_numpy(dtype=object)
    bounds = np.flatnonzero(np.r_[True, clusters[1:] != clusters[:-1], True]).tolist()
    for start, stop in zip(bounds[:-1], bounds[1:]):
        r = int(facts.row_of_cluster[clusters[start]])
        sentences, items = zip(*(_recombined_sentence(row) for row in rows[start : min(stop, start + max_identifiers)]))
        kinds = sorted(set(kinds_of[start:stop]), key=lambda kind: order.get(kind, len(order)))
        text = sentences[0]
        if stop - start > 1:
            more = stop - start - 1
            text += (
                f"; {more} more identity element{'s' if more > 1 else ''} shared the same way "
                f"({', '.join(k.replace('_', ' ') for k in kinds)} in all) tie{'' if more > 1 else 's'} "
                f"{int(members[r])} accounts into one mosaic"
            )
        evidence = {
            "identifiers": list(items),
            "n_recombined": stop - start,
            "kinds": kinds,
            "n_accounts": int(members[r]),
            "strength": round(float(strength[r]), 3),
        }
        yield r, 1.0 + float(strength[r]), reason("RECOMBINED_IDENTITY", text, evidence)


def _explain_linked(facts: RingFacts) -> Explained:
    e_burst = facts.evidence["RECENT_LINK_BURST"].to_numpy()
    e, sync = facts.evidence["LINKED_TOGETHER"].to_numpy(), facts.col("link_sync_share")
    for r in facts.fire("LINKED_TOGETHER"):
        if e_burst[r] >= REASON_THRESHOLD:
            continue  # the burst says it more precisely
        n = facts.count(sync, r)
        text = f"{n} of {facts.size[r]} accounts started using their shared identifiers within days of each other"
        yield r, e[r] * 0.6, reason("LINKED_TOGETHER", text, {"n_accounts": n})


def _explain_unusual(facts: RingFacts) -> Explained:
    """Only next to other reasons: an anomaly on its own explains nothing."""
    anomaly = facts.anomaly
    for r in np.flatnonzero(anomaly >= 0.5):
        if facts.collected[r]:
            text = "the ring's features are unlike ordinary groups of linked accounts"
            yield r, anomaly[r] * 0.5, reason("UNUSUAL_RING", text, {"anomaly": round(float(anomaly[r]), 3)})


def _explain_legit(facts: RingFacts) -> Explained:
    legit = facts.col("known_legit")
    for r in np.flatnonzero(legit > 0):
        text = f"{int(legit[r])} of {facts.size[r]} accounts are verified legitimate"
        yield r, 0.1, reason("VERIFIED_LEGIT_MEMBERS", text, {"n_known_legit": int(legit[r])})


# ---------------------------------------------------------------- the registry

# Ring features RECOMBINED_IDENTITY reads (features._recombined_features).
RECOMBINED_FEATURES = (
    "recombined_identifiers",
    "recombined_kinds",
    "shared_personal_kinds",
    "recombined_members",
    "varied_kinds",
    "varied_members",
    "national_id_conflicts",
    "national_id_holders",
    "email_across_ids",
    "phone_across_ids",
    "phone_across_ids_holders",
    "two_of_three_members",
)

# In the order reasons are collected (reasons of equal strength keep it). Weights: how much each
# code, fully present, says, within its class. The *_PATTERN codes are conjunctions of the
# plain ones: one sign alone is common among innocent groups (couples open accounts the same
# week, families share a card), the combination is not.
RING_EVIDENCE: tuple[Evidence, ...] = (
    Evidence(
        "SHARED_STRONG_IDENTIFIER",
        "weak",
        0.3,
        ("size", "strong_member_share"),
        "members share a device, card, payout account or national id; the reasons name the shared identifiers",
        tuple(f"SHARED_{kind.upper()}" for kind in KIND_ORDER),
        _shared_strong,
        _explain_shared,
    ),
    Evidence(
        "KNOWN_FRAUD_IN_RING",
        "strong",
        0.6,
        ("size", "known_fraud"),
        "confirmed fraud accounts among the members",
        ("KNOWN_FRAUD_IN_RING",),
        _known_fraud,
        _explain_known_fraud,
    ),
    Evidence(
        "OPENED_TOGETHER",
        "weak",
        0.3,
        ("size", "opened_together_share", "created_span_days", "median_age_days"),
        "most members opened their accounts within a few weeks of each other",
        ("OPENED_TOGETHER",),
        _sign("opened_together_share", 0.5, 0.9),
        _explain_opened,
    ),
    Evidence(
        "RECENT_LINK_BURST",
        "weak",
        0.4,
        ("size", "recent_link_old_account_share"),
        "long-standing accounts picked up shared identifiers just now",
        ("RECENT_LINK_BURST",),
        _sign("recent_link_old_account_share", 0.3, 0.7),
        _explain_burst,
    ),
    Evidence(
        "NEW_SHARED_PAYOUT",
        "weak",
        0.4,
        ("size", "new_shared_payout_share"),
        "members added the same payout bank account just now",
        ("NEW_SHARED_PAYOUT",),
        _sign("new_shared_payout_share", 0.3, 0.7),
        _explain_payout,
    ),
    Evidence(
        "MAXED_CREDIT",
        "weak",
        0.4,
        ("size", "maxed_share", "mean_utilization", "exposure"),
        "members use 90% or more of their credit line",
        ("MAXED_CREDIT",),
        _sign("maxed_share", 0.3, 0.7),
        _explain_maxed,
    ),
    Evidence(
        "LARGE_EXPOSURE",
        "weak",
        0.3,
        ("size", "exposure", "median_age_days"),
        "much credit at risk in a ring of new accounts that has not repaid yet: urgent when a pattern is"
        " there too (alone it decides nothing)",
        ("LARGE_EXPOSURE",),
        _fresh_exposure,
        _explain_exposure,
    ),
    Evidence(
        "OVERDUE_TOGETHER",
        "weak",
        0.3,
        ("size", "overdue_share", "mean_overdue_days"),
        "members are past due",
        ("OVERDUE_TOGETHER",),
        _sign("overdue_share", 0.3, 0.7),
        _explain_overdue,
    ),
    Evidence(
        "SPENDING_BURST",
        None,
        None,
        ("size", "core_size", "core_spend_burst_share", "spend_burst_share"),
        "accounts (opened together, or the ring's members) ran up their credit lines within a week",
        ("SPENDING_BURST",),
        explain=_explain_spending_burst,
    ),
    Evidence(
        "SEVERELY_PAST_DUE",
        None,
        None,
        ("size", "severe_overdue_share"),
        "members are 90 or more days past due",
        ("SEVERELY_PAST_DUE",),
        explain=_explain_severe,
    ),
    Evidence(
        "CHARGEBACKS",
        "weak",
        0.4,
        ("size", "chargeback_member_share", "chargeback_share"),
        "members had chargebacks",
        ("CHARGEBACKS",),
        _sign("chargeback_member_share", 0.2, 0.5),
        _explain_chargebacks,
    ),
    Evidence(
        "PASS_THROUGH_MONEY",
        "weak",
        0.5,
        ("size", "pass_through_share", "fan_in", "internal_flow"),
        "members pass on money from many outside payers",
        ("MONEY_FAN_IN",),
        _sign("pass_through_share", 0.25, 0.6),
        _explain_pass_through,
    ),
    Evidence(
        "RECOMBINED_IDENTITY",
        "strong",
        0.9,
        ("size", *RECOMBINED_FEATURES),
        "identity elements shared in a mosaic: synthetic identities",
        ("RECOMBINED_IDENTITY",),
        recombined_identity_evidence,
        _explain_recombined,
    ),
    Evidence(
        "LINKED_TOGETHER",
        "weak",
        0.3,
        ("size", "link_sync_share"),
        "members started using their shared identifiers within days of each other",
        ("LINKED_TOGETHER",),
        _sign("link_sync_share", 0.4, 0.8),
        _explain_linked,
    ),
    Evidence(
        "UNUSUAL_RING",
        None,
        None,
        (),
        "the ring's features are unlike ordinary groups (IsolationForest, weighted by RingScorer.anomaly_weight)",
        ("UNUSUAL_RING",),
        explain=_explain_unusual,
    ),
    Evidence(
        "VERIFIED_LEGIT_MEMBERS",
        None,
        None,
        ("size", "known_legit"),
        "verified-legitimate members (they lower the score: RingScorer.legit_damping)",
        ("VERIFIED_LEGIT_MEMBERS",),
        explain=_explain_legit,
    ),
    Evidence(
        "INSTRUMENT_CROWD",
        "strong",
        0.6,
        ("max_instrument_holders", "median_age_days", "created_span_days"),
        "many accounts behind one card, bank account or national id",
        measure=_instrument_crowd,
    ),
    Evidence(
        "SPENDING_TOGETHER",
        "strong",
        0.75,
        (
            "size",
            "spend_burst_share",
            "mean_utilization",
            "strong_member_share",
            "opened_together_share",
            "median_age_days",
        ),
        "accounts tied by a strong identifier ran up their lines in a burst, before anyone is late",
        measure=_spending_together,
    ),
    Evidence(
        "BUST_OUT_PATTERN",
        "strong",
        0.95,
        (
            "size",
            "core_size",
            "core_maxed_share",
            "core_overdue_share",
            "core_severe_overdue_share",
            "core_spend_burst_share",
            "core_median_age_days",
            "chargeback_member_share",
        ),
        "opened together, linked together, then maxed or past due",
        measure=_bust_out,
    ),
    Evidence(
        "TAKEOVER_PATTERN",
        "strong",
        0.95,
        (
            "size",
            "recent_link_old_account_share",
            "new_shared_payout_share",
            "link_sync_share",
            "max_address_cover",
            "strong_member_share",
        ),
        "long-standing accounts picking up the same new identifiers",
        measure=_takeover,
    ),
    Evidence(
        "MULE_PATTERN",
        "strong",
        0.9,
        ("size", "pass_through_share", "n_collectors"),
        "money in from many, passed on to the same collectors",
        measure=_mule,
    ),
)

EVIDENCE_BY_CODE = {e.code: e for e in RING_EVIDENCE}

# The order the noisy-OR multiplies the weighted codes in: patterns and confirmed fraud, then
# single signs (the order the default weights were calibrated in; it matters in the last bits).
SCORE_ORDER = (
    "BUST_OUT_PATTERN",
    "TAKEOVER_PATTERN",
    "MULE_PATTERN",
    "RECOMBINED_IDENTITY",
    "KNOWN_FRAUD_IN_RING",
    "INSTRUMENT_CROWD",
    "SPENDING_TOGETHER",
    "SHARED_STRONG_IDENTIFIER",
    "LINKED_TOGETHER",
    "OPENED_TOGETHER",
    "RECENT_LINK_BURST",
    "NEW_SHARED_PAYOUT",
    "MAXED_CREDIT",
    "LARGE_EXPOSURE",
    "OVERDUE_TOGETHER",
    "CHARGEBACKS",
    "PASS_THROUGH_MONEY",
)
DEFAULT_EVIDENCE_WEIGHTS: dict[str, float] = {c: float(EVIDENCE_BY_CODE[c].weight or 0.0) for c in SCORE_ORDER}
PATTERN_CODES = frozenset(e.code for e in RING_EVIDENCE if e.strength == "strong")

RING_REASON_CODES = frozenset(code for e in RING_EVIDENCE for code in e.reasons)


def ring_evidence(features: pd.DataFrame) -> pd.DataFrame:
    """Strength in [0, 1] of each scored evidence code for each ring (rows as in ``features``)."""
    e = pd.DataFrame(index=features.index)
    for entry in RING_EVIDENCE:
        if entry.measure is not None:
            e[entry.code] = entry.measure(features)
    return e


def ring_reasons(
    features: pd.DataFrame,
    evidence: pd.DataFrame,
    anomaly: np.ndarray,
    identifiers: pd.DataFrame,
    known_fraud_ids: pd.Series,
    top_payees: pd.Series,
    *,
    burst_days: float,
    max_identifiers: int = 3,
) -> list[list[dict]]:
    """Reasons per ring (rows of ``features``, whose index is the cluster number), strongest first.

    identifiers: shared identifiers with cluster, kind, key, n_members, n_accounts, weight and
        values (raw spellings); known_fraud_ids: cluster -> list of confirmed fraud account ids;
        top_payees: cluster -> list of account ids paid by several members.
    Built code by code over the rings where each code fires, so the cost follows the number of
    reasons, not rings x codes.
    """
    facts = RingFacts(
        features, evidence, anomaly, identifiers, known_fraud_ids, top_payees, burst_days, max_identifiers
    )
    collected: list[list[tuple[float | np.floating, dict]]] = [[] for _ in range(len(features))]
    facts.collected = collected
    for entry in RING_EVIDENCE:
        if entry.explain is not None:
            for r, key, found in list(entry.explain(facts)):
                collected[r].append((key, found))
    out = []
    for reasons in collected:
        if len(reasons) > 1:
            reasons.sort(key=lambda t: -t[0])
        out.append([r for _, r in reasons])
    return out


# ---------------------------------------------------------------- account reasons


AccountExplained = Iterable[tuple[int | np.integer, dict]]  # (account row, reason)


@dataclass
class AccountFacts:
    """What the account explainers read, one row per explained account: its features, score,
    tie to its ring, ring id (None outside rings) and ring score, the text of the ring's strongest
    reason (or None), the (kind, key) it shares with its ring (a list per row) and its closeness
    to confirmed fraud in [0, 1]."""

    features: pd.DataFrame
    scores: np.ndarray
    tie: np.ndarray
    ring_ids: np.ndarray
    ring_scores: np.ndarray
    ring_top_reason: np.ndarray
    account_identifiers: pd.Series
    proximity: np.ndarray

    def __post_init__(self) -> None:
        self.has_ring = np.array([ring_id is not None for ring_id in self.ring_ids], dtype=bool)
        self.in_scored_ring = self.has_ring & (np.asarray(self.ring_scores) > 0)
        self.known_fraud = self.features["is_known_fraud"].to_numpy(bool)


@dataclass(frozen=True)
class AccountReason:
    """One account reason code: what it reads, what it means, and its explainer (AccountFacts ->
    (row, reason) for the accounts it explains)."""

    code: str
    features: tuple[str, ...]
    about: str
    explain: Callable[[AccountFacts], AccountExplained]


def _account_known_fraud(facts: AccountFacts) -> AccountExplained:
    for i in np.flatnonzero(facts.known_fraud):
        yield i, reason("KNOWN_FRAUD", "the account is confirmed fraud", {"label": "fraud"})


def _account_in_ring(facts: AccountFacts) -> AccountExplained:
    for i in np.flatnonzero(facts.in_scored_ring):
        ring_id, ring_score = facts.ring_ids[i], facts.ring_scores[i]
        text = f"member of ring {ring_id} (score {ring_score:.2f})"
        if facts.ring_top_reason[i]:
            text += f": {facts.ring_top_reason[i]}"
        yield i, reason("IN_SUSPECT_RING", text, {"ring_id": ring_id, "ring_score": round(float(ring_score), 4)})


def _account_shares(facts: AccountFacts) -> AccountExplained:
    if not len(facts.account_identifiers):
        return
    for i in np.flatnonzero(facts.in_scored_ring):
        idents = facts.account_identifiers.iat[i]
        if isinstance(idents, list) and idents:
            shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in idents[:3])
            evidence = {"identifiers": [{"kind": k, "key": v} for k, v in idents[:10]]}
            yield i, reason("SHARES_WITH_RING", f"shares {shown} with other ring members", evidence)


def _account_loose_tie(facts: AccountFacts) -> AccountExplained:
    for i in np.flatnonzero(facts.in_scored_ring & (facts.tie < 1)):
        text = "tied to the ring by a single weaker link, so scored below it"
        yield i, reason("LOOSE_TIE", text, {"tie": round(float(facts.tie[i]), 3)})


def _account_near_fraud(facts: AccountFacts) -> AccountExplained:
    for i in np.flatnonzero((facts.proximity >= 0.5) & ~facts.known_fraud):
        text = "closely linked to confirmed fraud accounts"
        yield i, reason("NEAR_CONFIRMED_FRAUD", text, {"proximity": round(float(facts.proximity[i]), 3)})


def _account_maxed(facts: AccountFacts) -> AccountExplained:
    util = facts.features["utilization"].to_numpy(np.float64)
    for i in np.flatnonzero(facts.has_ring & (np.nan_to_num(util) >= 0.9) & (facts.scores > 0)):
        text = f"uses {util[i]:.0%} of its credit line"
        yield i, reason("MAXED_CREDIT", text, {"utilization": round(float(util[i]), 3)})


def _account_legit(facts: AccountFacts) -> AccountExplained:
    for i in np.flatnonzero(facts.features["is_known_legit"].to_numpy(bool)):
        yield i, reason("VERIFIED_LEGIT", "the account was verified legitimate", {"label": "legit"})


# In the order an account's reasons are listed.
ACCOUNT_REASONS: tuple[AccountReason, ...] = (
    AccountReason("KNOWN_FRAUD", ("is_known_fraud",), "the account is confirmed fraud", _account_known_fraud),
    AccountReason("IN_SUSPECT_RING", (), "member of a scored ring, with the ring's strongest reason", _account_in_ring),
    AccountReason("SHARES_WITH_RING", (), "the identifiers it shares with other ring members", _account_shares),
    AccountReason(
        "LOOSE_TIE", (), "tied to its ring by a single weaker link, so scored below the ring", _account_loose_tie
    ),
    AccountReason(
        "NEAR_CONFIRMED_FRAUD",
        ("is_known_fraud", "fraud_proximity"),
        "closely linked to confirmed fraud accounts (personalized PageRank)",
        _account_near_fraud,
    ),
    AccountReason(
        "MAXED_CREDIT", ("utilization",), "a ring member using 90% or more of its credit line", _account_maxed
    ),
    AccountReason("VERIFIED_LEGIT", ("is_known_legit",), "the account was verified legitimate", _account_legit),
)
ACCOUNT_REASON_CODES = frozenset(r.code for r in ACCOUNT_REASONS)


def account_reasons(
    features: pd.DataFrame,
    scores: np.ndarray,
    tie: np.ndarray,
    ring_ids: np.ndarray,
    ring_scores: np.ndarray,
    ring_top_reason: np.ndarray,
    account_identifiers: pd.Series,
    proximity: np.ndarray,
) -> list[list[dict]]:
    """Reasons per account (rows of ``features``): its ring, what it shares, its own evidence.

    account_identifiers: per row, a list of (kind, key) the account shares with its ring.
    ring_top_reason: per row, the text of the ring's strongest reason (or None).
    Built code by code over the accounts each code explains (``ACCOUNT_REASONS``).
    """
    facts = AccountFacts(features, scores, tie, ring_ids, ring_scores, ring_top_reason, account_identifiers, proximity)
    out: list[list[dict]] = [[] for _ in range(len(features))]
    for entry in ACCOUNT_REASONS:
        for i, found in entry.explain(facts):
            out[i].append(found)
    return out
