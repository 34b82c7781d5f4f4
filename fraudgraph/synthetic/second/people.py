"""The innocent side of the second world: people, their own identifiers and the look-alike groups.

Why these groups: each one shares identifiers the way a fraud ring does, for an innocent reason
the first generator does not model (student housing, care homes, family cards, company fleets,
recycled prepaid numbers), so a detector tuned on the first world meets them unseen here.
"""

from __future__ import annotations

import numpy as np

from fraudgraph.synthetic.second.builder import DAY, Builder

GROUP_KINDS = (
    "care_home",
    "student_housing",
    "fleet_business",
    "family_card",
    "household",
    "roommates",
    "recycled_phone",
    "public_wifi",
    "parcel_locker",
    "cafe_device",
)


def own_identifiers(b: Builder, people: np.ndarray) -> None:
    """Everyone's own email, phone, device(s), home IP and card; most have an SSN and a bank account."""
    n = len(people)
    seen = b.created[people]
    for kind in ("email", "phone"):
        entity = b.new(kind, n)
        extra = b.rng.integers(0, 6, n) if kind == "email" else np.zeros(n, np.int64)
        b.link(people, kind, entity, seen, extra=extra)
        # Checkout forms re-record it later in another spelling (sub-address, other phone format).
        again = b.rng.random(n) < 0.15
        b.link(
            people[again],
            kind,
            entity[again],
            b.later(people[again], 300),
            extra=extra[again],
            variant=b.rng.integers(1, 4, int(again.sum())),
        )
    b.link(people, "device", b.new("device", n), seen + b.rng.integers(0, 3 * DAY, n))
    second = people[b.rng.random(n) < 0.35]
    b.link(second, "device", b.new("device", len(second)), b.later(second, 400))
    has_ssn = people[b.rng.random(n) < 0.9]
    b.link(has_ssn, "national_id", b.new("national_id", len(has_ssn)), b.created[has_ssn])
    has_bank = people[b.rng.random(n) < 0.6]
    b.link(has_bank, "bank_account", b.new("bank_account", len(has_bank)), b.later(has_bank, 60))


def solo_homes(b: Builder, people: np.ndarray) -> None:
    """People living alone: own address, own home IP, own card."""
    n = len(people)
    b.link(people, "address", b.new("address", n), b.created[people])
    b.link(people, "ip", b.new("ip", n), b.later(people, 30))
    b.link(people, "card", b.new("card", n), b.later(people, 10))


