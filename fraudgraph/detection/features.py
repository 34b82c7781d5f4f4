"""Ring and account features: structure, synchrony, credit behaviour, money flow, identity
consistency (recombined identities), known outcomes.

Everything is computed in a few vectorized passes over the sweep's sparse structures; the
feature frames are indexed by cluster number (rings) and account position (accounts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fraudgraph.detection.graph import STRONG_KINDS, DetectionConfig, IdentityGraph, epoch_days, positions
from fraudgraph.detection.rings import CandidateRings, MoneyFlow, money_flow

MEDIUM_KINDS = frozenset({"address", "phone", "email"})
# The elements that make up a person's identity on an application. Accounts sharing some of them
# while disagreeing on others are a mosaic of recombined identities (synthetic identity fraud).
PERSONAL_KINDS = ("national_id", "phone", "email")
# What one person with two accounts also brings along: the same home, the same phone or laptop.
# Holders of a shared personal element who also share one of these are treated as one person (a
# repeat customer who changed e-mail) or one household (a landline), not as a recombined identity.
SAME_PERSON_KINDS = ("address", "device")
# What pays or proves who one is: a card, a bank account, a national id. Many accounts behind one
# of them is a ring's tell (a family card has a few holders, a ring's card has a crowd).
INSTRUMENT_KINDS = ("card", "bank_account", "national_id")


@dataclass
class SharedIdentifiers:
    """Identifiers that link two or more members of the same ring.

    frame: one row per (cluster, identifier): cluster, identifier (column of the incidence),
        kind, key, n_members (ring members using it), n_accounts (all accounts using it),
        weight, first_seen_min / first_seen_max (days, over the ring's members), n_recent
        (members whose first use is within the burst window).
        Identity consistency of its holders (ring members using it), for personal kinds
        (``PERSONAL_KINDS``; zero / False for other kinds): distinct_national_id /
        distinct_phone / distinct_email (distinct non-hub values of that kind among the holders),
        conflicts (bit i set when the holders disagree on ``PERSONAL_KINDS[i]``: two or more of
        them have one and no value is common to all who do), same_person (two or more holders
        also share an address or a device: one person or one home), varied and recombined (see
        ``identity_conflicts``).
    member_rows / member_identifiers / member_first_seen / member_in_sync: one entry per
        (member, shared identifier): account position, identifier column, first use (days),
        and whether that first use is within ``sync_days`` of the ring's median first use.
    member_recombined / member_varied: per entry, whether that shared identifier is recombined /
        varied.
    member_frame_rows: per entry, its row of ``frame`` (its identifier's kind and key there).
    """

    frame: pd.DataFrame
    member_rows: np.ndarray
    member_identifiers: np.ndarray
    member_first_seen: np.ndarray
    member_in_sync: np.ndarray
    member_recombined: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    member_varied: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    member_frame_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def spend_bursts(
    transactions: pd.DataFrame | None,
    account_ids: pd.Index,
    window_days: float = 7.0,
    *,
    payer: np.ndarray | None = None,
) -> np.ndarray:
    """Per account, the most it spent at merchants within any ``window_days`` (approximately:
    the larger of two bucketings offset by half a window). NaN for every account when there are
    no transactions. A bust-out maxes the line in a few days of purchases; a customer who is
    simply deep in debt got there slowly. ``payer``: each transaction's account position in
    ``account_ids`` when already known (``positions`` of its ``account_id``)."""
    n = len(account_ids)
    if transactions is None or len(transactions) == 0:
        return np.full(n, np.nan)
    tx = transactions
    mask = (tx["counterparty_kind"] == "merchant").to_numpy()
    if "status" in tx:
        mask = mask & (tx["status"] != "declined").to_numpy()
    # Column by column, not ``tx.loc[mask]``: that copies every string column (ids, counterparties:
    # a quarter of a gigabyte at 1M accounts) for three numbers per purchase.
    pos = (positions(tx["account_id"], account_ids) if payer is None else payer)[mask]
    ok = pos >= 0
    pos = pos[ok].astype(np.int64)
    day = epoch_days(tx["timestamp"])[mask][ok]
    amount = tx["amount"].to_numpy(np.float64)[mask][ok]
    best = np.zeros(n)
    for offset in (0.0, window_days / 2):
        bucket = np.floor((day + offset) / window_days).astype(np.int64)
        span = int(bucket.max() - bucket.min() + 1) if len(bucket) else 1
        key = pos * span + (bucket - (bucket.min() if len(bucket) else 0))
        # Dense when the table of every account's buckets is not much more than the purchases
        # (one purchase decades back widens every account's row); a missing day (NaT) overflows
        # the span below 1, and goes the hashed way, as it always went.
        if 0 < span <= _DENSE_CELLS and n * span <= max(_DENSE_CELLS, _CELLS_PER_PURCHASE * len(key)):
            _dense_bucket_max(best, key, amount, span)
            continue
        codes, uniques = pd.factorize(key)
        sums = np.bincount(codes, weights=amount)
        owner = uniques // span  # each (account, bucket) key's account, with no sort
        np.maximum.at(best, owner, sums)
    return best


# Cells (account x bucket sums) of one block of ``_dense_bucket_max``: 32 MB of float64. The dense
# way is taken while the whole table holds at most _CELLS_PER_PURCHASE cells per purchase (1M
# accounts x 27 weekly buckets: 11 per purchase).
_DENSE_CELLS = 1 << 22
_CELLS_PER_PURCHASE = 16


def _dense_bucket_max(best: np.ndarray, key: np.ndarray, amount: np.ndarray, span: int) -> None:
    """``best`` raised to each account's largest bucket sum, where ``key`` = account * span +
    bucket: the sums of a block of accounts at a time in a dense table (``np.bincount``), no
    hashing of the keys. A bucket sums its amounts in input order, as the hashed way does, so the
    sums are the same to the bit; an empty bucket's 0 never raises ``best`` (which starts at 0)."""
    n = len(best)
    per_block = max(1, _DENSE_CELLS // span)
    if n <= per_block:
        sums = np.bincount(key, weights=amount, minlength=n * span)
        np.maximum(best, sums.reshape(n, span).max(axis=1), out=best)
        return
    # The keys block by block, in input order within each (a stable sort of the block numbers).
    n_blocks = -(-n // per_block)
    block = key // (per_block * span)
    # Few block numbers: 16-bit ones take numpy's radix sort (linear) instead of a merge sort.
    order = np.argsort(block.astype(np.int16) if n_blocks < 1 << 15 else block, kind="stable")
    ends = np.cumsum(np.bincount(block, minlength=n_blocks))
    start = 0
    for b, end in enumerate(ends.tolist()):
        lo, hi = b * per_block, min(n, (b + 1) * per_block)
        rows = order[start:end]
        start = end
        sums = np.bincount(key[rows] - lo * span, weights=amount[rows], minlength=(hi - lo) * span)
        np.maximum(best[lo:hi], sums.reshape(hi - lo, span).max(axis=1), out=best[lo:hi])


def chargeback_counts(
    transactions: pd.DataFrame | None, account_ids: pd.Index, *, payer: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per account: the transactions it paid and the chargebacks among them (float counts); None
    when there are no transactions or no status to tell a chargeback by. ``payer`` as for
    ``spend_bursts``."""
    if transactions is None or not len(transactions) or "status" not in transactions:
        return None
    pos = positions(transactions["account_id"], account_ids) if payer is None else payer
    ok = pos >= 0
    cb = (transactions["status"] == "chargeback").to_numpy()
    n = len(account_ids)
    return np.bincount(pos[ok], minlength=n).astype(np.float64), np.bincount(pos[ok], weights=cb[ok], minlength=n)


@dataclass
class Ledger:
    """What detection reads of the transactions, per account (rows in ``account_ids`` order, the
    identity graph's): the money flow, each account's spend burst (``spend_bursts``) and its
    transaction and chargeback counts (``chargeback_counts``). Taken once, before the graph, so
    that the transactions themselves need not be held through detection (29M rows at 10M
    accounts)."""

    flow: MoneyFlow
    spend: np.ndarray
    chargebacks: tuple[np.ndarray, np.ndarray] | None

    @classmethod
    def of(cls, transactions: pd.DataFrame | None, account_ids: pd.Index, config: DetectionConfig) -> Ledger:
        # Each payer's position is hashed once for the three (0.7 s each at 2.9M transactions).
        payer = None
        if transactions is not None and len(transactions):
            payer = positions(transactions["account_id"], account_ids)
        return cls(
            money_flow(transactions, account_ids, config, payer=payer),
            spend_bursts(transactions, account_ids, payer=payer),
            chargeback_counts(transactions, account_ids, payer=payer),
        )


def account_table(
    accounts: pd.DataFrame, graph: IdentityGraph, transactions: pd.DataFrame | Ledger | None = None
) -> pd.DataFrame:
    """The accounts frame in identity-graph row order with the numeric columns features need
    (``transactions``: the frame, or its ``Ledger``)."""
    # Only the columns read here are reordered (not the ids or the properties' JSON texts).
    wanted = [c for c in ("created_at", "credit_limit", "balance", "overdue_days", "label", "status") if c in accounts]
    acc = accounts[wanted].set_axis(accounts["account_id"].astype(str)).reindex(graph.account_ids)
    out = pd.DataFrame(index=np.arange(graph.n_accounts))
    out["created_day"] = epoch_days(acc["created_at"]) if "created_at" in acc else np.nan
    limit = pd.to_numeric(acc.get("credit_limit"), errors="coerce") if "credit_limit" in acc else None
    balance = pd.to_numeric(acc.get("balance"), errors="coerce") if "balance" in acc else None
    out["credit_limit"] = limit.to_numpy(np.float64) if limit is not None else np.nan
    out["balance"] = balance.to_numpy(np.float64) if balance is not None else np.nan
    od = pd.to_numeric(acc["overdue_days"], errors="coerce") if "overdue_days" in acc else None
    out["overdue_days"] = od.fillna(0).to_numpy(np.float64) if od is not None else 0.0
    label = acc["label"] if "label" in acc else pd.Series(None, index=acc.index, dtype=object)
    out["is_known_fraud"] = (label == "fraud").fillna(False).to_numpy(bool)
    out["is_known_legit"] = (label == "legit").fillna(False).to_numpy(bool)
    status = acc["status"] if "status" in acc else pd.Series("active", index=acc.index)
    out["is_inactive"] = status.isin(["suspended", "closed"]).to_numpy(bool)
    lim = out["credit_limit"].to_numpy()
    bal = out["balance"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(lim > 0, bal / lim, np.nan)
    out["utilization"] = util
    out["exposure"] = np.fmax(np.nan_to_num(lim, nan=0.0), np.nan_to_num(bal, nan=0.0))
    out["exposure"] = out["exposure"].clip(lower=0)
    spend = transactions.spend if isinstance(transactions, Ledger) else spend_bursts(transactions, graph.account_ids)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["spend_burst"] = np.where(lim > 0, spend / lim, np.where(np.isnan(spend), np.nan, 0.0))
    return out


def ring_clocks(graph: IdentityGraph, table: pd.DataFrame, cluster_of: np.ndarray, as_of_day: float) -> np.ndarray:
    """Per account, the day its story ends: the latest account opening or identifier first use
    among its ring's members (its own, for an account in no ring), at most ``as_of``; ``as_of``
    itself when there is no date at all.

    Time features count back from it, not from the calendar: "opened within 180 days", "picked
    up the ring's identifiers in a burst" describe what the ring did, so a ring nobody touched
    keeps its features whenever it is swept, and a sweep after a delta elsewhere gives it the
    same result as before (what lets a sweep recompute only what the delta reaches).
    """
    created = table["created_day"].to_numpy(np.float64)
    seen = graph.link_first_seen.tocsr()
    last_seen = np.full(graph.n_accounts, np.nan)
    rows = np.flatnonzero(np.diff(seen.indptr) > 0)
    if len(rows):
        last_seen[rows] = np.fmax.reduceat(seen.data, seen.indptr[rows])
    own = np.nan_to_num(np.fmax(created, last_seen), nan=-np.inf)
    clock = own.copy()
    in_ring = np.flatnonzero(cluster_of >= 0)
    if len(in_ring):
        latest = np.full(int(cluster_of[in_ring].max()) + 1, -np.inf)
        np.maximum.at(latest, cluster_of[in_ring], own[in_ring])
        clock[in_ring] = latest[cluster_of[in_ring]]
    return np.where(np.isfinite(clock), np.minimum(clock, as_of_day), as_of_day)


def _per_account(clock: np.ndarray | float, n: int) -> np.ndarray:
    """``clock`` per account row: an array as it is, one day (a plain as_of) for everybody."""
    return np.broadcast_to(np.asarray(clock, dtype=np.float64), (n,))


def shared_identifiers(
    graph: IdentityGraph, cluster_of: np.ndarray, clock: np.ndarray | float, config: DetectionConfig
) -> SharedIdentifiers:
    """Which linking identifiers each ring's members share (used by two or more members)."""
    clock = _per_account(clock, graph.n_accounts)
    inc = graph.incidence.tocoo()
    fs = graph.link_first_seen.tocoo()
    weights = graph.linking_weights()
    in_ring = (cluster_of[inc.row] >= 0) & (weights[inc.col] > 0)
    rows, cols, first = inc.row[in_ring], inc.col[in_ring], fs.data[in_ring]
    clusters = cluster_of[rows]
    recent = first >= clock[rows] - config.burst_days
    idents = graph.identifiers
    n_ident = max(len(idents), 1)
    frame, keep_pair, median_fs, row_of_member = _member_pairs(clusters, cols, first, recent, n_ident)
    # Only the rows asked for (a category of 7.4M identifiers at 1M accounts, spelled out whole
    # before): the same values, the same column.
    frame["kind"] = idents["kind"].take(frame["identifier"].to_numpy()).to_numpy()
    frame["key"] = graph.keys_of(frame["identifier"].to_numpy())
    frame["n_accounts"] = idents["n_accounts"].to_numpy()[frame["identifier"]]
    frame["weight"] = weights[frame["identifier"]]
    member_rows, member_idents, member_fs = rows[keep_pair], cols[keep_pair], first[keep_pair]
    # Link synchrony: a member who picked up a shared identifier within days of the ring's median
    # first use of it (a farm sets its accounts up together; families drift in over years).
    in_sync = np.abs(member_fs - median_fs) <= config.sync_days
    conflicts = identity_conflicts(graph, frame, member_rows, row_of_member)
    for column in conflicts.columns:
        frame[column] = conflicts[column].to_numpy()
    return SharedIdentifiers(
        frame=frame,
        member_rows=member_rows,
        member_identifiers=member_idents,
        member_first_seen=member_fs,
        member_in_sync=in_sync,
        member_recombined=frame["recombined"].to_numpy(bool)[row_of_member],
        member_varied=frame["varied"].to_numpy(bool)[row_of_member],
        member_frame_rows=row_of_member,
    )


def _member_pairs(
    clusters: np.ndarray, idents: np.ndarray, first: np.ndarray, recent: np.ndarray, n_ident: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The (ring, identifier) pairs of ring members' links that two or more members share.

    Returns the frame ``DataFrame({cluster, identifier, first_seen, recent}).groupby(["cluster",
    "identifier"], sort=True).agg(n_members=size, first_seen_min=min, first_seen_max=max,
    n_recent=sum)`` gives, less its groups of one member; which links those groups hold (in the
    links' order); the median first use of each kept link's group (as ``transform("median")``:
    missing dates skipped); and each kept link's row of the frame. On numbers, one sort of the
    pairs' keys: pandas' grouping by two columns, an ``isin`` and a second grouping for the
    medians took three times as long at 1M."""
    key = clusters.astype(np.int64) * n_ident + idents.astype(np.int64)
    # By key, and by date inside a key (missing dates last): min, max and median read off the run.
    order = np.lexsort((first, key))
    sorted_key, sorted_first = key[order], first[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) if len(key) else np.zeros(0, np.intp)
    counts = np.diff(np.r_[starts, len(key)])
    kept = counts >= 2
    dated = np.add.reduceat(~np.isnan(sorted_first), starts) if len(key) else np.zeros(0, np.int64)
    first_min = np.where(dated > 0, sorted_first[starts], np.nan)
    last_dated = np.maximum(starts + dated - 1, starts)
    first_max = np.where(dated > 0, sorted_first[last_dated], np.nan)
    low = starts + np.maximum(dated - 1, 0) // 2
    high = starts + dated // 2
    median = np.where(dated > 0, (sorted_first[low] + sorted_first[high]) / 2, np.nan)
    n_recent = np.add.reduceat(recent[order].astype(np.int64), starts) if len(key) else np.zeros(0, np.int64)
    group = np.empty(len(key), dtype=np.intp)
    group[order] = np.repeat(np.arange(len(starts)), counts)
    keep_pair = kept[group]
    head = starts[kept]
    frame = pd.DataFrame(
        {
            "cluster": clusters[order[head]],
            "identifier": idents[order[head]],
            "n_members": counts[kept].astype(np.int64),
            "first_seen_min": first_min[kept],
            "first_seen_max": first_max[kept],
            "n_recent": n_recent[kept],
        }
    )
    kept_group = group[keep_pair]
    return frame, keep_pair, median[kept_group], (np.cumsum(kept) - 1)[kept_group]


def identity_conflicts(
    graph: IdentityGraph,
    frame: pd.DataFrame,
    member_rows: np.ndarray,
    pair_row: np.ndarray,
) -> pd.DataFrame:
    """Do the ring members holding a shared personal element agree on their other ones?

    For each row of ``frame`` (one shared identifier of one ring) whose kind is personal
    (``PERSONAL_KINDS``), the holders' own non-hub identifiers of the personal kinds and of
    ``SAME_PERSON_KINDS`` are compared, including the unshared ones (an e-mail only one account
    uses is exactly what makes two holders differ). Returns, aligned with ``frame``:
    distinct_<kind> per personal kind, conflicts (bitmask over ``PERSONAL_KINDS``), same_person
    (two or more holders share an address or device), varied and recombined.

    Varied means the identity element and the national id tell different stories, and no two
    holders share an address or device: a national id whose holders disagree on phone or e-mail
    (one identity, several people: SSN misuse, a synthetic identity built on a real SSN), or a
    phone or e-mail whose holders give different national ids (several identities, one person
    behind them). Recombined means varied, and either three or more holders or a pair that
    disagrees on more of the other two personal kinds than it agrees on. One person with two
    accounts agrees on all of them, or shares a home or device; a household shares an address;
    neither is varied.

    Vectorized: one pass over the holders' incidence rows (no loop per ring or identifier).
    ``member_rows``: the account row of each member link to a shared identifier; ``pair_row``:
    each such link's row of ``frame``.
    """
    n = len(frame)
    out: dict[str, np.ndarray] = {f"distinct_{k}": np.zeros(n, dtype=np.int32) for k in PERSONAL_KINDS}
    out["conflicts"] = np.zeros(n, dtype=np.int8)
    out["same_person"] = np.zeros(n, dtype=bool)
    out["varied"] = np.zeros(n, dtype=bool)
    out["recombined"] = np.zeros(n, dtype=bool)
    out["two_of_three"] = np.zeros(n, dtype=bool)
    if n == 0 or len(member_rows) == 0:
        return pd.DataFrame(out, index=frame.index)
    code = _identity_codes(graph)
    row_kind = code[frame["identifier"].to_numpy()]
    personal_row = (row_kind >= 0) & (row_kind < len(PERSONAL_KINDS))
    if not personal_row.any():
        return pd.DataFrame(out, index=frame.index)
    holder = personal_row[pair_row]
    distinct, best, n_with = _holder_values(graph, code, n, pair_row[holder], member_rows[holder])

    n_holders = frame["n_members"].to_numpy(np.int64)
    disagree = (n_with >= 2) & (best < n_with)
    # An address or device two of the holders use: a home (households spell their address in
    # several ways, so not every member shows the same key) or one person's phone or laptop.
    same_person = best[:, len(PERSONAL_KINDS)] >= 2
    conflicts = np.zeros(n, dtype=np.int8)
    for i in range(len(PERSONAL_KINDS)):
        conflicts |= (disagree[:, i] & personal_row).astype(np.int8) << i
        out[f"distinct_{PERSONAL_KINDS[i]}"] = np.where(personal_row, distinct[:, i], 0).astype(np.int32)
    nid, phone, email = (1 << PERSONAL_KINDS.index(k) for k in ("national_id", "phone", "email"))
    is_nid = row_kind == PERSONAL_KINDS.index("national_id")
    tells_apart = np.where(is_nid, (conflicts & (phone | email)) != 0, (conflicts & nid) != 0)
    # A pair must disagree on more of the two other personal kinds than it agrees on: the same
    # national id and phone with a new e-mail is one person who changed e-mail (a repeat customer
    # whose address was typed differently), not two identities. Three or more accounts on one
    # element that disagree on the others are no repeat customer.
    other = np.arange(len(PERSONAL_KINDS))[None, :] != np.where(personal_row, row_kind, -1)[:, None]
    agree = (n_with >= 2) & (best >= n_with)
    n_disagree = (disagree[:, : len(PERSONAL_KINDS)] & other).sum(axis=1)
    n_agree = (agree[:, : len(PERSONAL_KINDS)] & other).sum(axis=1)
    out["conflicts"] = conflicts
    out["same_person"] = same_person & personal_row
    crowd = n_holders >= 3
    out["varied"] = tells_apart & personal_row & ~same_person
    out["recombined"] = out["varied"] & ((n_disagree > n_agree) | crowd)
    # Two of the three personal elements alike and the third different, no home or device in
    # common: one person holding credit under recombined details (features.two_of_three_members).
    out["two_of_three"] = out["varied"] & (n_agree >= 1) & (n_disagree >= 1)
    return pd.DataFrame(out, index=frame.index)


def _identity_codes(graph: IdentityGraph) -> np.ndarray:
    """Kind code of every identifier: 0..2 personal (``PERSONAL_KINDS``), 3 same-person, -1
    ignored; hubs carry no identity."""
    code = np.full(len(graph.identifiers), -1, dtype=np.int8)
    for i, kind in enumerate(PERSONAL_KINDS):
        code[graph.kind_mask(kind)] = i
    code[graph.kind_mask(SAME_PERSON_KINDS)] = len(PERSONAL_KINDS)
    code[graph.identifiers["is_hub"].to_numpy(bool)] = -1
    return code


def _holder_values(
    graph: IdentityGraph, code: np.ndarray, n: int, holder_row: np.ndarray, holder_account: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the holders of each shared identifier (``holder_row``: its row of the frame, one entry
    per holder) use themselves, per row and kind code (n x codes): distinct values, holders of
    the most common value, holders with any value of that kind."""
    h_row, h_acc = holder_row.astype(np.int64), holder_account.astype(np.int64)
    # Every holder's own identifiers: the CSR rows of the holders, concatenated.
    indptr, indices = graph.incidence.indptr, graph.incidence.indices
    start, count = indptr[h_acc], indptr[h_acc + 1] - indptr[h_acc]
    total = int(count.sum())
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    e_col = indices[np.repeat(start, count) + offset].astype(np.int64)
    e_row = np.repeat(h_row, count)
    e_acc = np.repeat(h_acc, count)
    keep = code[e_col] >= 0
    e_col, e_row, e_acc = e_col[keep], e_row[keep], e_acc[keep]
    e_code = code[e_col].astype(np.int64)

    # Holders per (row, identifier); distinct values and the most common one per (row, kind).
    n_ident = max(len(code), 1)
    rc, holders = np.unique(e_row * n_ident + e_col, return_counts=True)
    rc_row, rc_col = rc // n_ident, rc % n_ident
    rc_code = code[rc_col].astype(np.int64)
    n_codes = len(PERSONAL_KINDS) + 1
    slot = rc_row * n_codes + rc_code
    distinct = np.bincount(slot, minlength=n * n_codes).reshape(n, n_codes)
    best_flat = np.zeros(n * n_codes, dtype=np.int64)
    np.maximum.at(best_flat, slot, holders)
    best = best_flat.reshape(n, n_codes)
    # Holders with at least one value of each kind.
    n_acc = int(graph.n_accounts)
    with_kind = np.unique((e_row * n_codes + e_code) * n_acc + e_acc) // n_acc
    n_with = np.bincount(with_kind, minlength=n * n_codes).reshape(n, n_codes)
    return distinct, best, n_with


def group_lists(keys: np.ndarray, values: np.ndarray, limit: int | None = None) -> pd.Series:
    """Values grouped by key as Python lists (first ``limit`` per key, in input order), indexed by
    key; one sort and split instead of a Python-level groupby aggregation."""
    keys = np.asarray(keys)
    values = np.asarray(values, dtype=object)
    if len(keys) == 0:
        return pd.Series(dtype=object)
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    chunks = np.split(values, starts[1:])
    lists = [list(c[:limit]) if limit else list(c) for c in chunks]
    return pd.Series(lists, index=keys[starts], dtype=object)


def opening_core(created: np.ndarray, cluster: np.ndarray, n_clusters: int, window: float) -> np.ndarray:
    """Per member: is it in its cluster's opening core, the largest set of members opened within
    one ``window`` of days (earliest such window on ties). One sort and a binary search."""
    if len(created) == 0:
        return np.zeros(0, dtype=bool)
    c = np.nan_to_num(created, nan=-1e9)
    span = float(np.nanmax(np.abs(c))) * 4 + window * 4 + 1
    key = cluster.astype(np.float64) * span + c
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    end = np.searchsorted(sorted_key, sorted_key + window, side="right")
    count = end - np.arange(len(order))
    sorted_cluster = cluster[order]
    # Best window start per cluster: the first position with the cluster's maximum count.
    best = pd.Series(count).groupby(sorted_cluster).idxmax().reindex(range(n_clusters)).to_numpy()
    in_core = np.zeros(len(created), dtype=bool)
    pos = np.arange(len(order))
    start = best[sorted_cluster]
    stop = end[start]
    in_core[order] = (pos >= start) & (pos < stop)
    return in_core


def _per_cluster(values: np.ndarray, cluster: np.ndarray, n_clusters: int, how: str) -> np.ndarray:
    s = pd.Series(values).groupby(cluster)
    agg = getattr(s, how)()
    return agg.reindex(range(n_clusters)).to_numpy(np.float64)


def personalized_pagerank(
    adjacency: sp.csr_matrix,
    seeds: np.ndarray,
    *,
    alpha: float,
    tol: float,
    max_iter: int,
    component: np.ndarray | None = None,
) -> np.ndarray:
    """Personalized PageRank from ``seeds`` (bool mask) by power iteration, in units of one seed's
    walk mass (each seed restarts one unit): comparable across sweeps with few or many confirmed
    fraud accounts.

    Each connected component walks on its own: a component without a seed holds no mass, a
    dangling node (no edge) keeps its own, and a component stops iterating when its own L1
    change is below ``tol``. So an account's value depends on its component only, exactly: a
    delta elsewhere cannot move it. ``component``: each node's connected component in
    ``adjacency``, when the caller has them (taken here otherwise).
    """
    n = adjacency.shape[0]
    out = np.zeros(n)
    seeds = np.asarray(seeds, dtype=bool)
    if not seeds.any():
        return out
    if component is None:
        _, component = connected_components(adjacency, directed=False)
    # Only components that hold a seed carry walk mass: walk on those alone.
    nodes = np.flatnonzero(np.isin(component, np.unique(component[seeds])))
    sub = adjacency[nodes][:, nodes].tocsr()
    local = np.unique(component[nodes], return_inverse=True)[1]
    degree = np.asarray(sub.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros(len(nodes)), where=degree > 0)
    transition = (sp.diags(inv) @ sub).T.tocsr()  # column-stochastic where degree > 0
    dangling = np.flatnonzero(degree == 0)
    teleport = (1 - alpha) * seeds[nodes].astype(np.float64)
    x = seeds[nodes].astype(np.float64)
    walking = np.ones(len(nodes), dtype=bool)
    for _ in range(max_iter):
        x_new = transition @ x
        x_new[dangling] += x[dangling]
        x_new *= alpha
        x_new += teleport
        change = np.bincount(local, weights=np.abs(x_new - x), minlength=int(local.max()) + 1)
        x = np.where(walking, x_new, x)
        walking &= change[local] >= tol
        if not walking.any():
            break
    out[nodes] = x
    return out


def ring_features(
    graph: IdentityGraph,
    candidates: CandidateRings,
    table: pd.DataFrame,
    shared: SharedIdentifiers,
    flow: MoneyFlow,
    transactions: pd.DataFrame | Ledger | None,
    clock: np.ndarray | float,
    config: DetectionConfig,
) -> pd.DataFrame:
    """One row per cluster (index = cluster number) of numeric ring features; time is counted
    back from each ring's ``clock`` (``ring_clocks``). ``transactions``: the frame, or its ``Ledger``."""
    clock = _per_account(clock, graph.n_accounts)
    cluster_of = candidates.cluster_of
    members = np.flatnonzero(cluster_of >= 0)
    mc = cluster_of[members]
    k = int(mc.max()) + 1 if len(mc) else 0
    f = pd.DataFrame(index=pd.RangeIndex(k, name="cluster"))
    size = np.bincount(mc, minlength=k).astype(np.float64)
    f["size"] = size.astype(np.int64)
    _structure_features(f, candidates, k, size)
    _identifier_features(f, graph, shared, members, mc, k, size)
    # Each ring's clock (its members share it), for the features that count back from it.
    clocks = (clock, _per_cluster(clock[members], mc, k, "max"))
    in_core = _opening_features(f, table, members, mc, k, size, clocks, config)
    _link_burst_features(f, graph, table, shared, members, mc, k, size, clocks, config)
    _credit_features(f, table, members, mc, k, size, in_core, clocks[1], config)
    # Known outcomes.
    f["known_fraud"] = np.bincount(mc, weights=table["is_known_fraud"].to_numpy()[members], minlength=k).astype(
        np.int64
    )
    f["known_legit"] = np.bincount(mc, weights=table["is_known_legit"].to_numpy()[members], minlength=k).astype(
        np.int64
    )
    _money_features(f, flow, transactions, graph, cluster_of, members, mc, k, size)
    return f


def _structure_features(f: pd.DataFrame, candidates: CandidateRings, k: int, size: np.ndarray) -> None:
    """Density and edge weights: internal edges of the identity projection and of the full adjacency."""
    cluster_of = candidates.cluster_of
    adj = candidates.adjacency.tocoo()
    inside = (cluster_of[adj.row] >= 0) & (cluster_of[adj.row] == cluster_of[adj.col]) & (adj.row < adj.col)
    ec = cluster_of[adj.row[inside]]
    n_edges = np.bincount(ec, minlength=k).astype(np.float64)
    pairs = size * (size - 1) / 2
    f["density"] = np.divide(n_edges, pairs, out=np.zeros(k), where=pairs > 0)
    f["mean_edge_weight"] = np.divide(
        np.bincount(ec, weights=adj.data[inside], minlength=k), n_edges, out=np.zeros(k), where=n_edges > 0
    )
    ident = candidates.identity_edges.tocoo()
    inside_id = (
        (cluster_of[ident.row] >= 0) & (cluster_of[ident.row] == cluster_of[ident.col]) & (ident.row < ident.col)
    )
    n_id_edges = np.bincount(cluster_of[ident.row[inside_id]], minlength=k).astype(np.float64)
    f["identity_edge_share"] = np.divide(n_id_edges, n_edges, out=np.zeros(k), where=n_edges > 0)


def _identifier_features(f, graph, shared, members, mc, k, size) -> None:
    """Shared identifiers by kind, how much of the ring one identifier covers, recombined identities."""
    sf = shared.frame
    f["n_shared_identifiers"] = np.bincount(sf["cluster"], minlength=k)
    for kind in graph.kinds():
        sel = (sf["kind"] == kind).to_numpy()
        f[f"n_shared_{kind}"] = np.bincount(sf["cluster"][sel], minlength=k)
    strong = sf["kind"].isin(STRONG_KINDS).to_numpy()
    medium = sf["kind"].isin(MEDIUM_KINDS).to_numpy()
    f["n_shared_strong"] = np.bincount(sf["cluster"][strong], minlength=k)
    f["n_shared_medium"] = np.bincount(sf["cluster"][medium], minlength=k)
    cover = sf["n_members"].to_numpy() / size[sf["cluster"].to_numpy()] if len(sf) else np.zeros(0)
    f["max_identifier_cover"] = _per_cluster(cover, sf["cluster"].to_numpy(), k, "max")
    strong_cover = np.where(strong, cover, 0.0)
    address = (sf["kind"] == "address").to_numpy()
    f["max_address_cover"] = _per_cluster(np.where(address, cover, 0.0), sf["cluster"].to_numpy(), k, "max")
    f["max_strong_cover"] = _per_cluster(strong_cover, sf["cluster"].to_numpy(), k, "max")
    # Accounts on the most-used payment instrument or national id: one card behind many accounts.
    instrument = sf["kind"].isin(INSTRUMENT_KINDS).to_numpy()
    f["max_instrument_holders"] = _per_cluster(
        np.where(instrument, sf["n_members"].to_numpy(np.float64), 0.0), sf["cluster"].to_numpy(), k, "max"
    )
    # Members on some shared strong identifier: a device farm puts everybody on one.
    strong_member = np.zeros(graph.n_accounts, dtype=bool)
    strong_ident = graph.kind_mask(STRONG_KINDS)
    strong_member[shared.member_rows[strong_ident[shared.member_identifiers]]] = True
    f["strong_member_share"] = np.bincount(mc, weights=strong_member[members], minlength=k) / np.maximum(size, 1)
    _recombined_features(f, sf, shared, mc, members, graph.n_accounts, k)
    f["identifier_crowd"] = _per_cluster(
        sf["n_accounts"].to_numpy() / size[sf["cluster"].to_numpy()] if len(sf) else np.zeros(0),
        sf["cluster"].to_numpy(),
        k,
        "max",
    )


def _opening_features(f, table, members, mc, k, size, clocks, config) -> np.ndarray:
    """Synchrony of account opening; returns which members are in their ring's opening core."""
    created = table["created_day"].to_numpy()[members]
    f["created_span_days"] = _per_cluster(created, mc, k, "max") - _per_cluster(created, mc, k, "min")
    median_created = _per_cluster(created, mc, k, "median")
    in_core = opening_core(created, mc, k, config.opened_together_days)
    core_size = np.bincount(mc, weights=in_core, minlength=k)
    f["opened_together_share"] = core_size / np.maximum(size, 1)
    clock, ring_clock = clocks
    f["median_age_days"] = ring_clock - median_created
    new = (clock[members] - created) <= 180
    f["new_account_share"] = np.bincount(mc, weights=new, minlength=k) / np.maximum(size, 1)
    return in_core


def _link_burst_features(f, graph, table, shared, members, mc, k, size, clocks, config) -> None:
    """Recent link burst (members whose shared identifiers first appeared just before the ring's clock),
    what the ring shared before it, and link synchrony."""
    sf = shared.frame
    clock, ring_clock = clocks
    recent_member = np.zeros(graph.n_accounts, dtype=bool)
    fs_of_pair = shared.member_first_seen
    recent_pair = fs_of_pair >= clock[shared.member_rows] - config.burst_days
    recent_member[shared.member_rows[recent_pair]] = True
    old_account = (clock - table["created_day"].to_numpy()) > config.burst_days * 6
    f["recent_link_share"] = np.bincount(mc, weights=recent_member[members], minlength=k) / np.maximum(size, 1)
    # Takeover victims are strangers: everything they share with the ring is new. A family on a
    # new router still shares its old address, tablet or card.
    n_pairs = np.bincount(shared.member_rows, minlength=graph.n_accounts)
    n_recent_pairs = np.bincount(shared.member_rows[recent_pair], minlength=graph.n_accounts)
    fresh_member = (n_pairs > 0) & (n_recent_pairs == n_pairs)
    f["recent_link_old_account_share"] = np.bincount(
        mc, weights=(fresh_member & old_account)[members], minlength=k
    ) / np.maximum(size, 1)
    # What the ring shared before the burst window: takeover victims are strangers with nothing
    # in common until the fraudster's device and payout account arrive; a family sharing a new
    # router also shares an old address, tablet or card.
    prior = sf["first_seen_min"].to_numpy() < ring_clock[sf["cluster"].to_numpy()] - 3 * config.burst_days
    w_all = np.bincount(sf["cluster"], weights=sf["weight"], minlength=k)
    w_prior = np.bincount(sf["cluster"][prior], weights=sf["weight"][prior], minlength=k)
    f["prior_link_share"] = np.divide(w_prior, w_all, out=np.zeros(k), where=w_all > 0)
    bank_ident = graph.kind_mask("bank_account")
    recent_payout = np.zeros(graph.n_accounts, dtype=bool)
    recent_payout[shared.member_rows[recent_pair & bank_ident[shared.member_identifiers]]] = True
    f["new_shared_payout_share"] = np.bincount(mc, weights=recent_payout[members], minlength=k) / np.maximum(size, 1)

    # Link synchrony: members who picked up a shared identifier within days of the others
    # (a farm sets its accounts up together; families and colleagues drift in over years).
    sync_member = np.zeros(graph.n_accounts, dtype=bool)
    sync_member[shared.member_rows[shared.member_in_sync]] = True
    f["link_sync_share"] = np.bincount(mc, weights=sync_member[members], minlength=k) / np.maximum(size, 1)


def _credit_features(f, table, members, mc, k, size, in_core, ring_clock, config) -> None:
    """Credit behaviour of the ring and of its opening core."""
    util = table["utilization"].to_numpy()[members]
    f["mean_utilization"] = _per_cluster(util, mc, k, "mean")
    f["maxed_share"] = np.bincount(mc, weights=np.nan_to_num(util) >= 0.9, minlength=k) / np.maximum(size, 1)
    od = table["overdue_days"].to_numpy()[members]
    f["overdue_share"] = np.bincount(mc, weights=od > 0, minlength=k) / np.maximum(size, 1)
    burst = table["spend_burst"].to_numpy()[members]
    f["spend_burst_share"] = np.bincount(
        mc, weights=np.nan_to_num(burst) >= config.spend_burst_ratio, minlength=k
    ) / np.maximum(size, 1)
    # NaN when there were no transactions at all: the pattern then falls back on balances alone.
    if np.isnan(table["spend_burst"].to_numpy()).all():
        f["spend_burst_share"] = np.nan
    f["severe_overdue_share"] = np.bincount(mc, weights=od >= config.severe_overdue_days, minlength=k) / np.maximum(
        size, 1
    )
    f["mean_overdue_days"] = np.bincount(mc, weights=od, minlength=k) / np.maximum(size, 1)
    f["exposure"] = np.bincount(mc, weights=table["exposure"].to_numpy()[members], minlength=k)
    f["inactive_share"] = np.bincount(mc, weights=table["is_inactive"].to_numpy()[members], minlength=k) / np.maximum(
        size, 1
    )

    # The opening core: the most members opened within one window, and how they behave. A bust-out
    # glued to a neighbour's family by a shared Wi-Fi still shows as a core opened together.
    core_size = np.bincount(mc, weights=in_core, minlength=k)
    f["core_size"] = core_size.astype(np.int64)
    core_n = np.maximum(core_size, 1)
    f["core_maxed_share"] = np.bincount(mc, weights=in_core & (np.nan_to_num(util) >= 0.9), minlength=k) / core_n
    f["core_overdue_share"] = np.bincount(mc, weights=in_core & (od > 0), minlength=k) / core_n
    f["core_severe_overdue_share"] = (
        np.bincount(mc, weights=in_core & (od >= config.severe_overdue_days), minlength=k) / core_n
    )
    f["core_spend_burst_share"] = (
        np.bincount(mc, weights=in_core & (np.nan_to_num(burst) >= config.spend_burst_ratio), minlength=k) / core_n
    )
    if np.isnan(table["spend_burst"].to_numpy()).all():
        f["core_spend_burst_share"] = np.nan
    created = table["created_day"].to_numpy()[members]
    core_created = _per_cluster(np.where(in_core, created, np.nan), mc, k, "median")
    f["core_median_age_days"] = ring_clock - core_created


def _recombined_features(f, sf, shared, mc, members, n_accounts, k) -> None:
    """How much of the ring is a mosaic of recombined identities (``identity_conflicts``).

    recombined_identifiers / recombined_kinds: recombined shared identifiers and their distinct
    kinds; varied_kinds / varied_members: the same for varied identifiers (recombined, or a pair
    that agrees on as much as it disagrees); shared_personal_kinds: distinct personal kinds
    shared in the ring (recombined or not);
    recombined_members: members holding one; national_id_conflicts: the most personal
    kinds (phone, e-mail) on which the holders of one recombined national id disagree (0-2);
    national_id_holders: the most members on one recombined national id; email_across_ids /
    phone_across_ids: recombined e-mails / phones (shared by holders of different national ids);
    phone_across_ids_holders: the most members on one recombined phone; two_of_three_members:
    members on a shared personal element whose holders agree on one other personal kind and
    differ on the third (identity_conflicts' two_of_three).
    """
    cl = sf["cluster"].to_numpy()
    rec = sf["recombined"].to_numpy(bool)
    kind = sf["kind"].to_numpy()
    f["recombined_identifiers"] = np.bincount(cl[rec], minlength=k)
    varied = sf["varied"].to_numpy(bool)
    varied_kinds = pd.DataFrame({"c": cl[varied], "kind": kind[varied]}).drop_duplicates()
    f["varied_kinds"] = np.bincount(varied_kinds["c"].to_numpy(np.int64), minlength=k)
    on_varied = np.zeros(n_accounts, dtype=bool)
    on_varied[shared.member_rows[shared.member_varied]] = True
    f["varied_members"] = np.bincount(mc, weights=on_varied[members], minlength=k).astype(np.int64)
    pairs = sf["two_of_three"].to_numpy(bool) if "two_of_three" in sf else np.zeros(len(sf), dtype=bool)
    on_pairs = np.bincount(cl[pairs], weights=sf["n_members"].to_numpy(np.float64)[pairs], minlength=k)
    f["two_of_three_members"] = np.minimum(on_pairs, f["size"].to_numpy(np.float64)).astype(np.int64)
    personal = np.isin(kind, PERSONAL_KINDS)
    personal_kinds = pd.DataFrame({"c": cl[personal], "kind": kind[personal]}).drop_duplicates()
    f["shared_personal_kinds"] = np.bincount(personal_kinds["c"].to_numpy(np.int64), minlength=k)
    kinds_of = pd.DataFrame({"c": cl[rec], "kind": kind[rec]}).drop_duplicates()
    f["recombined_kinds"] = np.bincount(kinds_of["c"].to_numpy(np.int64), minlength=k)
    holder = np.zeros(n_accounts, dtype=bool)
    holder[shared.member_rows[shared.member_recombined]] = True
    f["recombined_members"] = np.bincount(mc, weights=holder[members], minlength=k).astype(np.int64)
    conflicts = sf["conflicts"].to_numpy(np.int64)
    contact_bits = sum(1 << PERSONAL_KINDS.index(x) for x in ("phone", "email"))
    n_contact = np.array([bin(b).count("1") for b in range(8)])[conflicts & contact_bits]
    nid = rec & (kind == "national_id")
    f["national_id_conflicts"] = np.nan_to_num(_per_cluster(n_contact[nid], cl[nid], k, "max")).astype(np.int64)
    f["national_id_holders"] = np.nan_to_num(_per_cluster(sf["n_members"].to_numpy()[nid], cl[nid], k, "max")).astype(
        np.int64
    )
    f["email_across_ids"] = np.bincount(cl[rec & (kind == "email")], minlength=k)
    phones = rec & (kind == "phone")
    f["phone_across_ids"] = np.bincount(cl[phones], minlength=k)
    f["phone_across_ids_holders"] = np.nan_to_num(
        _per_cluster(sf["n_members"].to_numpy()[phones], cl[phones], k, "max")
    ).astype(np.int64)


def _money_features(f, flow, transactions, graph, cluster_of, members, mc, k, size) -> None:
    """Internal flow, fan-in / fan-out, pass-through members and chargebacks of each ring."""
    zeros = np.zeros(k)
    for col in (
        "internal_flow",
        "internal_flow_share",
        "fan_in",
        "fan_out",
        "fan_in_per_member",
        "pass_through_share",
        "n_collectors",
        "chargeback_share",
        "chargeback_member_share",
    ):
        f[col] = zeros
    if flow.counts.nnz:
        t = flow.transfers.tocoo()
        src_c, dst_c = cluster_of[t.row], cluster_of[t.col]
        internal = (src_c >= 0) & (src_c == dst_c)
        f["internal_flow"] = np.bincount(src_c[internal], weights=t.data[internal], minlength=k)
        out_total = np.bincount(src_c[src_c >= 0], weights=t.data[src_c >= 0], minlength=k)
        f["internal_flow_share"] = np.divide(
            f["internal_flow"].to_numpy(), out_total, out=np.zeros(k), where=out_total > 0
        )
        # Fan-in: distinct outside payers into the ring; fan-out: distinct outside account payees.
        into = (dst_c >= 0) & ~internal
        fan_in = pd.DataFrame({"c": dst_c[into], "p": t.row[into]}).drop_duplicates().groupby("c").size()
        f["fan_in"] = fan_in.reindex(range(k), fill_value=0).to_numpy()
        out = (src_c >= 0) & ~internal
        fan_out = pd.DataFrame({"c": src_c[out], "p": t.col[out]}).drop_duplicates().groupby("c").size()
        f["fan_out"] = fan_out.reindex(range(k), fill_value=0).to_numpy()
        f["fan_in_per_member"] = f["fan_in"].to_numpy() / np.maximum(size, 1)
        f["pass_through_share"] = np.bincount(mc, weights=flow.pass_through[members], minlength=k) / np.maximum(size, 1)
        # Collectors: members paid by two or more pass-through members of the same ring.
        from_mule = internal & flow.pass_through[t.row]
        per_payee = np.bincount(t.col[from_mule], minlength=graph.n_accounts)
        collector = per_payee >= 2
        f["n_collectors"] = np.bincount(mc, weights=collector[members], minlength=k)
    found = (
        transactions.chargebacks
        if isinstance(transactions, Ledger)
        else chargeback_counts(transactions, graph.account_ids)
    )
    if found is not None:
        # Per ring, from its members' counts (whole numbers: the sums are exact in any order).
        n_tx_of, n_cb_of = found
        n_tx = np.bincount(mc, weights=n_tx_of[members], minlength=k)
        n_cb = np.bincount(mc, weights=n_cb_of[members], minlength=k)
        f["chargeback_share"] = np.divide(n_cb, n_tx, out=np.zeros(k), where=n_tx > 0)
        cb_acc = n_cb_of > 0
        f["chargeback_member_share"] = np.bincount(mc, weights=cb_acc[members], minlength=k) / np.maximum(size, 1)


def _ring_tie_features(f: pd.DataFrame, candidates: CandidateRings) -> None:
    """Tie to the ring: weight and number of neighbours inside the same cluster."""
    cluster_of = candidates.cluster_of
    n = len(cluster_of)
    adj = candidates.adjacency.tocoo()
    same = (cluster_of[adj.row] >= 0) & (cluster_of[adj.row] == cluster_of[adj.col])
    f["ring_strength"] = np.bincount(adj.row[same], weights=adj.data[same], minlength=n)
    ring_deg = np.bincount(adj.row[same], minlength=n).astype(np.float64)
    size = np.bincount(cluster_of[cluster_of >= 0])
    my_size = np.where(cluster_of >= 0, size[np.maximum(cluster_of, 0)] if len(size) else 0, 0)
    f["ring_degree_share"] = np.divide(ring_deg, my_size - 1, out=np.zeros(n), where=my_size > 1)


def _ring_payments(flow: MoneyFlow, cluster_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per account: members of its own ring paying it (ring_payers), and its payments to the
    ring's collectors (ring_payees)."""
    n = len(cluster_of)
    ring_payers = np.zeros(n, dtype=np.int64)
    ring_payees = np.zeros(n, dtype=np.int64)
    if flow.counts.nnz:
        t = flow.counts.tocoo()
        same_ring = (cluster_of[t.row] >= 0) & (cluster_of[t.row] == cluster_of[t.col])
        ring_payers = np.bincount(t.col[same_ring], minlength=n)
        # Payments to the ring's collectors (members paid by two or more pass-through members):
        # a mule pays one; a victim paying a mule does not.
        from_mule = same_ring & flow.pass_through[t.row]
        collector = np.bincount(t.col[from_mule], minlength=n) >= 2
        to_collector = same_ring & collector[t.col]
        ring_payees = np.bincount(t.row[to_collector], minlength=n)
    return ring_payers, ring_payees


def account_features(
    graph: IdentityGraph,
    candidates: CandidateRings,
    table: pd.DataFrame,
    shared: SharedIdentifiers,
    flow: MoneyFlow,
    clock: np.ndarray | float,
    config: DetectionConfig,
) -> pd.DataFrame:
    """One row per account (identity-graph order): its own links, its tie to its ring, proximity
    to confirmed fraud. Ring features are joined by the scorer through ``cluster``. Time is
    counted back from ``clock`` (``ring_clocks``)."""
    clock = _per_account(clock, graph.n_accounts)
    n = graph.n_accounts
    cluster_of = candidates.cluster_of
    f = pd.DataFrame(index=pd.RangeIndex(n, name="account_pos"))
    f["cluster"] = cluster_of
    weights = graph.linking_weights()
    inc = graph.incidence.tocoo()
    shared_link = weights[inc.col] > 0
    f["n_shared_identifiers"] = np.bincount(inc.row[shared_link], minlength=n)
    _ring_tie_features(f, candidates)
    # Members on the ring's shared strong identifiers, and ring identifiers first seen recently.
    f["on_shared_strong"] = False
    strong_ident = graph.kind_mask(STRONG_KINDS)
    on_strong = np.zeros(n, dtype=bool)
    on_strong[shared.member_rows[strong_ident[shared.member_identifiers]]] = True
    f["on_shared_strong"] = on_strong
    # Holds a shared identity element whose holders disagree on the rest (a recombined identity).
    on_recombined = np.zeros(n, dtype=bool)
    on_recombined[shared.member_rows[shared.member_recombined]] = True
    f["on_recombined_identity"] = on_recombined
    n_ring_idents = np.bincount(shared.member_rows, minlength=n)
    f["n_ring_identifiers"] = n_ring_idents
    recent = shared.member_first_seen >= clock[shared.member_rows] - config.burst_days
    f["n_recent_ring_identifiers"] = np.bincount(shared.member_rows[recent], minlength=n)
    sync = np.zeros(n, dtype=bool)
    sync[shared.member_rows[shared.member_in_sync]] = True
    f["linked_in_sync"] = sync
    f["n_payers"] = flow.n_payers
    f["pass_through"] = flow.pass_through
    # How well the account itself fits its ring's pattern (used to keep glued-on neighbours of a
    # ring below it): opened with the others, in the credit burst, paid by other members.
    created = table["created_day"].to_numpy()
    in_ring = np.flatnonzero(cluster_of >= 0)
    core = np.zeros(n, dtype=bool)
    if len(in_ring):
        k = int(cluster_of[in_ring].max()) + 1
        core[in_ring] = opening_core(created[in_ring], cluster_of[in_ring], k, config.opened_together_days)
    f["opened_with_ring"] = core
    f["ring_payers"], f["ring_payees"] = _ring_payments(flow, cluster_of)
    f["age_days"] = clock - created
    f["utilization"] = table["utilization"].to_numpy()
    f["spend_burst"] = table["spend_burst"].to_numpy()
    f["overdue_days"] = table["overdue_days"].to_numpy()
    f["is_known_fraud"] = table["is_known_fraud"].to_numpy()
    f["is_known_legit"] = table["is_known_legit"].to_numpy()
    f["exposure"] = table["exposure"].to_numpy()
    f["fraud_proximity"] = personalized_pagerank(
        candidates.adjacency,
        table["is_known_fraud"].to_numpy(),
        alpha=config.pagerank_alpha,
        tol=config.pagerank_tol,
        max_iter=config.pagerank_max_iter,
        component=candidates.component,
    )
    return f
