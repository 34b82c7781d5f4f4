"""The world builder: accumulates accounts, link observations and transactions as integer arrays.

Its steps (called in order by ``world.generate_world``) plan the population, plant the fraud
rings and lone fraudsters, add the innocent structures that look like rings, and finally render
each distinct (entity, variant) as text once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fraudgraph.synthetic.arrays import (
    group_sizes,
    lognormal_sizes,
    popularity,
    ranks,
    spelled_apart,
    tie_keys,
)
from fraudgraph.synthetic.kinds import (
    ADDRESS,
    BANK,
    CARD,
    CHARGEBACK,
    DAY,
    DECLINED,
    DEVICE,
    EMAIL,
    GROUP_KINDS,
    HOUR,
    HUB_CAP,
    IP,
    NATIONAL_ID,
    NO_GROUP,
    PHONE,
    TRANSACTION_WINDOW_DAYS,
)
from fraudgraph.synthetic.people import (
    EMAIL_DOMAINS,
    GMAIL,
    JUNK_BASE,
    JUNK_VALUES,
    Spellings,
)


class WorldBuilder:
    """Accumulates accounts, link observations and transactions as integer arrays."""

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
            return rng.choice(3, p=[0.6, 0.3, 0.1], size=count) + (
                (rng.random(count) < 0.01).astype(np.int64) << 2
            )
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
            when[outside] = (
                created[outside] + 1 + (life * self.rng.random(int(outside.sum()))).astype(np.int64)
            )
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

    # ----- population plan

    def plan_rings(self) -> np.ndarray:
        """Ring sizes and kinds; ring members take the first internal indexes, ring by ring, then
        the lone fraudsters: every fraud account is below n_fraud, every legit one at or above."""
        rng = self.rng
        n_fraud = int(round(self.n * self.fraud_share))
        if n_fraud < 3:
            n_fraud = 0
        sizes: list[int] = []
        remaining = n_fraud
        while remaining > 0:
            size = min(25, 2 + int(rng.geometric(0.16)), remaining)
            if 0 < remaining - size < 3:
                size = remaining
            kind = len(sizes) if len(sizes) < 3 else int(rng.choice(3, p=[0.45, 0.25, 0.30]))
            sizes.append(size)
            self.ring_kinds.append(kind)
            remaining -= size
        counters = [0, 0, 0]
        for kind in self.ring_kinds:
            counters[kind] += 1
            self.ring_numbers.append(counters[kind])
        self.ring_sizes = np.asarray(sizes, dtype=np.int64)
        self.ring_of[:n_fraud] = np.repeat(np.arange(len(sizes)), self.ring_sizes)
        self.n_ring = n_fraud
        n_lone = min(int(round(self.n * self.lone_share)), self.n - n_fraud - 2)
        self.lone = np.arange(n_fraud, n_fraud + max(n_lone, 0), dtype=np.int64)
        self.n_fraud = n_fraud + len(self.lone)
        return self.ring_sizes

    def plan_legit(self) -> None:
        """Creation dates, credit lines and households of the legit population."""
        rng, n = self.rng, self.n
        # Account opening dates over eight years, more of them recent (a growing lender).
        age_days = 2900.0 * rng.random(n) ** 1.6 + 1.0
        self.created[:] = self.as_of - (age_days * DAY).astype(np.int64)
        # Credit lines grow with tenure: new customers start low, four-year customers sit higher.
        median_limit = 1500.0 + 3000.0 * np.minimum(age_days / 1460.0, 1.0)
        self.limit[:] = np.clip(np.round(median_limit * rng.lognormal(0.0, 0.7, n), -2), 300, 40000)
        util = np.where(rng.random(n) < 0.22, 0.0, rng.beta(1.6, 4.0, n))
        self.balance[:] = np.round(self.limit * util, 2)

        legit = np.arange(self.n_fraud, n)
        sizes = group_sizes(rng, int(0.42 * len(legit)), [2, 3, 4, 5, 6], [0.42, 0.26, 0.18, 0.09, 0.05])
        self.hh_sizes = sizes
        self.hh_members = legit[: int(sizes.sum())]
        self.hh_of = np.repeat(np.arange(len(sizes)), sizes)
        self.hh_rank = ranks(sizes)
        self.hh_start = np.cumsum(sizes) - sizes + self.n_fraud
        # Some couples open their accounts the same week; most household members years apart.
        same_week = rng.random(len(sizes)) < 0.15
        second = self.hh_start[same_week] + 1
        self.created[second] = np.minimum(
            self.created[self.hh_start[same_week]] + self.days(0, 6, len(second)), self.as_of - 2 * HOUR
        )
        # Roommates move in together and open accounts within weeks of each other: same address,
        # same router, opened in a burst, like a bust-out ring, but no shared cards or bank accounts.
        self.hh_roommates = (rng.random(len(sizes)) < 0.1) & ~same_week
        movers = self.hh_roommates[self.hh_of] & (self.hh_rank > 0)
        heads = self.hh_start[self.hh_of[movers]]
        self.created[self.hh_members[movers]] = np.minimum(
            self.created[heads] + self.days(0, 20, int(movers.sum())), self.as_of - 2 * HOUR
        )
        numbers = self.next_group_numbers("household", len(sizes))
        self.set_group(self.hh_members, "household", numbers[self.hh_of])

        # Repeat customers: one person, two accounts opened years apart (the first often closed
        # since). They share everything, national id included; truth calls them a household of one.
        singles = legit[int(sizes.sum()) :]
        pairs = singles[: 2 * int(0.012 * len(singles) / 2)].reshape(-1, 2)
        first, second = pairs[:, 0], pairs[:, 1]
        self.created[first] = np.minimum(self.created[first], self.as_of - 400 * DAY)
        self.created[second] = self.created[first] + (
            (self.as_of - 2 * HOUR - self.created[first]) * rng.uniform(0.3, 1.0, len(pairs))
        ).astype(np.int64)
        self.repeat_first, self.repeat_second = first, second
        numbers = self.next_group_numbers("household", len(pairs))
        self.set_group(pairs.ravel(), "household", np.repeat(numbers, 2))

    def plan_merchants(self) -> None:
        rng = self.rng
        self.n_merchants = max(300, self.n // 100)
        self.merchant_popularity = popularity(self.n_merchants, 1.05)[rng.permutation(self.n_merchants)]
        hv = max(10, self.n_merchants // 20)
        # Electronics / gift-card merchants where bust-outs spend, and money-transfer or crypto
        # exchanges where mules cash out: ordinary customers use them too.
        self.high_value_merchants = np.arange(hv)
        self.cash_out_merchants = np.arange(hv, hv + max(4, self.n_merchants // 100))

    # ----- fraud rings

    def share(self, members, kind, pool, use_prob, replace_prob, seen, variant=None) -> np.ndarray:
        """Members link identifiers drawn from a ring pool; at least two of them do."""
        rng = self.rng
        use = rng.random(len(members)) < use_prob
        if use.sum() < 2:
            use[rng.choice(len(members), 2, replace=False)] = True
        users = members[use]
        # Every pool item gets a user first (round-robin), the rest pick at random.
        position = np.arange(len(users))
        item = np.where(position < len(pool), position, rng.integers(0, len(pool), len(users)))
        item = item[rng.permutation(len(users))]
        seen = np.broadcast_to(np.asarray(seen, dtype=np.int64), (len(members),))[use]
        if variant is not None:
            variant = variant(len(users))
        self.link(users, kind, pool[item], seen, variant)
        self.replace_own[kind, users[rng.random(len(users)) < replace_prob]] = True
        return users

    def ring_email_variants(self, count: int) -> np.ndarray:
        """Dot and plus-tag spellings of one Gmail box, as synthetic identities use them."""
        rng = self.rng
        case = rng.choice(3, p=[0.8, 0.15, 0.05], size=count)
        transform = rng.choice(4, p=[0.35, 0.25, 0.25, 0.15], size=count)
        return case + (transform << 2) + (rng.integers(0, 256, size=count) << 4)

    def drop_addresses(self, count: int) -> np.ndarray:
        rng = self.rng
        apt = np.where(rng.random(count) < 0.5, rng.integers(1, 40, count), 0)
        return self.new_addresses(self.new_buildings(count), apt, 0)

    def bust_out(self, members: np.ndarray, strength: int) -> None:
        rng, k = self.rng, len(members)
        opened = self.as_of - self.days(60, 540)
        window = (20, 12, 5)[strength]
        created = opened + self.days(0, window, k)
        self.created[members] = created
        shareable = [DEVICE, ADDRESS, CARD, EMAIL, PHONE, NATIONAL_ID, IP]
        if strength == 2:
            kinds = [DEVICE, ADDRESS, CARD, EMAIL, IP] + [
                x for x in (PHONE, NATIONAL_ID) if rng.random() < 0.5
            ]
        elif strength == 1:
            kinds = list(rng.choice(shareable, 3, replace=False))
        else:
            kinds = list(rng.choice(shareable, int(rng.integers(1, 3)), replace=False))
        use_prob = (0.6, 0.75, 0.9)[strength]
        burst = created + self.days(0, 3, k)
        for kind in kinds:
            if kind == ADDRESS:
                pool = self.drop_addresses(int(rng.integers(1, 4)))
                self.share(members, ADDRESS, pool, max(use_prob, 0.8), 1.0, burst)
            elif kind == EMAIL:
                # Mostly Gmail, whose dot-blindness gives many spellings of one box.
                pool = self.new_emails(1 + k // 5, domain=GMAIL if rng.random() < 0.75 else None)
                self.share(members, EMAIL, pool, use_prob, 0.8, burst, self.ring_email_variants)
            elif kind == NATIONAL_ID:
                pool = self.alloc(NATIONAL_ID, 1 + k // 8)

                def reused_id_spellings(count):
                    typo = (rng.random(count) < 0.15).astype(np.int64) << 2
                    return rng.choice(3, size=count) + typo

                self.share(members, NATIONAL_ID, pool, use_prob * 0.7, 0.9, burst, reused_id_spellings)
            else:
                pool_size = {DEVICE: 1 + k // 6, CARD: 1 + k // 8, PHONE: 1 + k // 10, IP: 1 + k // 10}[kind]
                self.share(members, kind, self.alloc(kind, pool_size), use_prob, 0.6, burst)

        # Build up, then max every line at once, then stop paying.
        busted = min(int(created.max()) + int(self.days(45, 220)), self.as_of - int(self.days(1, 12)))
        buyer, _, merchant, amount = self.bust(members, busted)
        when = busted + self.days(-3, 4, len(buyer))
        confirmed = self.label_ring(members)
        status = rng.choice(4, p=[0.85, 0.12, 0.0, 0.03], size=len(buyer))
        self.txn(buyer, merchant, False, amount, when, self.chargebacks(buyer, status, confirmed))
        if strength >= 1 and rng.random() < 0.5:
            # Credit turned into cash: members wire to one of them before the bust.
            hub = members[0]
            senders = members[1:][rng.random(k - 1) < 0.7]
            self.txn(
                senders,
                hub,
                True,
                self.limit[senders] * rng.uniform(0.2, 0.5, len(senders)),
                busted - self.days(0, 5, len(senders)),
            )

    def ato_farm(self, members: np.ndarray, strength: int) -> None:
        rng, k = self.rng, len(members)
        has_cashout = k >= 4 and rng.random() < 0.7
        victims = members[1:] if has_cashout else members
        # Old, ordinary accounts with years of history of their own...
        self.created[victims] = self.as_of - self.days(700, 2900, len(victims))
        start = self.as_of - int(self.days(3, 21))
        taken = np.minimum(start + self.days(0, 5, len(victims)), self.as_of - 6 * HOUR)
        payout = self.alloc(BANK, 1)
        ip = self.alloc(IP, 1)
        link_prob = (0.75, 0.85, 0.95)[strength]
        # ...that suddenly, within days, log in from the same new devices and IP and add one payout account.
        bank_users = self.share(
            victims, BANK, payout, link_prob, 0.0, taken + self.days(0, 0.2, len(victims))
        )
        if strength >= 1 or rng.random() < 0.5:
            self.share(victims, IP, ip, link_prob, 0.0, taken)
        if strength >= 1:
            devices = self.alloc(DEVICE, 1 + k // 8)
            self.share(victims, DEVICE, devices, (0.5, 0.7, 0.9)[strength], 0.0, taken)
        if strength == 2 and rng.random() < 0.5:
            self.share(victims, PHONE, self.alloc(PHONE, 1), 0.6, 0.0, taken + self.days(0, 1, len(victims)))
        if strength == 2 and rng.random() < 0.4:
            self.share(
                victims,
                EMAIL,
                self.new_emails(1, domain=GMAIL),
                0.6,
                0.0,
                taken + self.days(0, 1, len(victims)),
                self.ring_email_variants,
            )
        self.balance[victims] = np.round(
            np.minimum(self.limit[victims] * 1.02, self.balance[victims] + self.limit[victims] * 0.5), 2
        )
        # Drain: transfers to the fraudster's account (or a money-transfer merchant), gift cards.
        n_drains = rng.integers(1, 4, len(bank_users))
        payer = np.repeat(bank_users, n_drains)
        amount = self.limit[payer] * rng.uniform(0.3, 0.9, len(payer)) / n_drains.repeat(n_drains)
        when = np.repeat(taken[np.searchsorted(victims, bank_users, sorter=None)], n_drains)
        when = when + self.days(0, 0.5, len(payer))
        if has_cashout:
            cashout = members[0]
            self.created[cashout] = start - int(self.days(5, 40))
            self.limit[cashout] = 500.0
            self.balance[cashout] = 0.0
            self.link([cashout], BANK, payout, [self.created[cashout] + DAY])
            self.link([cashout], IP, ip, [start])
            self.txn(payer, cashout, True, amount, when)
            chunks = int(rng.integers(2, 6))
            total = float(amount.sum()) * 0.9
            self.txn(
                np.full(chunks, cashout),
                rng.choice(self.cash_out_merchants, chunks),
                False,
                total / chunks * rng.uniform(0.8, 1.2, chunks),
                self.as_of - self.days(0, 3, chunks),
            )
        else:
            self.txn(payer, rng.choice(self.cash_out_merchants, len(payer)), False, amount, when)
        gift = victims[rng.random(len(victims)) < 0.5]
        self.txn(
            gift,
            rng.choice(self.high_value_merchants, len(gift)),
            False,
            rng.uniform(100, 500, len(gift)),
            self.as_of - self.days(0, 10, len(gift)),
        )
        self.label_ring(members)

    def mule_network(self, members: np.ndarray, strength: int) -> None:
        rng, k = self.rng, len(members)
        n_collectors = 1 + int(k >= 8) + int(k >= 16)
        collectors, mules = members[:n_collectors], members[n_collectors:]
        self.created[mules] = self.as_of - self.days(20, 700, len(mules))
        self.created[collectors] = self.as_of - self.days(40, 400, n_collectors)
        self.limit[members] = np.clip(np.round(rng.lognormal(np.log(1500), 0.5, k), -2), 300, 8000)
        self.balance[members] = np.round(self.limit[members] * rng.beta(1.5, 5, k), 2)
        recent = self.as_of - self.days(0, 120, k)
        # Loose sharing: one IP or device among a few members, rarely more.
        if strength == 2:
            self.share(members, IP, self.alloc(IP, 1), 0.6, 0.3, recent)
            few = members[rng.choice(k, min(k, 4), replace=False)]
            self.share(few, DEVICE, self.alloc(DEVICE, 1), 1.0, 0.3, recent[: len(few)])
        elif strength == 1:
            few = members[rng.choice(k, min(k, int(rng.integers(3, 6))), replace=False)]
            kind = IP if rng.random() < 0.6 else DEVICE
            self.share(few, kind, self.alloc(kind, 1), 1.0, 0.3, recent[: len(few)])
        elif rng.random() < 0.5:
            few = members[rng.choice(k, 2, replace=False)]
            kind = IP if rng.random() < 0.5 else DEVICE
            self.share(few, kind, self.alloc(kind, 1), 1.0, 0.3, recent[:2])
        # Money in from many unrelated accounts, out to the collectors, then to an exchange.
        receivers = mules if len(mules) else collectors
        n_in = 2 + rng.poisson(5, len(receivers))
        victim = rng.integers(self.n_fraud, self.n, int(n_in.sum()))
        mule_in = np.repeat(receivers, n_in)
        amount_in = np.round(rng.lognormal(np.log(450), 0.6, len(victim)), 2)
        when_in = self.as_of - self.days(5, 60, len(victim))
        self.txn(victim, mule_in, True, amount_in, when_in)
        received = np.bincount(
            np.repeat(np.arange(len(receivers)), n_in), weights=amount_in, minlength=len(receivers)
        )
        if len(mules):
            n_out = rng.integers(1, 4, len(mules))
            payer = np.repeat(mules, n_out)
            to = rng.choice(collectors, len(payer))
            amount = np.repeat(received * rng.uniform(0.8, 0.95, len(mules)) / n_out, n_out)
            if strength == 2 and len(mules) >= 2:
                # Layering: some hops go through another mule first.
                hop = rng.random(len(payer)) < 0.3
                middle = rng.choice(mules, int(hop.sum()))
                self.txn(payer[hop], middle, True, amount[hop], self.as_of - self.days(4, 8, int(hop.sum())))
                payer = payer.copy()
                payer[hop] = middle
            self.txn(payer, to, True, amount, self.as_of - self.days(0, 4, len(payer)))
            forwarded = float(amount.sum())
        else:
            forwarded = float(received.sum())
        chunks = rng.integers(2, 7, n_collectors)
        payer = np.repeat(collectors, chunks)
        amount = forwarded * 0.9 / n_collectors / chunks.repeat(chunks) * rng.uniform(0.8, 1.2, len(payer))
        self.txn(
            payer,
            rng.choice(self.cash_out_merchants, len(payer)),
            False,
            amount,
            self.as_of - self.days(0, 4, len(payer)),
        )
        self.label_ring(members)

    def label_ring(self, members: np.ndarray) -> np.ndarray:
        """Some rings have one or two members confirmed as fraud; most members carry no label."""
        rng = self.rng
        if rng.random() >= 0.35:
            return members[:0]
        count = min(len(members), int(rng.integers(1, 3)))
        confirmed = members[rng.choice(len(members), count, replace=False)]
        self.label[confirmed] = 1
        return confirmed

    def chargebacks(self, payer: np.ndarray, status: np.ndarray, confirmed: np.ndarray) -> np.ndarray:
        """Confirmed members were confirmed through chargebacks on about half their purchases."""
        hit = np.isin(payer, confirmed) & (self.rng.random(len(payer)) < 0.5)
        return np.where(hit, CHARGEBACK, status)

    def plant_rings(self) -> None:
        strengths = self.rng.choice(3, p=[0.25, 0.45, 0.30], size=len(self.ring_sizes))
        self.ring_strength = strengths
        starts = np.cumsum(self.ring_sizes) - self.ring_sizes
        builders = (self.bust_out, self.ato_farm, self.mule_network)
        for ring, (start, size) in enumerate(zip(starts.tolist(), self.ring_sizes.tolist())):
            members = np.arange(start, start + size, dtype=np.int64)
            builders[self.ring_kinds[ring]](members, int(strengths[ring]))
        self.tie_ring_members()
        self.lone_fraudsters()

    # ----- observable ties inside rings, and fraud in no ring

    def ring_ties(self):
        """Which ring members are tied to another member of their ring, and each ring's most
        shared identifier (kind, entity, first_seen; kind -1 when the ring shares none)."""
        n_rings = len(self.ring_sizes)
        tied = np.zeros(self.n, dtype=bool)
        best_kind = np.full(n_rings, -1, dtype=np.int64)
        best_entity = np.zeros(n_rings, dtype=np.int64)
        best_seen = np.zeros(n_rings, dtype=np.int64)
        if self.link_parts:
            acct, kind, entity, seen, variant = (np.concatenate(p) for p in zip(*self.link_parts))
            ring_rows = (acct < self.n_ring) & (entity < JUNK_BASE)
            acct, kind, entity, seen, variant = (a[ring_rows] for a in (acct, kind, entity, seen, variant))
            key = tie_keys(kind, entity, variant)
            order = np.lexsort((acct, key))
            key_sorted, acct_sorted = key[order], acct[order]
            distinct = np.ones(len(order), dtype=bool)
            distinct[1:] = (key_sorted[1:] != key_sorted[:-1]) | (acct_sorted[1:] != acct_sorted[:-1])
            row = order[distinct]  # one row per distinct (key, account)
            key_id = np.cumsum(np.r_[True, key[row][1:] != key[row][:-1]]) - 1
            holders = np.bincount(key_id)[key_id]
            shared = holders >= 2
            tied[acct[row[shared]]] = True
            # Each ring's most shared clean spelling: where an untied member gets its one tie.
            clean = shared & ~spelled_apart(kind[row], variant[row])
            rows, count = row[clean], holders[clean]
            ring = self.ring_of[acct[rows]]
            pick = np.lexsort((-count, ring))
            first = np.r_[True, ring[pick][1:] != ring[pick][:-1]]
            chosen, chosen_ring = rows[pick[first]], ring[pick[first]]
            best_kind[chosen_ring] = kind[chosen]
            best_entity[chosen_ring] = entity[chosen]
            best_seen[chosen_ring] = seen[chosen]
        if self.with_transactions and self.txn_parts:
            payer, cp, to_account, _, _, status = (np.concatenate(p) for p in zip(*self.txn_parts))
            moved = to_account & (status != DECLINED) & (payer != cp)
            payer, cp = payer[moved], cp[moved]
            inside = (self.ring_of[payer] >= 0) & (self.ring_of[payer] == self.ring_of[cp])
            tied[payer[inside]] = True
            tied[cp[inside]] = True
        return tied[: self.n_ring], (best_kind, best_entity, best_seen)

    def tie_variants(self, kind: int, count: int) -> np.ndarray:
        """Spellings that normalize to the shared value (none of those spelled_apart)."""
        if kind == EMAIL:
            return self.ring_email_variants(count)
        variant = self.variants(kind, count)
        if kind == BANK:
            return variant % 2
        return variant & ~4 if kind in (ADDRESS, NATIONAL_ID) else variant

    def tie_ring_members(self) -> None:
        """A member the ring's random draws left with no observable tie to the rest of its ring
        (no shared identifier, no transfer) gets one of the ring's own kind: mules a transfer
        with a collector, others the ring's most shared identifier. Weak rings stay weak."""
        if self.n_ring == 0:
            return
        tied, (best_kind, best_entity, best_seen) = self.ring_ties()
        untied = np.flatnonzero(~tied)
        if len(untied) == 0:
            return
        rng = self.rng
        starts = np.cumsum(self.ring_sizes) - self.ring_sizes
        ring = self.ring_of[untied]
        if self.with_transactions:
            mule = np.asarray(self.ring_kinds)[ring] == 2
            u, r = untied[mule], ring[mule]
            size, start = self.ring_sizes[r], starts[r]
            n_collectors = 1 + (size >= 8) + (size >= 16)
            collector = u - start < n_collectors
            # A collector receives from the ring's first mule; a mule forwards to the first collector.
            payer = np.where(collector, start + n_collectors, u)
            payee = np.where(collector, u, start)
            self.txn(
                payer,
                payee,
                True,
                rng.lognormal(np.log(1200), 0.5, len(u)),
                self.as_of - self.days(0, 4, len(u)),
                np.zeros(len(u), dtype=np.int8),
            )
            untied, ring = untied[~mule], ring[~mule]
        has_best = best_kind[ring] >= 0
        for kind in range(8):
            pick = has_best & (best_kind[ring] == kind)
            if pick.any():
                u, r = untied[pick], ring[pick]
                self.link(
                    u,
                    kind,
                    best_entity[r],
                    best_seen[r] + self.days(0, 2, len(u)),
                    self.tie_variants(kind, len(u)),
                )
        # A ring that shares nothing at all (a weak mule ring in a world without transactions):
        # one fresh identifier of its kind, on its untied members and, if needed, one other.
        for r in np.unique(ring[~has_best]).tolist():
            members = untied[~has_best][ring[~has_best] == r]
            if len(members) == 1:
                others = np.setdiff1d(np.arange(starts[r], starts[r] + self.ring_sizes[r]), members)
                members = np.r_[members, rng.choice(others)]
            kind = (DEVICE, BANK, IP)[self.ring_kinds[r]]
            entity = self.alloc(kind, 1)
            self.link(
                members,
                kind,
                entity,
                self.created[members] + self.days(0, 3, len(members)),
                self.tie_variants(kind, len(members)),
            )

    def bust(self, members: np.ndarray, busted) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The bust of a bust-out: lines maxed, a burst of purchases (mostly high-value merchants),
        then no more payments. Returns buyer, purchases per member, merchant and amount."""
        rng, k = self.rng, len(members)
        self.limit[members] = np.clip(np.round(rng.lognormal(np.log(3500), 0.6, k), -2), 500, 25000)
        self.balance[members] = np.round(self.limit[members] * rng.uniform(0.9, 1.05, k), 2)
        self.overdue[members] = np.clip((self.as_of - busted) // DAY - 25 + rng.integers(-3, 4, k), 0, 180)
        n_buys = rng.integers(3, 10, k)
        buyer = np.repeat(members, n_buys)
        share = rng.dirichlet(np.ones(3), size=len(buyer))[:, 0]
        merchant = np.where(
            rng.random(len(buyer)) < 0.7,
            rng.choice(self.high_value_merchants, len(buyer)),
            rng.choice(self.n_merchants, len(buyer), p=self.merchant_popularity),
        )
        amount = self.balance[buyer] * share / n_buys.repeat(n_buys) * 2.0
        return buyer, n_buys, merchant, amount

    def lone_fraudsters(self) -> None:
        """Bust-out individuals in no ring: open, build up, max the line, stop paying. Their
        identifiers are their own (isolate_lone_fraudsters removes chance overlaps with fraud)."""
        members = self.lone
        rng, k = self.rng, len(members)
        if k == 0:
            return
        self.created[members] = self.as_of - self.days(60, 900, k)
        busted = np.minimum(self.created[members] + self.days(45, 400, k), self.as_of - self.days(1, 12, k))
        buyer, n_buys, merchant, amount = self.bust(members, busted)
        when = np.repeat(busted, n_buys) + self.days(-3, 4, len(buyer))
        # About as many confirmed (through chargebacks) as in rings, per account.
        confirmed = members[rng.random(k) < 0.12]
        self.label[confirmed] = 1
        status = rng.choice(4, p=[0.85, 0.12, 0.0, 0.03], size=len(buyer))
        self.txn(buyer, merchant, False, amount, when, self.chargebacks(buyer, status, confirmed))

    def isolate_lone_fraudsters(self) -> None:
        """Drop a lone fraudster's observation of an identifier that another fraud account also
        holds (a chance overlap: a second-hand phone, a building's Wi-Fi), unless it is a hub.

        Works part by part: concatenating every link observation would cost more than the rest."""
        if len(self.lone) == 0 or not self.link_parts:
            return
        where = [np.flatnonzero((part[0] < self.n_fraud) & (part[2] < JUNK_BASE)) for part in self.link_parts]
        part_of = np.repeat(np.arange(len(where)), [len(w) for w in where])
        row = np.concatenate(where)
        acct, kind, entity, _, variant = (
            np.concatenate([p[i][w] for p, w in zip(self.link_parts, where)]) for i in range(5)
        )
        key = tie_keys(kind, entity, variant)
        order = np.lexsort((acct, key))
        k_sorted, a_sorted = key[order], acct[order]
        distinct = np.r_[True, (k_sorted[1:] != k_sorted[:-1]) | (a_sorted[1:] != a_sorted[:-1])]
        k_distinct = k_sorted[distinct]
        starts = np.r_[True, k_distinct[1:] != k_distinct[:-1]]
        fraud_holders = np.diff(np.r_[np.flatnonzero(starts), len(k_distinct)])
        shared_keys = k_distinct[starts][fraud_holders >= 2]
        overlap = np.flatnonzero((acct >= self.n_ring) & np.isin(key, shared_keys))
        if len(overlap) == 0:
            return
        # Hubs link nobody: count every holder of the few identifiers in question.
        lone_keys = key[overlap]
        suspects = np.unique(entity[overlap])
        holder_keys, holder_accounts = [], []
        for part in self.link_parts:
            on = np.flatnonzero(np.isin(part[2], suspects))
            part_keys = tie_keys(part[1][on], part[2][on], part[4][on])
            hit = np.isin(part_keys, lone_keys)
            holder_keys.append(part_keys[hit])
            holder_accounts.append(part[0][on[hit]])
        pairs = np.unique(np.stack([np.concatenate(holder_keys), np.concatenate(holder_accounts)]), axis=1)
        suspect_keys, holders = np.unique(pairs[0], return_counts=True)
        drop = overlap[~np.isin(lone_keys, suspect_keys[holders > HUB_CAP])]
        for p_i in np.unique(part_of[drop]).tolist():
            keep = np.ones(len(self.link_parts[p_i][0]), dtype=bool)
            keep[row[drop[part_of[drop] == p_i]]] = False
            self.link_parts[p_i] = tuple(a[keep] for a in self.link_parts[p_i])

    def isolate_lone_money(self) -> None:
        """Drop the chance transfers (a P2P payment to a random account) between a lone
        fraudster and another fraud account: a lone fraudster moves no money with other fraud."""
        if len(self.lone) == 0 or not self.txn_parts:
            return
        payer, cp, to_account, amount, when, status = (np.concatenate(p) for p in zip(*self.txn_parts))
        lone = np.zeros(self.n, dtype=bool)
        lone[self.lone] = True
        fraud_payee = to_account & (cp < self.n_fraud)
        touching = fraud_payee & (payer < self.n_fraud) & (lone[payer] | lone[np.where(to_account, cp, 0)])
        keep = ~(touching & (payer != cp))
        self.txn_parts = [tuple(a[keep] for a in (payer, cp, to_account, amount, when, status))]

    # ----- everyone's own identifiers and innocent structures

    def homes(self) -> None:
        """Home addresses: households share one unit; a fifth of units are in apartment blocks."""
        rng, n = self.rng, self.n
        n_hh = len(self.hh_sizes)
        unit_of = np.empty(n, dtype=np.int64)
        unit_of[self.hh_members] = self.hh_of
        in_household = np.zeros(n, dtype=bool)
        in_household[self.hh_members] = True
        singles = np.flatnonzero(~in_household)
        unit_of[singles] = n_hh + np.arange(len(singles))
        n_units = n_hh + len(singles)
        unit_of[self.repeat_second] = unit_of[self.repeat_first]  # still living at the same place

        candidates = np.flatnonzero(rng.random(n_units) < 0.22)
        rng.shuffle(candidates)
        block_sizes = lognormal_sizes(rng, len(candidates), 30, 0.9, 8, 400)
        block_units = candidates[: int(block_sizes.sum())]
        block_of_unit = np.full(n_units, -1, dtype=np.int64)
        block_of_unit[block_units] = np.repeat(np.arange(len(block_sizes)), block_sizes)
        rank = ranks(block_sizes)
        building = np.empty(n_units, dtype=np.int64)
        apt = np.zeros(n_units, dtype=np.int64)
        block_buildings = self.new_buildings(len(block_sizes))
        building[block_units] = block_buildings[block_of_unit[block_units]]
        apt[block_units] = (rank // 8 + 1) * 100 + rank % 8 + 1  # floor and door: 101, 102, ... 203
        houses = np.flatnonzero(block_of_unit < 0)
        building[houses] = self.new_buildings(len(houses))
        duplex = houses[rng.random(len(houses)) < 0.05]
        apt[duplex] = rng.integers(1, 5, len(duplex))
        address_of_unit = self.new_addresses(building, apt, 0)

        residents = np.flatnonzero(~self.replace_own[ADDRESS])
        self.link(
            residents,
            ADDRESS,
            address_of_unit[unit_of[residents]],
            self.created[residents] + self.days(0, 1, len(residents)),
        )
        movers = np.flatnonzero(rng.random(n) < 0.08)
        old_home = self.new_addresses(self.new_buildings(len(movers)), np.zeros(len(movers)), 0)
        self.link(movers, ADDRESS, old_home, self.created[movers] + self.days(0, 1, len(movers)))

        in_block = np.flatnonzero(block_of_unit[unit_of] >= 0)
        block = block_of_unit[unit_of[in_block]]
        numbers = self.next_group_numbers("apartment_block", len(block_sizes))
        self.set_group(in_block, "apartment_block", numbers[block])
        # A few neighbours ride the building's Wi-Fi.
        wifi = self.alloc(IP, len(block_sizes))
        riders = rng.random(len(in_block)) < 0.05
        self.link(
            in_block[riders],
            IP,
            wifi[block[riders]],
            self.created[in_block[riders]] + self.days(0, 300, int(riders.sum())),
        )

    def repeat_customers(self) -> None:
        """The person behind two accounts brings the same phone, email, devices and national id."""
        rng = self.rng
        first, second = self.repeat_first, self.repeat_second
        if len(first) == 0:
            return
        for kind, share in ((PHONE, 0.9), (EMAIL, 0.8), (DEVICE, 0.6), (NATIONAL_ID, 0.5), (CARD, 0.2)):
            same = rng.random(len(first)) < share
            a, b = first[same], second[same]
            person = self.new_emails(len(a)) if kind == EMAIL else self.alloc(kind, len(a))
            self.link(a, kind, person, self.created[a] + self.days(0, 2, len(a)))
            self.link(b, kind, person, self.created[b] + self.days(0, 2, len(b)))
            self.replace_own[kind, a] = True
            self.replace_own[kind, b] = True

    def extended_families(self) -> None:
        """Households tied to another household: a parent pays a grown child's bill with their
        card, a family phone plan, grandma's tablet. Innocent components of up to a dozen accounts."""
        rng = self.rng
        n_hh = len(self.hh_sizes)
        if n_hh < 2:
            return
        ties = np.flatnonzero(rng.random(n_hh) < 0.06)
        other = rng.integers(0, n_hh, len(ties))
        ok = other != ties
        ties, other = ties[ok], other[ok]
        kind_of_tie = rng.choice(np.array([CARD, PHONE, DEVICE]), p=[0.45, 0.35, 0.2], size=len(ties))
        for kind in (CARD, PHONE, DEVICE):
            pick = kind_of_tie == kind
            h1, h2 = ties[pick], other[pick]
            entity = self.alloc(kind, len(h1))
            for households in (h1, h2):
                member = self.hh_start[households] + rng.integers(0, self.hh_sizes[households])
                self.link(member, kind, entity, self.created[member] + self.days(0, 900, len(member)))

    def own_identifiers(self) -> None:
        """Each account's personal identifiers (kept unless a ring identifier replaced them)."""
        rng, n = self.rng, self.n
        accounts = np.arange(n, dtype=np.int64)

        def own(kind, counts, entities=None):
            counts = np.where(self.replace_own[kind], 0, counts).astype(np.int64)
            acct = np.repeat(accounts, counts)
            rank = ranks(counts)
            ent = self.alloc(kind, len(acct)) if entities is None else entities(len(acct))
            # The first of each kind arrives at onboarding; later ones over the following years.
            later = (rng.exponential(400, len(acct)) * DAY).astype(np.int64)
            seen = self.created[acct] + np.where(rank == 0, self.days(0, 2, len(acct)), later)
            self.link(acct, kind, ent, seen)

        u = rng.random
        own(DEVICE, 1 + (u(n) < 0.2) + (u(n) < 0.04))
        own(EMAIL, 1 + (u(n) < 0.12), entities=self.new_emails)
        own(PHONE, (u(n) < 0.93).astype(np.int64) + (u(n) < 0.07))
        own(CARD, 1 + (u(n) < 0.15))
        own(BANK, (u(n) < 0.35).astype(np.int64) + (u(n) < 0.1))
        own(IP, (u(n) > 0.15).astype(np.int64) + (u(n) < 0.15))
        own(NATIONAL_ID, (u(n) < 0.4).astype(np.int64))

    def household_sharing(self) -> None:
        """Family router, family tablet, landline, spouse card, joint bank account."""
        rng = self.rng
        members, hh, rank = self.hh_members, self.hh_of, self.hh_rank
        n_hh = len(self.hh_sizes)
        if n_hh == 0:
            return
        later = self.created[members] + self.days(0, 400, len(members))
        for kind, p_household, p_member, only_couple in (
            (IP, 0.75, 0.85, False),
            (DEVICE, 0.3, 0.7, False),  # the family tablet
            (PHONE, 0.15, 0.8, False),
            (CARD, 0.25, 1.0, True),
            (BANK, 0.2, 1.0, True),
        ):
            has = rng.random(n_hh) < p_household
            use = has[hh] & (rng.random(len(members)) < p_member)
            if only_couple:
                use &= (rank < 2) & ~self.hh_roommates[hh]
            ent = self.alloc(kind, n_hh)
            seen = later[use]
            if kind == BANK:
                # Some couples opened their joint account only lately: a fresh bank account on
                # two old accounts within a day or two, as in a takeover's payout.
                fresh = (rng.random(n_hh) < 0.2)[hh[use]]
                day = (self.as_of - self.days(2, 30, n_hh))[hh[use]]
                seen = np.where(fresh, day + self.days(0, 2, int(use.sum())), seen)
            self.link(members[use], kind, ent[hh[use]], seen)
        # A new internet provider: the whole family appears on a new IP the same day, recently;
        # synchronized, recent sharing of a fresh identifier, as in an account takeover.
        switched = rng.random(n_hh) < 0.05
        on_new_ip = switched[hh] & (rng.random(len(members)) < 0.9)
        switch_day = self.as_of - self.days(2, 45, n_hh)
        self.link(
            members[on_new_ip],
            IP,
            self.alloc(IP, n_hh)[hh[on_new_ip]],
            switch_day[hh[on_new_ip]] + self.days(0, 1.5, int(on_new_ip.sum())),
        )

    def corporate_cards(self) -> None:
        """Colleagues sharing a corporate card, their office address and often the office IP."""
        rng = self.rng
        legit = np.arange(self.n_fraud, self.n)
        sizes = lognormal_sizes(rng, int(0.015 * len(legit)), 7, 0.7, 3, 30)
        if len(sizes) == 0:
            return
        members = rng.choice(legit, int(sizes.sum()), replace=False)
        group = np.repeat(np.arange(len(sizes)), sizes)
        seen = self.created[members] + self.days(0, 700, len(members))
        self.link(members, CARD, self.alloc(CARD, len(sizes))[group], seen)
        offices = self.new_addresses(self.new_buildings(len(sizes)), rng.integers(100, 2000, len(sizes)), 1)
        at_office = rng.random(len(members)) < 0.6
        self.link(members[at_office], ADDRESS, offices[group[at_office]], seen[at_office])
        office_ip = self.alloc(IP, len(sizes))
        has_ip = (rng.random(len(sizes)) < 0.6)[group] & (rng.random(len(members)) < 0.75)
        self.link(members[has_ip], IP, office_ip[group[has_ip]], seen[has_ip])
        # Some offices moved lately: new address and network for everyone within a few days.
        moved = rng.random(len(sizes)) < 0.15
        movers = moved[group] & (rng.random(len(members)) < 0.85)
        move_day = self.as_of - self.days(3, 60, len(sizes))
        new_offices = self.new_addresses(
            self.new_buildings(len(sizes)), rng.integers(100, 2000, len(sizes)), 1
        )
        when = move_day[group[movers]] + self.days(0, 4, int(movers.sum()))
        self.link(members[movers], IP, self.alloc(IP, len(sizes))[group[movers]], when)
        at_new = movers & (rng.random(len(members)) < 0.6)
        when = move_day[group[at_new]] + self.days(0, 4, int(at_new.sum()))
        self.link(members[at_new], ADDRESS, new_offices[group[at_new]], when)
        numbers = self.next_group_numbers("corporate_card", len(sizes))
        self.set_group(members, "corporate_card", numbers[group])

    def hubs(self) -> None:
        """Identifiers shared by hundreds or thousands: kiosks, parcel lockers, carrier NAT IPs, junk."""
        rng, n = self.rng, self.n
        accounts = np.arange(n, dtype=np.int64)

        def hub(kind, group_kind, n_hubs, share, exponent, entities, at_signup=0.0):
            users = accounts[rng.random(n) < share]
            which = rng.choice(n_hubs, len(users), p=popularity(n_hubs, exponent))
            seen = self.created[users] + ((self.as_of - self.created[users]) * rng.random(len(users))).astype(
                np.int64
            )
            signup = rng.random(len(users)) < at_signup
            seen[signup] = self.created[users[signup]] + self.days(0, 0.05, int(signup.sum()))
            self.link(users, kind, entities[which], seen)
            numbers = self.next_group_numbers(group_kind, n_hubs)
            self.set_group(users, group_kind, numbers[which])

        n_kiosks = max(2, n // 4000)
        # Half the kiosk users signed up on the store tablet: first seen minutes after opening.
        hub(DEVICE, "kiosk", n_kiosks, 0.025, 0.5, self.alloc(DEVICE, n_kiosks), at_signup=0.5)
        n_lockers = max(2, n // 5000)
        lockers = self.new_addresses(self.new_buildings(n_lockers), np.zeros(n_lockers), 1)
        hub(ADDRESS, "parcel_locker", n_lockers, 0.04, 0.5, lockers)
        n_carrier = 3 + n // 60000
        hub(IP, "carrier_ip", n_carrier, 0.28, 0.8, self.alloc(IP, n_carrier))
        junk_devices = JUNK_BASE + np.arange(len(JUNK_VALUES[DEVICE]))
        hub(DEVICE, "junk_device", len(junk_devices), 0.03, 1.0, junk_devices)
        # Second-hand phones and recycled numbers: one identifier on two unrelated accounts,
        # the second first seen after the first.
        for kind, share in ((DEVICE, 0.004), (PHONE, 0.004)):
            second = accounts[rng.random(n) < share]
            first = rng.integers(0, n, len(second))
            ok = first != second
            second, first = second[ok], first[ok]
            reused = self.alloc(kind, len(second))
            self.link(first, kind, reused, self.created[first] + self.days(0, 400, len(first)))
            self.link(
                second,
                kind,
                reused,
                np.maximum(self.created[second], self.created[first] + 400 * DAY)
                + self.days(0, 200, len(second)),
            )
        for kind, share in ((EMAIL, 0.01), (PHONE, 0.01), (ADDRESS, 0.004)):
            users = accounts[rng.random(n) < share]
            junk = JUNK_BASE + rng.integers(0, len(JUNK_VALUES[kind]), len(users))
            self.link(
                users, kind, junk, self.created[users] + self.days(0, 30, len(users)), np.zeros(len(users))
            )

    def credit_behaviour(self) -> None:
        """Late payers and people who max their cards, unconnected to anything fraudulent."""
        rng = self.rng
        legit = np.arange(self.n_fraud, self.n)
        late = legit[rng.random(len(legit)) < 0.035]
        self.overdue[late] = np.minimum(1 + rng.geometric(1 / 25, len(late)), 120)
        self.balance[late] = np.round(
            self.limit[late] * np.minimum(rng.beta(8, 2, len(late)) * 1.05, 1.08), 2
        )
        self.set_group(late, "late_payer", self.next_group_numbers("late_payer", len(late)))
        maxed = legit[rng.random(len(legit)) < 0.02]
        self.balance[maxed] = np.round(self.limit[maxed] * rng.uniform(0.95, 1.03, len(maxed)), 2)
        self.maxed = maxed
        # A household hit by one shock (job loss, illness): several members maxed and late together.
        members, hh = self.hh_members, self.hh_of
        if len(members):
            shocked = rng.random(len(self.hh_sizes)) < 0.03
            hit = members[shocked[hh] & (rng.random(len(members)) < 0.8)]
            self.balance[hit] = np.round(self.limit[hit] * rng.uniform(0.85, 1.05, len(hit)), 2)
            shock_days = rng.integers(5, 90, len(self.hh_sizes))
            shock_late = shocked[hh] & (rng.random(len(members)) < 0.6)
            self.overdue[members[shock_late]] = np.maximum(
                shock_days[hh[shock_late]] + rng.integers(-5, 6, int(shock_late.sum())), 1
            )

    def everyday_transactions(self) -> None:
        """Card purchases for everyone, P2P in households and between friends, fan-in to landlords,
        card maxers' bursts and friendly-fraud chargebacks (in this order: the seed's draw sequence)."""
        rng, n = self.rng, self.n
        when = self.window_times()
        counts = rng.poisson(2.5, n)
        payer = np.repeat(np.arange(n, dtype=np.int64), counts)
        merchant = rng.choice(self.n_merchants, len(payer), p=self.merchant_popularity)
        self.txn(payer, merchant, False, rng.lognormal(np.log(45), 1.0, len(payer)), when(payer))
        self.p2p_payments(when)
        legit = np.arange(self.n_fraud, n)
        self.rent_payments(when, legit)
        self.splurges(when)
        self.friendly_fraud(when, legit)

    def window_times(self) -> Callable[[np.ndarray], np.ndarray]:
        """A random time per payer inside the transactions window and after the payer's account opened."""
        rng = self.rng
        window_start = np.maximum(self.created, self.as_of - TRANSACTION_WINDOW_DAYS * DAY)
        span = self.as_of - window_start

        def when(payer):
            return window_start[payer] + (span[payer] * rng.random(len(payer))).astype(np.int64)

        return when

    def p2p_payments(self, when: Callable[[np.ndarray], np.ndarray]) -> None:
        """Transfers within households and to friends."""
        rng, n = self.rng, self.n
        members, hh, rank = self.hh_members, self.hh_of, self.hh_rank
        if len(members):
            size = self.hh_sizes[hh]
            sends = rng.random(len(members)) < 0.35
            other = self.hh_start[hh] + (rank + 1 + rng.integers(0, size - 1)) % size
            p = members[sends]
            self.txn(p, other[sends], True, rng.lognormal(np.log(80), 0.9, len(p)), when(p))
        friends = np.flatnonzero(rng.random(n) < 0.08)
        self.txn(
            friends,
            rng.integers(0, n, len(friends)),
            True,
            rng.lognormal(np.log(60), 0.9, len(friends)),
            when(friends),
        )

    def rent_payments(self, when: Callable[[np.ndarray], np.ndarray], legit: np.ndarray) -> None:
        """Fan-in to landlords and small businesses, some forwarding most of it on."""
        rng, n = self.rng, self.n
        # Landlords and small businesses receive from many: fan-in alone is not fraud.
        receivers = rng.choice(legit, max(3, n // 1000), replace=False)
        n_payers = 5 + rng.poisson(18, len(receivers))
        to = np.repeat(receivers, n_payers)
        payer = rng.integers(0, n, len(to))
        rent = np.repeat(rng.lognormal(np.log(1100), 0.3, len(receivers)), n_payers)
        rent_amount = rent * rng.uniform(0.95, 1.05, len(to))
        rent_time = when(payer)
        self.txn(payer, to, True, rent_amount, rent_time)
        # A third pass most of it on (to a property manager, a supplier, a club's venue) within
        # days: fan-in then fan-out, like a mule, but for years and to an ordinary account.
        forwarding = rng.random(len(receivers)) < 0.3
        managers = rng.choice(legit, len(receivers))
        collected = np.bincount(
            np.repeat(np.arange(len(receivers)), n_payers), weights=rent_amount, minlength=len(receivers)
        )
        n_out = rng.integers(2, 7, len(receivers))
        fwd = np.repeat(np.flatnonzero(forwarding), n_out[forwarding])
        self.txn(
            receivers[fwd],
            managers[fwd],
            True,
            collected[fwd] * rng.uniform(0.6, 0.9, len(fwd)) / n_out[fwd],
            self.as_of - self.days(1, TRANSACTION_WINDOW_DAYS, len(fwd)),
        )

    def splurges(self, when: Callable[[np.ndarray], np.ndarray]) -> None:
        """Bursts of large purchases by some of the accounts that max their card."""
        rng = self.rng
        # Many who max their card do it in one go (a move, a wedding, a holiday): a burst of
        # large purchases, some at electronics and gift-card merchants, like a bust-out.
        splurgers = self.maxed[rng.random(len(self.maxed)) < 0.4]
        n_buys = rng.integers(2, 7, len(splurgers))
        buyer = np.repeat(splurgers, n_buys)
        start = np.repeat(when(splurgers), n_buys)
        merchant = np.where(
            rng.random(len(buyer)) < 0.5,
            rng.choice(self.high_value_merchants, len(buyer)),
            rng.choice(self.n_merchants, len(buyer), p=self.merchant_popularity),
        )
        share = rng.dirichlet(np.ones(3), size=len(buyer))[:, 0] * 2.0 / n_buys.repeat(n_buys)
        self.txn(
            buyer,
            merchant,
            False,
            self.limit[buyer] * rng.uniform(0.7, 0.95, len(buyer)) * share,
            start + self.days(0, 5, len(buyer)),
        )

    def friendly_fraud(self, when: Callable[[np.ndarray], np.ndarray], legit: np.ndarray) -> None:
        """Chargebacks a few legit customers raise on purchases they made."""
        rng = self.rng
        # Friendly fraud: a few legit customers dispute a purchase they made.
        disputers = legit[rng.random(len(legit)) < 0.004]
        self.txn(
            disputers,
            rng.choice(self.n_merchants, len(disputers), p=self.merchant_popularity),
            False,
            rng.lognormal(np.log(120), 0.8, len(disputers)),
            when(disputers),
            np.full(len(disputers), CHARGEBACK),
        )

    def outcomes(self) -> np.ndarray:
        """Legit labels (verified customers) and account statuses; returns status codes."""
        rng, n = self.rng, self.n
        unlabelled = self.label == 0
        ato_victim = np.zeros(n, dtype=bool)
        for ring, kind in enumerate(self.ring_kinds):
            if kind == 1:
                ato_victim[self.ring_of == ring] = True
        verified = unlabelled & (np.arange(n) >= self.n_fraud) & (rng.random(n) < 0.015)
        verified |= unlabelled & ato_victim & (rng.random(n) < 0.01)  # verified before the takeover
        self.label[verified] = 2
        status = np.zeros(n, dtype=np.int8)
        status[rng.random(n) < 0.03] = 2
        status[self.repeat_first[rng.random(len(self.repeat_first)) < 0.4]] = 2
        suspended = ((self.label == 1) & (rng.random(n) < 0.85)) | (
            (self.overdue > 90) & (rng.random(n) < 0.4)
        )
        suspended |= rng.random(n) < 0.003
        status[suspended] = 1
        return status

    # ----- strings, once per distinct (entity, variant)

    def render_values(self, kind: np.ndarray, entity: np.ndarray, variant: np.ndarray):
        """The text of every (kind, entity, variant) observation: (dictionary, code per row)."""
        spellings = Spellings(self.salt, self.address_parts, self.email_domain_parts)
        return spellings.render_values(kind, entity, variant)