def shared_home(b: Builder, members: np.ndarray, sizes: np.ndarray, kind: str, share_card: float) -> None:
    """Households and roommates: one address (several spellings), one router IP, sometimes one card."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    n_groups = len(sizes)
    b.set_group(members, kind, group)
    homes = b.new("address", n_groups)
    unit = np.where(b.rng.random(n_groups) < 0.4, b.rng.integers(1, 40, n_groups), 0)
    b.link(members, "address", homes[group], b.created[members], extra=unit[group])
    b.link(members, "ip", b.new("ip", n_groups)[group], b.later(members, 30))
    shared = b.rng.random(n_groups) < share_card
    cards = np.where(shared, b.new("card", n_groups), -1)[group]
    own = cards < 0
    cards[own] = b.new("card", int(own.sum()))
    b.link(members, "card", cards, b.later(members, 20))
    tablet = (b.rng.random(n_groups) < 0.3)[group]
    b.link(members[tablet], "device", b.new("device", n_groups)[group[tablet]], b.later(members[tablet], 200))


def student_housing(b: Builder, members: np.ndarray, sizes: np.ndarray) -> None:
    """Dorms: young accounts opened in September bursts, one street address with unit numbers that
    half the students leave out, a handful of dorm NAT IPs, low lines."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    b.set_group(members, "student_housing", group)
    year = b.rng.integers(2021, 2027, len(sizes))[group]
    sept = np.array([f"{y}-09-01" for y in range(2021, 2027)], dtype="datetime64[s]").astype(np.int64)
    b.created[members] = sept[year - 2021] + b.rng.integers(0, 21 * DAY, len(members))
    b.created[members] = np.minimum(b.created[members], b.as_of - 2 * DAY)
    b.limit[members] = np.round(b.rng.uniform(300, 1500, len(members)), -1)
    buildings = b.new("address", len(sizes))
    unit = np.where(b.rng.random(len(members)) < 0.5, b.rng.integers(100, 460, len(members)), 0)
    b.link(members, "address", buildings[group], b.created[members], extra=unit)
    n_nat = np.maximum(1, sizes // 15)
    nat_base = b.new("ip", int(n_nat.sum()))
    start = np.concatenate([[0], np.cumsum(n_nat)[:-1]])
    pick = start[group] + b.rng.integers(0, n_nat[group])
    b.link(members, "ip", nat_base[pick], b.later(members, 60))
    b.link(members, "card", b.new("card", len(members)), b.later(members, 10))


def care_homes(b: Builder, members: np.ndarray, sizes: np.ndarray) -> None:
    """Care homes: elderly residents at one address and one facility phone; staff manage one bank
    account for several residents (3-8 each)."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    b.set_group(members, "care_home", group)
    b.created[members] = b.as_of - b.rng.integers(200 * DAY, 3000 * DAY, len(members))
    b.link(members, "address", b.new("address", len(sizes))[group], b.later(members, 5))
    on_phone = b.rng.random(len(members)) < 0.7
    b.link(
        members[on_phone],
        "phone",
        b.new("phone", len(sizes))[group[on_phone]],
        b.later(members[on_phone], 30),
    )
    rank = np.arange(len(members)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    per_account = b.rng.integers(3, 9, len(sizes))[group]
    bank_slot = rank // per_account
    n_slots = int(bank_slot.max()) + 1 if len(members) else 0
    bank = b.new("bank_account", len(sizes) * n_slots).reshape(len(sizes), max(n_slots, 1))
    b.link(members, "bank_account", bank[group, bank_slot], b.later(members, 90))
    b.link(members, "card", b.new("card", len(members)), b.later(members, 10))
    b.limit[members] = np.round(b.rng.uniform(500, 3000, len(members)), -1)


def family_cards(b: Builder, members: np.ndarray, sizes: np.ndarray) -> None:
    """Parents and adult children on one card; the children mostly live elsewhere now."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    b.set_group(members, "family_card", group)
    b.link(members, "card", b.new("card", len(sizes))[group], b.later(members, 100))
    home = b.new("address", len(sizes))[group]
    at_home = b.rng.random(len(members)) < 0.45
    addr = np.where(at_home, home, b.new("address", len(members)))
    b.link(members, "address", addr, b.created[members])
    b.link(members, "ip", b.new("ip", len(members)), b.later(members, 30))


def fleet_businesses(b: Builder, members: np.ndarray, sizes: np.ndarray) -> None:
    """Employees of one company: one corporate egress IP, company phones enrolled from one image
    (1-3 identical device fingerprints per firm), a corporate email domain, own home and card."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    b.set_group(members, "fleet_business", group)
    b.link(members, "ip", b.new("ip", len(sizes))[group], b.later(members, 90))
    n_images = b.rng.integers(1, 4, len(sizes))
    images = b.new("device", 3 * len(sizes)).reshape(len(sizes), 3)
    pick = b.rng.integers(0, n_images[group])
    enrolled = b.rng.random(len(members)) < 0.8
    b.link(members[enrolled], "device", images[group, pick][enrolled], b.later(members[enrolled], 120))
    domain = 10 + group
    b.link(members, "email", b.new("email", len(members)), b.later(members, 60), extra=domain)
    solo_homes(b, members)


def recycled_phones(b: Builder, people: np.ndarray) -> None:
    """A carrier gives a prepaid number to someone new years after its last owner left it."""
    pairs = people[: len(people) // 2 * 2].reshape(-1, 2)
    b.set_group(pairs.ravel(), "recycled_phone", np.repeat(np.arange(len(pairs)), 2))
    old, new = pairs[:, 0], pairs[:, 1]
    b.created[old] = b.as_of - b.rng.integers(1500 * DAY, 2500 * DAY, len(pairs))
    b.created[new] = b.as_of - b.rng.integers(30 * DAY, 500 * DAY, len(pairs))
    numbers = b.new("phone", len(pairs))
    b.link(old, "phone", numbers, b.created[old])
    b.link(new, "phone", numbers, b.created[new])


def public_hubs(b: Builder, innocents: np.ndarray) -> dict[str, np.ndarray]:
    """Public Wi-Fi IPs, parcel lockers and café tablets: each used by 15-250 innocent people.
    Returns the hub entities so camouflaged rings can hide among them."""
    hubs: dict[str, np.ndarray] = {}
    n = len(innocents)
    for name, kind, share in (
        ("public_wifi", "ip", 0.04),
        ("parcel_locker", "address", 0.03),
        ("cafe_device", "device", 0.01),
    ):
        users = b.rng.choice(innocents, int(share * n), replace=False)
        users.sort()
        n_hubs = max(1, len(users) // 60)
        weight = 1.0 / np.arange(1, n_hubs + 1) ** 0.6
        hub = b.rng.choice(n_hubs, len(users), p=weight / weight.sum())
        entities = b.new(kind, n_hubs)
        b.set_group(users, name, hub, only_empty=True)
        b.link(users, kind, entities[hub], b.later(users, 365), extra=np.full(len(users), 0))
        hubs[name] = entities
    return hubs


def student_spending(b: Builder, students: np.ndarray, electronics: int) -> None:
    """Students lean on their small lines (half used on average), and a new term's cohort buys
    laptops and books at electronics stores (merchants below ``electronics``) in its first weeks."""
    k = len(students)
    b.balance[students] = np.round(b.limit[students] * b.rng.beta(2.2, 1.8, k), 2)
    new = students[b.created[students] > b.as_of - 120 * DAY]
    buys = b.rng.random(len(new)) < 0.6
    new = new[buys]
    when = b.created[new] + b.rng.integers(0, 10 * DAY, len(new))
    b.txn(
        new,
        b.rng.integers(0, electronics, len(new)),
        False,
        b.balance[new] * b.rng.uniform(0.5, 0.9, len(new)),
        when,
    )
