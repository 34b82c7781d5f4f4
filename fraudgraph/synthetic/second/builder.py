"""The mutable state the second generator fills in: accounts, truth, link and transaction rows.

Why a builder: the tactics and look-alikes are written as small functions over index arrays of
accounts; each appends whole arrays (never one row at a time), so 100k accounts stay fast.
"""

from __future__ import annotations

import numpy as np

from fraudgraph.synthetic.second.render import KIND_CODE, KINDS, N_VARIANTS, TYPO

DAY = 86_400


class Builder:
    """Arrays for ``n`` accounts, times as int64 seconds since the epoch."""

    def __init__(self, n: int, rng: np.random.Generator, as_of: int) -> None:
        self.n, self.rng, self.as_of = n, rng, as_of
        age_days = np.minimum(rng.exponential(700, n), 3650) + 1
        self.created = as_of - (age_days * DAY).astype(np.int64) + rng.integers(0, DAY, n)
        self.limit = np.round(np.exp(rng.normal(np.log(3500), 0.7, n)).clip(300, 40_000), -1)
        self.balance = np.zeros(n)
        self.overdue = np.zeros(n, np.int64)
        self.status = np.full(n, "active", dtype=object)
        self.label = np.full(n, "", dtype=object)
        self.is_fraud = np.zeros(n, bool)
        self.ring = np.full(n, -1, np.int64)
        self.ring_kind = np.full(n, "", dtype=object)
        self.group = np.full(n, -1, np.int64)
        self.group_kind = np.full(n, "", dtype=object)
        self.group_counter: dict[str, int] = {}
        self.counters = dict.fromkeys(KINDS, 0)
        self.links: list[tuple[np.ndarray, ...]] = []
        self.txns: list[tuple[np.ndarray, ...]] = []

    def new(self, kind: str, count: int) -> np.ndarray:
        """``count`` fresh entities of ``kind`` (never shared unless the caller shares them)."""
        start = self.counters[kind]
        self.counters[kind] = start + int(count)
        return np.arange(start, start + int(count), dtype=np.int64)

    def opened(self, count: int, lo_days: int, hi_days: int, spread_days: int) -> np.ndarray:
        """Opening times of ``count`` accounts: a start ``lo_days``..``hi_days`` before the extract,
        then spread over ``spread_days``; never later than a day before the extract."""
        start = self.as_of - int(self.rng.integers(lo_days, hi_days)) * DAY
        return np.minimum(start + self.rng.integers(0, spread_days * DAY, count), self.as_of - DAY)

    def later(self, accounts: np.ndarray, within_days: int) -> np.ndarray:
        """A time after each account's opening (and before the extract)."""
        t = self.created[accounts] + self.rng.integers(0, within_days * DAY + 1, len(accounts))
        return np.minimum(t, self.as_of - 60)

    def link(self, accounts, kind: str, entities, seen, extra=None, variant=None) -> None:
        """Observations of identifiers; the spelling varies (mostly one canonical form, some
        variants that normalize to the same key, and about 1% of addresses with a real typo)."""
        accounts = np.asarray(accounts, np.int64)
        m = len(accounts)
        if m == 0:
            return
        if variant is None:
            variant = np.where(self.rng.random(m) < 0.7, 0, self.rng.integers(1, N_VARIANTS, m))
            if kind == "address":
                variant = np.where(self.rng.random(m) < 0.01, TYPO, variant)
        extra = np.zeros(m, np.int64) if extra is None else np.broadcast_to(np.asarray(extra, np.int64), (m,))
        seen = np.minimum(np.broadcast_to(np.asarray(seen, np.int64), (m,)), self.as_of - 60)
        seen = np.maximum(seen, self.created[accounts])
        code = np.full(m, KIND_CODE[kind], np.int64)
        self.links.append(
            (
                accounts,
                code,
                np.asarray(entities, np.int64),
                np.asarray(variant, np.int64),
                np.asarray(extra, np.int64).copy(),
                seen,
            )
        )

    def txn(self, payer, counterparty, to_account, amount, when, status=None) -> None:
        """Transactions: counterparty is an account index (to_account) or a merchant number."""
        m = len(payer)
        if m == 0:
            return
        status = np.full(m, "settled", dtype=object) if status is None else status
        self.txns.append(
            (
                np.asarray(payer, np.int64),
                np.asarray(counterparty, np.int64),
                np.broadcast_to(np.asarray(to_account, bool), (m,)).copy(),
                np.round(np.asarray(amount, float), 2),
                np.minimum(when, self.as_of - 1),
                status,
            )
        )

    def set_group(self, members, kind: str, local_ids, only_empty: bool = False) -> None:
        """Record an innocent group in truth; group ids are numbered per kind."""
        members = np.asarray(members, np.int64)
        base = self.group_counter.get(kind, 0)
        ids = base + np.asarray(local_ids, np.int64)
        self.group_counter[kind] = int(ids.max()) + 1 if len(ids) else base
        if only_empty:
            keep = self.group_kind[members] == ""
            members, ids = members[keep], ids[keep]
        self.group[members] = ids
        self.group_kind[members] = kind

    def sizes(self, total: int, median: float, sigma: float, lo: int, hi: int) -> np.ndarray:
        """Group sizes with a long tail that add up to about ``total``."""
        out: list[int] = []
        while sum(out) < total:
            out.extend(np.clip(np.round(self.rng.lognormal(np.log(median), sigma, 64)), lo, hi).astype(int))
        sizes = np.array(out, np.int64)
        keep = np.searchsorted(np.cumsum(sizes), total) + 1
        sizes = sizes[:keep]
        sizes[-1] = max(lo, sizes[-1] - (int(sizes.sum()) - total))
        return sizes
