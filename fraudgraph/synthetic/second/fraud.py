"""The fraud side of the second world: ring tactics, lone fraudsters, and how rings spend.

Why these tactics: each hides from a different detector habit. Sleeper rings have not busted out
yet (no overdue, no label), instrument rings share only a card or bank account, camouflaged rings
bury their ties among public hubs, synthetic identities reuse an SSN under fresh phones and emails,
slow rings grow over months so no burst shows, and mules move money between members.
Every ring member shares at least one identifier with another member of its ring.
"""

from __future__ import annotations

import numpy as np

from fraudgraph.synthetic.second.builder import DAY, Builder

# tactic -> (share of ring fraud, median size, sigma, min size, max size)
TACTICS: dict[str, tuple[float, float, float, int, int]] = {
    "sleeper": (0.25, 14, 0.5, 8, 40),
    "instrument_only": (0.12, 4, 0.4, 3, 12),
    "camouflaged": (0.15, 6, 0.5, 3, 20),
    "synthetic_id": (0.20, 6, 0.6, 3, 30),
    "slow_grow": (0.13, 8, 0.5, 3, 30),
    "mule_network": (0.15, 5, 0.5, 3, 15),
}
LONE_KIND = "lone"
HIGH_RISK_MERCHANTS = 40  # merchants 0..39: electronics, gift cards, crypto on-ramps


def fraud_person(b: Builder, members: np.ndarray) -> None:
    """What every fraudster has of their own: an email, a phone, a device."""
    n = len(members)
    b.link(members, "email", b.new("email", n), b.created[members], extra=b.rng.integers(0, 6, n))
    b.link(members, "phone", b.new("phone", n), b.created[members])
    b.link(members, "device", b.new("device", n), b.created[members])


def own(b: Builder, members: np.ndarray, *kinds: str) -> None:
    for kind in kinds:
        b.link(members, kind, b.new(kind, len(members)), b.later(members, 20))


