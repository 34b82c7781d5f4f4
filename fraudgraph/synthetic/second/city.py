"""Assemble the second world: allocate accounts to rings and look-alike groups, run the tactics,
render identifiers, and emit the data contract's tables plus a truth table.

Why: a world the detector was never tuned on (issue 10). Its people, tactics, sizes and spellings
are chosen independently of ``fraudgraph.synthetic.world``; only the output contract is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from fraudgraph.model.frames import TRANSACTION_COLUMNS
from fraudgraph.synthetic.second import fraud, people
from fraudgraph.synthetic.second.builder import DAY, Builder
from fraudgraph.synthetic.second.render import KINDS, render

TRUTH_COLUMNS = ["account_id", "is_fraud", "ring_id", "ring_kind", "group_id", "group_kind", "early_stage"]
# look-alike -> (share of accounts, median size, sigma, min, max)
LOOKALIKES: dict[str, tuple[float, float, float, int, int]] = {
    "care_home": (0.015, 18, 0.4, 8, 40),
    "student_housing": (0.04, 60, 0.5, 20, 200),
    "fleet_business": (0.025, 14, 0.7, 5, 80),
    "family_card": (0.03, 3, 0.25, 2, 5),
    "household": (0.22, 2.5, 0.35, 2, 6),
    "roommates": (0.04, 2.5, 0.25, 2, 4),
}
RECYCLED_PHONE_SHARE = 0.01
LATE_PAYER_SHARE = 0.04


@dataclass
class CityWorld:
    """The contract tables (accounts, links, transactions) and truth, in input (raw) form."""

    accounts: pd.DataFrame
    links: pd.DataFrame
    transactions: pd.DataFrame
    truth: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"CityWorld({len(self.accounts)} accounts, {len(self.links)} links, "
            f"{len(self.transactions)} transactions, {int(self.truth['is_fraud'].sum())} fraud)"
        )


def _plan_rings(b: Builder, n_ring: int) -> list[tuple[str, np.ndarray]]:
    """Ring sizes per tactic, in a seeded order, summing to about ``n_ring`` accounts."""
    plan: list[tuple[str, int]] = []
    for tactic, (share, median, sigma, lo, hi) in fraud.TACTICS.items():
        total = int(round(share * n_ring))
        if total >= lo:
            plan.extend((tactic, int(s)) for s in b.sizes(total, median, sigma, lo, hi))
    order = b.rng.permutation(len(plan))
    return [(plan[i][0], np.arange(plan[i][1])) for i in order]


def _plant_fraud(b: Builder, plan: list[tuple[str, np.ndarray]], n_lone: int, hubs: dict) -> int:
    """Tactics run on consecutive account ranges from 0; returns the first innocent index."""
    start = 0
    for number, (tactic, offsets) in enumerate(plan):
        m = start + offsets
        b.is_fraud[m], b.ring[m], b.ring_kind[m] = True, number, tactic
        fraud.TACTIC_FUNCTIONS[tactic](b, m, hubs)
        start += len(m)
    lone = np.arange(start, start + n_lone)
    b.is_fraud[lone], b.ring_kind[lone] = True, fraud.LONE_KIND
    fraud.lone(b, lone)
    return start + n_lone


def _plant_innocents(b: Builder, first: int) -> np.ndarray:
    """Look-alike groups on consecutive ranges after the fraud; everyone else lives alone."""
    start = first
    for kind, (share, median, sigma, lo, hi) in LOOKALIKES.items():
        total = int(round(share * b.n))
        if total < lo or start + total > b.n:
            continue
        sizes = b.sizes(total, median, sigma, lo, hi)
        members = np.arange(start, start + int(sizes.sum()))
        start += len(members)
        if kind in ("household", "roommates"):
            people.shared_home(b, members, sizes, kind, share_card=0.35 if kind == "household" else 0.0)
        else:
            getattr(
                people,
                {
                    "care_home": "care_homes",
                    "fleet_business": "fleet_businesses",
                    "family_card": "family_cards",
                }.get(kind, kind),
            )(b, members, sizes)
    innocents = np.arange(first, b.n)
    n_recycled = min(b.n - start, int(RECYCLED_PHONE_SHARE * b.n) // 2 * 2)
    recycled = np.arange(start, start + n_recycled)
    people.recycled_phones(b, recycled)
    people.solo_homes(b, np.arange(start, b.n))
    people.own_identifiers(b, innocents)
    return innocents


def _innocent_credit(b: Builder, innocents: np.ndarray) -> None:
    """Ordinary use of the line, and some honest late payers."""
    k = len(innocents)
    b.balance[innocents] = np.round(b.limit[innocents] * b.rng.beta(1.2, 3.5, k), 2)
    late = innocents[b.rng.random(k) < LATE_PAYER_SHARE]
    b.overdue[late] = b.rng.integers(1, 120, len(late))
    b.set_group(late, "late_payer", np.arange(len(late)), only_empty=True)
    closed = innocents[b.rng.random(k) < 0.01]
    b.status[closed] = "closed"
    legit = innocents[b.rng.random(k) < 0.01]
    b.label[legit] = "legit"
    count = b.rng.poisson(1.5, k)
    payer = np.repeat(innocents, count)
    when = np.maximum(b.as_of - b.rng.integers(1, 120 * DAY, len(payer)), b.created[payer])
    merchant = fraud.HIGH_RISK_MERCHANTS + b.rng.integers(0, 3000, len(payer))
    b.txn(payer, merchant, False, np.exp(b.rng.normal(3.6, 1.0, len(payer))).clip(1, 5000), when)
    people.student_spending(b, innocents[b.group_kind[innocents] == "student_housing"], fraud.HIGH_RISK_MERCHANTS)


def _times(seconds: np.ndarray) -> np.ndarray:
    return np.asarray(seconds, np.int64).astype("datetime64[s]")


def _links_frame(b: Builder, ids: np.ndarray) -> pd.DataFrame:
    acct, kind, ent, var, extra, seen = (np.concatenate(c) for c in zip(*b.links))
    values = render(kind, ent, var, extra)
    frame = pd.DataFrame(
        {
            "account_id": ids[acct],
            "kind": np.array(KINDS, dtype=object)[kind],
            "value": values,
            "first_seen": _times(seen),
        }
    )
    frame = frame.drop_duplicates(["account_id", "kind", "value"])
    return frame.sort_values(["account_id", "kind", "first_seen", "value"], kind="stable").reset_index(drop=True)


def _transactions_frame(b: Builder, ids: np.ndarray) -> pd.DataFrame:
    payer, cp, to_acct, amount, when, status = (np.concatenate(c) for c in zip(*b.txns))
    order = np.lexsort((payer, when))
    payer, cp, to_acct, amount, when, status = (a[order] for a in (payer, cp, to_acct, amount, when, status))
    counterparty = np.where(
        to_acct,
        ids[np.where(to_acct, cp, 0)],
        np.char.add("M", np.char.zfill(cp.astype(str), 5)).astype(object),
    )
    return pd.DataFrame(
        {
            "txn_id": np.char.add("T", np.char.zfill(np.arange(1, len(payer) + 1).astype(str), 8)).astype(object),
            "account_id": ids[payer],
            "counterparty": counterparty,
            "counterparty_kind": np.where(to_acct, "account", "merchant").astype(object),
            "amount": amount,
            "timestamp": _times(when),
            "status": status,
        }
    )


def _truth_frame(b: Builder, ids: np.ndarray) -> pd.DataFrame:
    ring_ids = np.where(b.ring >= 0, np.char.add("CR", np.char.zfill(b.ring.astype(str), 4)), "").astype(object)
    overdue_rings = set(b.ring[(b.ring >= 0) & (b.overdue > 0)].tolist())
    early = (b.ring >= 0) & ~np.isin(b.ring, list(overdue_rings))
    group_ids = np.where(
        b.group >= 0, np.char.add(np.char.add(b.group_kind.astype(str), "-"), b.group.astype(str)), ""
    ).astype(object)
    return pd.DataFrame(
        {
            "account_id": ids,
            "is_fraud": b.is_fraud,
            "ring_id": ring_ids,
            "ring_kind": b.ring_kind,
            "group_id": group_ids,
            "group_kind": b.group_kind,
            "early_stage": early,
        }
    )


def generate_city(
    n_accounts: int,
    seed: int,
    *,
    as_of: str | datetime = "2026-11-01",
    fraud_share: float = 0.03,
    lone_share: float = 0.004,
    with_transactions: bool = True,
) -> CityWorld:
    """Generate the second world: ``n_accounts`` accounts, ``fraud_share`` of them fraud (ring
    fraud plus ``lone_share`` lone fraudsters). The same arguments give the same world, byte for byte.

    >>> w = generate_city(3000, seed=5)
    >>> 0.02 <= w.truth["is_fraud"].mean() <= 0.04
    True
    """
    if not isinstance(n_accounts, (int, np.integer)) or n_accounts < 200:
        raise ValueError(f"n_accounts must be an integer >= 200, got {n_accounts!r}")
    if not 0 <= lone_share <= fraud_share < 0.2:
        raise ValueError("expected 0 <= lone_share <= fraud_share < 0.2")
    rng = np.random.default_rng([seed, 0x5EC0D])
    b = Builder(int(n_accounts), rng, int(pd.Timestamp(as_of).value // 10**9))
    # Hubs need their innocent users first: reserve the fraud ranges, plant innocents, then fraud.
    n_lone = int(round(lone_share * n_accounts))
    n_ring = int(round(fraud_share * n_accounts)) - n_lone
    plan = _plan_rings(b, n_ring)
    innocents = _plant_innocents(b, sum(len(o) for _, o in plan) + n_lone)
    hubs = people.public_hubs(b, innocents)
    _plant_fraud(b, plan, n_lone, hubs)
    fraud.victims_pay_mules(b, np.flatnonzero(b.ring_kind == "mule_network"), innocents)
    _innocent_credit(b, innocents)
    return _frames(b, with_transactions)


def _frames(b: Builder, with_transactions: bool) -> CityWorld:
    numbers = b.rng.permutation(b.n) + 100_001
    ids = np.char.add("CW", numbers.astype(str)).astype(object)
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": _times(b.created),
            "credit_limit": b.limit,
            "balance": b.balance,
            "overdue_days": b.overdue,
            "status": b.status,
            "label": b.label,
        }
    )
    order = np.argsort(ids, kind="stable")
    transactions = _transactions_frame(b, ids) if with_transactions else pd.DataFrame(columns=TRANSACTION_COLUMNS)
    return CityWorld(
        accounts=accounts.iloc[order].reset_index(drop=True),
        links=_links_frame(b, ids),
        transactions=transactions,
        truth=_truth_frame(b, ids).iloc[order].reset_index(drop=True),
    )


def write_city(world: CityWorld, out_dir: str | Path, *, format: str = "csv") -> dict[str, Path]:
    """Write accounts, links, transactions (when any) and truth as CSV (ISO-8601 times) or Parquet."""
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ("accounts", "links", "transactions", "truth"):
        frame = getattr(world, name)
        path = out / f"{name}.{format}"
        if name == "transactions" and len(frame) == 0:
            path.unlink(missing_ok=True)
            continue
        if format == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S", lineterminator="\n")
        paths[name] = path
    return paths
