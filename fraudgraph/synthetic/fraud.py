"""Planting fraud: rings (bust-out, account-takeover farm, mule network) in weak, medium and
strong variants, the ties that keep every ring connected, and lone fraudsters who share nothing
below the hub size with other fraud."""

from __future__ import annotations

import numpy as np

from fraudgraph.synthetic.arrays import (
    spelled_apart,
    tie_keys,
)
from fraudgraph.synthetic.core import BuilderCore
from fraudgraph.synthetic.kinds import (
    ADDRESS,
    BANK,
    CARD,
    CHARGEBACK,
    DAY,
    DECLINED,
    DEVICE,
    EMAIL,
    HOUR,
    HUB_CAP,
    IP,
    NATIONAL_ID,
    PHONE,
)
from fraudgraph.synthetic.people import (
    GMAIL,
    JUNK_BASE,
)


class FraudSteps(BuilderCore):
    """The builder steps that plan and plant fraud."""

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
            kinds = [DEVICE, ADDRESS, CARD, EMAIL, IP] + [x for x in (PHONE, NATIONAL_ID) if rng.random() < 0.5]
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
        bank_users = self.share(victims, BANK, payout, link_prob, 0.0, taken + self.days(0, 0.2, len(victims)))
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
        received = np.bincount(np.repeat(np.arange(len(receivers)), n_in), weights=amount_in, minlength=len(receivers))
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