def pooled(b: Builder, members: np.ndarray, kind: str, pool: int, share: float = 1.0, stagger: int = 0) -> None:
    """Members draw from a small pool of shared entities; every used entity gets at least two users
    (member i takes slot i mod pool, with pool <= users / 2)."""
    users = members[: max(2, int(round(share * len(members))))] if share < 1 else members
    pool = int(max(1, min(pool, len(users) // 2)))
    slot = (np.arange(len(users)) + stagger) % pool
    b.link(users, kind, b.new(kind, pool)[slot], b.later(users, 5))


def spend(b: Builder, members: np.ndarray, amount: np.ndarray, start: np.ndarray, days: int) -> None:
    """Card spending of ``amount`` per member in 2-6 purchases between start and start + days."""
    if len(members) == 0:
        return
    count = b.rng.integers(2, 7, len(members))
    payer = np.repeat(members, count)
    share = b.rng.random((len(members), 6)) * (np.arange(6) < count[:, None])
    share /= share.sum(axis=1, keepdims=True)
    parts = share[np.arange(6) < count[:, None]] * np.repeat(amount, count)
    when = np.repeat(start, count) + b.rng.integers(0, days * DAY, len(payer))
    merchant = b.rng.integers(0, HIGH_RISK_MERCHANTS, len(payer))
    b.txn(payer, merchant, False, np.maximum(parts, 1.0), when)


def credit(b: Builder, members: np.ndarray, busted: bool, low: float, high: float) -> None:
    """Balances as a share of the line; a busted ring maxes out and stops paying."""
    k = len(members)
    if busted:
        b.balance[members] = np.round(b.limit[members] * b.rng.uniform(0.92, 1.05, k), 2)
        late = b.rng.random(k) < 0.85
        b.overdue[members] = np.where(late, b.rng.integers(31, 150, k), 0)
        confirmed = members[b.rng.random(k) < 0.12]
        b.label[confirmed] = "fraud"
    else:
        b.balance[members] = np.round(b.limit[members] * b.rng.uniform(low, high, k), 2)
    recent = np.minimum(b.created[members] + 14 * DAY, b.as_of - 3 * DAY)
    spend(b, members, b.balance[members], recent, 60 if busted else 7)


def sleeper(b: Builder, m: np.ndarray, hubs: dict) -> None:
    """Opened in a burst of 1-2 weeks, one card and one delivery address for all, most on one IP,
    a few devices; 40-90% of each line spent in the first week; nobody overdue yet."""
    k = len(m)
    end = b.as_of - int(b.rng.integers(3, 26)) * DAY
    b.created[m] = end - b.rng.integers(0, int(b.rng.integers(7, 15)) * DAY, k)
    b.limit[m] = np.round(b.rng.uniform(1500, 4000, k), -1)
    fraud_person(b, m)
    for kind in ("card", "address"):
        b.link(m, kind, np.full(k, b.new(kind, 1)[0]), b.later(m, 2))
    on_ip = m[b.rng.random(k) < b.rng.uniform(0.55, 0.8)]
    if len(on_ip) < 2:
        on_ip = m[:2]
    b.link(on_ip, "ip", np.full(len(on_ip), b.new("ip", 1)[0]), b.later(on_ip, 2))
    pooled(b, m, "device", max(1, k // 6))
    b.balance[m] = np.round(b.limit[m] * b.rng.uniform(0.4, 0.9, k), 2)
    spend(b, m, b.balance[m], b.created[m], 7)


def instrument_only(b: Builder, m: np.ndarray, hubs: dict) -> None:
    """Members have their own everything except a payment card (and often a payout bank account)."""
    k = len(m)
    b.created[m] = b.opened(k, 130, 400, 120)
    fraud_person(b, m)
    own(b, m, "address", "ip")
    pooled(b, m, "card", 1 if k < 7 else 2)
    if b.rng.random() < 0.5:
        pooled(b, m, "bank_account", 1, share=0.6)
    else:
        own(b, m, "bank_account")
    credit(b, m, busted=b.rng.random() < 0.5, low=0.3, high=0.7)


def camouflaged(b: Builder, m: np.ndarray, hubs: dict) -> None:
    """A few shared devices and a drop phone inside the ring, and every member on 1-3 public hubs
    (Wi-Fi IP, parcel locker, café tablet) shared with many innocent people."""
    k = len(m)
    b.created[m] = b.opened(k, 70, 300, 60)
    fraud_person(b, m)
    own(b, m, "address", "card", "ip")
    pooled(b, m, "device", max(1, k // 3))
    pooled(b, m, "phone", 1, share=0.5)
    for name, kind in (("public_wifi", "ip"), ("parcel_locker", "address"), ("cafe_device", "device")):
        users = m[b.rng.random(k) < 0.7]
        hub = hubs[name][b.rng.integers(0, len(hubs[name]), len(users))]
        b.link(users, kind, hub, b.later(users, 30))
    credit(b, m, busted=b.rng.random() < 0.5, low=0.3, high=0.8)


def synthetic_id(b: Builder, m: np.ndarray, hubs: dict) -> None:
    """Mosaics of identity elements: a few SSNs reused under fresh phones and emails, some phones
    and addresses reused across identities."""
    k = len(m)
    b.created[m] = b.opened(k, 210, 600, 200)
    fraud_person(b, m)
    own(b, m, "card", "ip")
    pooled(b, m, "national_id", max(1, k // 4))
    perm = b.rng.permutation(m)
    pooled(b, perm, "phone", max(1, k // 3), share=0.5)
    pooled(b, b.rng.permutation(m), "address", max(1, k // 5), share=0.6)
    credit(b, m, busted=b.rng.random() < 0.6, low=0.2, high=0.6)


def slow_grow(b: Builder, m: np.ndarray, hubs: dict) -> None:
    """Members added one by one over 6-18 months; consecutive recruits share a device (three at a
    time) and the recruit bridging two device groups an IP; the oldest may have stopped paying."""
    k = len(m)
    span = int(b.rng.integers(180, 540)) * DAY
    b.created[m] = b.as_of - span + np.sort(b.rng.integers(0, span - 5 * DAY, k))
    fraud_person(b, m)
    own(b, m, "address", "card")
    i = np.arange(k)
    slot = np.minimum(i // 3, max(0, (k - 2) // 3))
    b.link(m, "device", b.new("device", int(slot.max()) + 1)[slot], b.later(m, 10))
    bridge = (i % 3 == 2) & (i + 1 < k)
    pairs = np.concatenate([m[bridge], m[np.flatnonzero(bridge) + 1]])
    ips = b.new("ip", int(bridge.sum()))
    b.link(pairs, "ip", np.concatenate([ips, ips]), b.later(pairs, 10))
    credit(b, m, busted=False, low=0.5, high=0.95)
    if b.rng.random() < 0.4:
        oldest = m[: max(1, k // 5)]
        b.overdue[oldest] = b.rng.integers(30, 120, len(oldest))
        b.balance[oldest] = b.limit[oldest]


def mule_network(b: Builder, m: np.ndarray, hubs: dict) -> None:
    """Money mules: one or two handler devices, most on one IP, own bank accounts; money passes
    member to member and out to crypto on-ramps; scam victims pay in."""
    k = len(m)
    b.created[m] = b.opened(k, 100, 400, 90)
    b.limit[m] = np.round(b.rng.uniform(500, 2000, k), -1)
    fraud_person(b, m)
    own(b, m, "address", "card", "bank_account")
    pooled(b, m, "device", 1 if k < 8 else 2)
    pooled(b, m, "ip", 1, share=0.7)
    hops = b.rng.integers(3, 11, k)
    payer = np.repeat(m, hops)
    pos = np.repeat(np.arange(k), hops)
    to = m[(pos + b.rng.integers(1, k, len(payer))) % k]
    when = np.maximum(b.as_of - b.rng.integers(1, 60 * DAY, len(payer)), b.created[payer])
    b.txn(payer, to, True, b.rng.uniform(200, 2500, len(payer)), when)
    b.txn(m, b.rng.integers(0, HIGH_RISK_MERCHANTS, k), False, b.rng.uniform(500, 4000, k), when[:k])
    b.balance[m] = np.round(b.limit[m] * b.rng.uniform(0.0, 0.3, k), 2)


def victims_pay_mules(b: Builder, mules: np.ndarray, innocents: np.ndarray) -> None:
    if len(mules) == 0 or len(innocents) == 0:
        return
    victims = b.rng.choice(innocents, min(len(innocents), 2 * len(mules)), replace=False)
    when = np.maximum(b.as_of - b.rng.integers(1, 60 * DAY, len(victims)), b.created[victims])
    b.txn(victims, b.rng.choice(mules, len(victims)), True, b.rng.uniform(100, 3000, len(victims)), when)


def lone(b: Builder, m: np.ndarray) -> None:
    """A fraudster alone: own identifiers only, line maxed, stopped paying."""
    b.created[m] = b.as_of - b.rng.integers(60 * DAY, 400 * DAY, len(m))
    fraud_person(b, m)
    own(b, m, "address", "card", "ip")
    credit(b, m, busted=True, low=0.9, high=1.0)


TACTIC_FUNCTIONS = {
    "sleeper": sleeper,
    "instrument_only": instrument_only,
    "camouflaged": camouflaged,
    "synthetic_id": synthetic_id,
    "slow_grow": slow_grow,
    "mule_network": mule_network,
}
