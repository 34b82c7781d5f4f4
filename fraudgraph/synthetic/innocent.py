"""Innocent look-alikes: households, repeat customers, extended families, apartment blocks,
corporate cards, kiosks, lockers, carrier IPs and junk values, credit behaviour and everyday money,
all of which share identifiers or move money the way rings do without being fraud."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fraudgraph.synthetic.arrays import (
    group_sizes,
    lognormal_sizes,
    popularity,
    ranks,
)
from fraudgraph.synthetic.core import BuilderCore
from fraudgraph.synthetic.kinds import (
    ADDRESS,
    BANK,
    CARD,
    CHARGEBACK,
    DAY,
    DEVICE,
    EMAIL,
    HOUR,
    IP,
    NATIONAL_ID,
    PHONE,
    TRANSACTION_WINDOW_DAYS,
)
from fraudgraph.synthetic.people import (
    JUNK_BASE,
    JUNK_VALUES,
)


class InnocentSteps(BuilderCore):
    """The builder steps that make the legit population and its innocent structures."""

    # ----- population plan

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
        new_offices = self.new_addresses(self.new_buildings(len(sizes)), rng.integers(100, 2000, len(sizes)), 1)
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
            seen = self.created[users] + ((self.as_of - self.created[users]) * rng.random(len(users))).astype(np.int64)
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
                np.maximum(self.created[second], self.created[first] + 400 * DAY) + self.days(0, 200, len(second)),
            )
        for kind, share in ((EMAIL, 0.01), (PHONE, 0.01), (ADDRESS, 0.004)):
            users = accounts[rng.random(n) < share]
            junk = JUNK_BASE + rng.integers(0, len(JUNK_VALUES[kind]), len(users))
            self.link(users, kind, junk, self.created[users] + self.days(0, 30, len(users)), np.zeros(len(users)))

    def credit_behaviour(self) -> None:
        """Late payers and people who max their cards, unconnected to anything fraudulent."""
        rng = self.rng
        legit = np.arange(self.n_fraud, self.n)
        late = legit[rng.random(len(legit)) < 0.035]
        self.overdue[late] = np.minimum(1 + rng.geometric(1 / 25, len(late)), 120)
        self.balance[late] = np.round(self.limit[late] * np.minimum(rng.beta(8, 2, len(late)) * 1.05, 1.08), 2)
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
        suspended = ((self.label == 1) & (rng.random(n) < 0.85)) | ((self.overdue > 90) & (rng.random(n) < 0.4))
        suspended |= rng.random(n) < 0.003
        status[suspended] = 1
        return status
