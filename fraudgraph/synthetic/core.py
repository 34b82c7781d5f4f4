"""The world builder's shared state and tools: allocation of entity ids, recording link
observations and transactions as integer arrays, group bookkeeping, and the final rendering."""

from __future__ import annotations

import numpy as np

from fraudgraph.synthetic.kinds import (
    ADDRESS,
    BANK,
    CARD,
    DAY,
    DEVICE,
    EMAIL,
    GROUP_KINDS,
    NATIONAL_ID,
    NO_GROUP,
    PHONE,
    TRANSACTION_WINDOW_DAYS,
)
from fraudgraph.synthetic.people import (
    EMAIL_DOMAINS,
    Spellings,
)


class BuilderCore:
    """The state every step shares, and the steps' common tools: accumulates accounts, link
    observations and transactions as integer arrays."""

    # Set by the planning steps (plan_rings, plan_legit, plan_merchants), read by every later step.
    n_ring: int  # ring members are accounts [0, n_ring)
    n_fraud: int  # ring members and lone fraudsters: accounts [0, n_fraud)
    lone: np.ndarray
    ring_sizes: np.ndarray
    ring_strength: np.ndarray
    hh_members: np.ndarray
    hh_of: np.ndarray
    hh_rank: np.ndarray
    hh_roommates: np.ndarray
    hh_sizes: np.ndarray
    hh_start: np.ndarray
    repeat_first: np.ndarray
    repeat_second: np.ndarray
    n_merchants: int
    merchant_popularity: np.ndarray
    high_value_merchants: np.ndarray
    cash_out_merchants: np.ndarray
    maxed: np.ndarray

    def __init__(
        self,
        n_accounts: int,
        seed: int,
        as_of_s: int,
        fraud_share: float,
        lone_share: float = 0.0,
        with_transactions: bool = True,
    ):
        self.n = n_accounts
        self.rng = np.random.default_rng(seed)
        self.as_of = as_of_s
        self.fraud_share = fraud_share
        self.lone_share = lone_share
        # Transfers tie ring members only when the world has a transactions table to show them.
        self.with_transactions = with_transactions
        self.salt = int(self.rng.integers(1, 2**62))
        self.next_entity = [0] * 8
        self.next_building = 0
        self.address_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.email_domain_parts: list[np.ndarray] = []
        self.link_parts: list[tuple[np.ndarray, ...]] = []
        self.txn_parts: list[tuple[np.ndarray, ...]] = []
        n = n_accounts
        self.created = np.zeros(n, dtype=np.int64)
        self.ring_of = np.full(n, -1, dtype=np.int64)
        self.ring_kinds: list[int] = []
        self.ring_numbers: list[int] = []
        self.group_kind = np.full(n, NO_GROUP, dtype=np.int8)
        self.group_number = np.full(n, -1, dtype=np.int64)
        self.group_counters = [0] * len(GROUP_KINDS)
        # Which of an account's own identifiers a ring identifier replaces (kind x account).
        self.replace_own = np.zeros((8, n), dtype=bool)
        self.label = np.zeros(n, dtype=np.int8)  # 0 none, 1 fraud, 2 legit
        self.limit = np.zeros(n)
        self.balance = np.zeros(n)
        self.overdue = np.zeros(n, dtype=np.int64)

    # ----- allocation and recording

    def alloc(self, kind: int, count: int) -> np.ndarray:
        start = self.next_entity[kind]
        self.next_entity[kind] = start + count
        return np.arange(start, start + count, dtype=np.int64)

    def new_buildings(self, count: int) -> np.ndarray:
        start = self.next_building
        self.next_building += count
        return np.arange(start, start + count, dtype=np.int64)

    def new_addresses(self, building: np.ndarray, apt: np.ndarray, unit_style: int) -> np.ndarray:
        """unit_style 0: 'Apt N' (apt 0 = none), 1: 'Suite N' (offices)."""
        ids = self.alloc(ADDRESS, len(building))
        self.address_parts.append(
            (building.astype(np.int64), apt.astype(np.int64), np.full(len(building), unit_style, np.int8))
        )
        return ids

    def new_emails(self, count: int, domain: int | None = None) -> np.ndarray:
        ids = self.alloc(EMAIL, count)
        if domain is None:
            p = np.array([w for _, w in EMAIL_DOMAINS])
            doms = self.rng.choice(len(EMAIL_DOMAINS), p=p / p.sum(), size=count)
        else:
            doms = np.full(count, domain)
        self.email_domain_parts.append(doms.astype(np.int8))
        return ids

    def variants(self, kind: int, count: int) -> np.ndarray:
        """Default spelling variant per observation: how a form or system wrote the value down."""
        rng = self.rng
        if kind == ADDRESS:
            style = rng.choice(4, p=[0.4, 0.25, 0.2, 0.15], size=count)
            typo = (rng.random(count) < 0.03).astype(np.int64) << 2
            return style + typo
        if kind == EMAIL:
            case = rng.choice(3, p=[0.82, 0.14, 0.04], size=count)
            transform = rng.choice(3, p=[0.86, 0.07, 0.07], size=count)
            return case + (transform << 2) + (rng.integers(0, 256, size=count) << 4)
        if kind == PHONE:
            return rng.choice(4, p=[0.35, 0.3, 0.2, 0.15], size=count)
        if kind in (CARD, BANK):
            return rng.choice(3, p=[0.5, 0.3, 0.2], size=count)
        if kind == NATIONAL_ID:
            return rng.choice(3, p=[0.6, 0.3, 0.1], size=count) + ((rng.random(count) < 0.01).astype(np.int64) << 2)
        if kind == DEVICE:
            return (rng.random(count) < 0.08).astype(np.int64)
        return np.zeros(count, dtype=np.int64)

    def link(self, acct, kind: int, entity, seen, variant=None) -> None:
        acct = np.asarray(acct, dtype=np.int64)
        m = len(acct)
        if m == 0:
            return
        entity = np.broadcast_to(np.asarray(entity, dtype=np.int64), (m,))
        seen = self.within_life(acct, seen)
        if variant is None:
            variant = self.variants(kind, m)
        variant = np.broadcast_to(np.asarray(variant, dtype=np.int64), (m,))
        self.link_parts.append((acct, np.full(m, kind, np.int8), entity.copy(), seen.copy(), variant.copy()))

    def within_life(self, acct: np.ndarray, when) -> np.ndarray:
        """Times outside (created_at, as_of) are redrawn uniformly inside it, not clipped:
        clipping would pile observations up on one instant, an artefact no real extract has."""
        when = np.broadcast_to(np.asarray(when, dtype=np.int64), (len(acct),)).copy()
        created = self.created[acct]
        outside = (when <= created) | (when >= self.as_of)
        if outside.any():
            life = np.maximum(self.as_of - 2 - created[outside], 1)
            when[outside] = created[outside] + 1 + (life * self.rng.random(int(outside.sum()))).astype(np.int64)
        return when

    def txn(self, payer, counterparty, to_account, amount, when, status=None) -> None:
        """Record transactions; counterparty is an account index or a merchant index."""
        payer = np.asarray(payer, dtype=np.int64)
        m = len(payer)
        if m == 0:
            return
        cp = np.broadcast_to(np.asarray(counterparty, dtype=np.int64), (m,)).copy()
        to_acct = np.broadcast_to(np.asarray(to_account, dtype=bool), (m,)).copy()
        amount = np.round(np.maximum(np.broadcast_to(np.asarray(amount, dtype=float), (m,)), 1.0), 2)
        when = self.within_life(payer, when)
        if status is None:
            status = self.rng.choice(4, p=[0.965, 0.025, 0.0, 0.01], size=m)
        status = np.broadcast_to(np.asarray(status, dtype=np.int8), (m,)).copy()
        # The extract covers a fixed window for everyone: older fraud leaves no transactions.
        inside = when >= self.as_of - TRANSACTION_WINDOW_DAYS * DAY
        self.txn_parts.append(tuple(a[inside] for a in (payer, cp, to_acct, amount, when, status)))

    def set_group(self, members: np.ndarray, kind_name: str, numbers: np.ndarray) -> None:
        """Record an innocent structure; a more specific one (lower index) wins."""
        code = GROUP_KINDS.index(kind_name)
        members = np.asarray(members, dtype=np.int64)
        wins = self.group_kind[members] >= code
        self.group_kind[members[wins]] = code
        self.group_number[members[wins]] = np.asarray(numbers)[wins] if np.ndim(numbers) else numbers

    def next_group_numbers(self, kind_name: str, count: int) -> np.ndarray:
        code = GROUP_KINDS.index(kind_name)
        start = self.group_counters[code]
        self.group_counters[code] = start + count
        return np.arange(start + 1, start + count + 1, dtype=np.int64)

    def days(self, low, high, size=None) -> np.ndarray:
        """Random offsets in seconds between low and high days."""
        return (np.asarray(self.rng.uniform(low, high, size=size)) * DAY).astype(np.int64)

    # ----- strings, once per distinct (entity, variant)

    def render_values(self, kind: np.ndarray, entity: np.ndarray, variant: np.ndarray):
        """The text of every (kind, entity, variant) observation: (dictionary, code per row)."""
        spellings = Spellings(self.salt, self.address_parts, self.email_domain_parts)
        return spellings.render_values(kind, entity, variant)
