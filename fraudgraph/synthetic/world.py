"""Synthetic fraud worlds: accounts, identifier links and transactions in the data-contract input
form, with planted fraud rings, realistic innocent sharing, and a separate ground truth.

Everything is built as integer arrays (account index, identifier kind, entity id, spelling variant,
time in seconds) and turned into strings only once, at the end, per distinct (entity, variant).
Fraud and legit accounts draw their identifiers from the same spelling machinery, so no id prefix,
email domain or spelling habit separates them: only the structure (who shares what, when, and how
money moves) does.

Planted rings (truth.csv ring_kind), each weak, medium or strong:
- bust_out: synthetic identities opened within days; share devices, cards, 1-3 drop addresses,
  Gmail dot / plus spellings of a few boxes, phones, national ids (some with swapped digits), IPs;
  weak rings share only one or two kinds. All max their lines, then go overdue.
- ato_farm: years-old accounts that, in the last three weeks, add one payout bank account, one IP and
  new devices; money drains to a fresh cash-out member (or a money-transfer merchant).
- mule_network: little sharing (one IP or device among a few); money in from many unrelated
  accounts, forwarded (sometimes via another mule) to 1-3 collector members, out to an exchange.
Every ring member is tied to another member of its ring by something a graph can see: a shared
identifier value (after normalization; never a hub) or a transfer. A member the ring's own draws left
untied gets one tie of the ring's own kind (its most shared identifier, or for mules a transfer),
so weak rings stay weak but are connected.
Lone fraudsters (truth.csv ring_kind "lone", no ring_id): bust-out individuals (line maxed, overdue,
chargebacks when confirmed) who share no identifier below the hub size and move no money with any
other fraud account: the graph-invisible share of fraud, as in real data.
Innocent look-alikes (truth.csv group_kind): households (address in several spellings, router,
tablet, landline, spouse card, joint account, some opened lately; roommates open accounts in a
burst; a new ISP for the whole family on one day; a shock leaving several members maxed and late;
ties to another household through a card, phone plan or tablet; one person with two accounts
sharing everything, national id included), apartment blocks, corporate cards (some offices moved
lately: new IP and address for all within days), store kiosks (half used at sign-up), parcel
lockers, carrier NAT IPs, junk values, late payers, card maxers (many in one burst of purchases),
rent collectors with fan-in (some forwarding it on), friendly-fraud chargebacks, second-hand
devices and recycled phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fraudgraph.model.frames import IDENTIFIER_KINDS
from fraudgraph.synthetic.arrays import coded_names, concat, spread
from fraudgraph.synthetic.builder import WorldBuilder
from fraudgraph.synthetic.kinds import (
    ACCOUNT_INPUT_COLUMNS,
    GROUP_KINDS,
    LINK_INPUT_COLUMNS,
    LONE_KIND,
    NO_GROUP,
    RING_KINDS,
    TRUTH_COLUMNS,
)

__all__ = [
    "ACCOUNT_INPUT_COLUMNS",
    "GROUP_KINDS",
    "LINK_INPUT_COLUMNS",
    "LONE_KIND",
    "RING_KINDS",
    "TRUTH_COLUMNS",
    "World",
    "generate_world",
    "write_world",
]


@dataclass
class World:
    """A generated world: the three contract tables (input form) and the ground truth."""

    accounts: pd.DataFrame
    links: pd.DataFrame
    transactions: pd.DataFrame
    truth: pd.DataFrame

    def __repr__(self) -> str:
        n_fraud = int(self.truth["is_fraud"].sum()) if len(self.truth) else 0
        return (
            f"World({len(self.accounts)} accounts, {len(self.links)} links, "
            f"{len(self.transactions)} transactions, {n_fraud} fraud)"
        )


# --------------------------------------------------------------------------- public API


def _as_of_seconds(as_of: str | datetime) -> int:
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"as_of {as_of!r} is not a date or datetime (expected e.g. '2026-11-01')") from exc
    if ts is pd.NaT:
        raise ValueError(f"as_of {as_of!r} is not a date or datetime (expected e.g. '2026-11-01')")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value // 10**9)


def generate_world(
    n_accounts: int,
    seed: int,
    *,
    as_of: str | datetime = "2026-11-01",
    fraud_share: float = 0.03,
    lone_share: float = 0.006,
    with_transactions: bool = True,
) -> World:
    """Generate a synthetic world with planted fraud rings and innocent look-alikes.

    Parameters
    ----------
    n_accounts : number of accounts (>= 10).
    seed : random seed; the same seed (and arguments) gives the same world, byte for byte.
    as_of : the extract date; every time in the world is before it.
    fraud_share : share of accounts that belong to planted fraud rings (0 <= share < 0.5).
    lone_share : share of accounts that are lone fraudsters, in no ring (truth ring_kind "lone").
        The default 0.006 makes them about one fraud account in six, the order of the fraud that
        shares nothing observable with other fraud in real data; no graph method can find them.
    with_transactions : also generate the transactions table (otherwise it is empty).

    Examples
    --------
    >>> world = generate_world(2000, seed=7)
    >>> sorted(world.truth["ring_kind"].unique())[1:]
    ['ato_farm', 'bust_out', 'lone', 'mule_network']
    """
    _check_arguments(n_accounts, fraud_share, lone_share)
    b = WorldBuilder(
        int(n_accounts),
        int(seed),
        _as_of_seconds(as_of),
        float(fraud_share),
        float(lone_share),
        bool(with_transactions),
    )
    status = _build(b)
    account_ids, number_of, order = _account_ids(b)
    accounts = _accounts_frame(b, account_ids, order, status)
    links = _links_frame(b, account_ids, number_of)
    transactions = _transactions_frame(b, account_ids, number_of) if with_transactions else _empty_transactions()
    truth = _truth_frame(b, account_ids, order)
    return World(accounts=accounts, links=links, transactions=transactions, truth=truth)


def _check_arguments(n_accounts: int, fraud_share: float, lone_share: float) -> None:
    """Reject sizes and shares the generator cannot honour, with the allowed range in the message."""
    if not isinstance(n_accounts, (int, np.integer)) or n_accounts < 10:
        raise ValueError(f"n_accounts must be an integer >= 10, got {n_accounts!r}")
    if n_accounts > 50_000_000:
        raise ValueError(f"n_accounts {n_accounts} is above the supported 50,000,000")
    if not 0 <= fraud_share < 0.5:
        raise ValueError(f"fraud_share must be in [0, 0.5), got {fraud_share!r}")
    if not 0 <= lone_share < 0.5 - fraud_share:
        raise ValueError(
            f"lone_share must be in [0, 0.5 - fraud_share) = [0, {0.5 - fraud_share:g}), got {lone_share!r}"
        )


def _build(b: WorldBuilder) -> np.ndarray:
    """Run the builder's steps in their fixed order (the order is part of the seed's meaning: the same
    seed gives the same world only if every step draws from the generator in the same sequence);
    return each account's status code."""
    b.plan_rings()
    b.plan_legit()
    b.plan_merchants()
    b.plant_rings()
    b.homes()
    b.repeat_customers()
    b.own_identifiers()
    b.household_sharing()
    b.extended_families()
    b.corporate_cards()
    b.hubs()
    b.isolate_lone_fraudsters()
    b.credit_behaviour()
    if b.with_transactions:
        b.everyday_transactions()
        b.isolate_lone_money()
    return b.outcomes()


def _account_ids(b: WorldBuilder) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Account ids: zero-padded numbers with gaps, in an order unrelated to how accounts were built.
    Returns (id per account index, its number, the account indexes in id order)."""
    n = b.n
    rng = b.rng
    id_numbers = np.sort(rng.choice(int(n * 1.3) + 10, size=n, replace=False))
    number_of = id_numbers[rng.permutation(n)]
    width = max(7, len(str(int(id_numbers[-1]))))
    return _prefixed_numbers("A", number_of, width), number_of, np.argsort(number_of)


def _accounts_frame(b: WorldBuilder, account_ids: pa.Array, order: np.ndarray, status: np.ndarray) -> pd.DataFrame:
    """accounts.csv: one row per account, in id order."""
    return _frame(
        {
            "account_id": account_ids.take(pa.array(order)),
            "created_at": _timestamps(b.created[order]),
            "credit_limit": b.limit[order],
            "balance": b.balance[order],
            "overdue_days": b.overdue[order],
            "status": coded_names(["active", "suspended", "closed"], status[order]),
            "label": coded_names(["", "fraud", "legit"], b.label[order]),
        }
    )


def _links_frame(b: WorldBuilder, account_ids: pa.Array, number_of: np.ndarray) -> pd.DataFrame:
    """links.csv: the recorded observations, rendered as text, sorted by account, kind and time, and
    kept once per (account, spelling) at the earliest (a source system logs an observation once)."""
    acct, kind, entity, seen, variant = (np.concatenate(parts) for parts in zip(*b.link_parts))
    b.link_parts.clear()
    # Rows by account id, kind, then time: one int64 sort key (faster than a 3-key lexsort).
    oldest = int(seen.min())
    sort_key = ((number_of[acct] * 8 + kind) << 34) | (seen - oldest)
    link_order = np.argsort(sort_key)
    del sort_key
    acct, kind, entity, seen, variant = (a[link_order] for a in (acct, kind, entity, seen, variant))
    del link_order
    dictionary, code = b.render_values(kind, entity, variant)
    del entity, variant
    by_spelling = np.argsort(acct * len(dictionary) + code, kind="stable")
    pair = (acct * len(dictionary) + code)[by_spelling]
    repeated = np.zeros(len(pair), dtype=bool)
    repeated[1:] = pair[1:] == pair[:-1]
    keep = np.ones(len(acct), dtype=bool)
    keep[by_spelling[repeated]] = False
    del by_spelling, pair, repeated
    return _frame(
        {
            "account_id": account_ids.take(pa.array(acct[keep])),
            "kind": coded_names(IDENTIFIER_KINDS, kind[keep]),
            "value": dictionary.take(pa.array(code[keep])),
            "first_seen": _timestamps(seen[keep]),
        }
    )


def _truth_frame(b: WorldBuilder, account_ids: pa.Array, order: np.ndarray) -> pd.DataFrame:
    """truth.csv: per account, fraud or not, its planted ring (or "lone"), and its innocent group."""
    ring_names = [""] + [f"{RING_KINDS[k]}-{i}" for k, i in zip(b.ring_kinds, b.ring_numbers)]
    ring_kind_names = [""] + [RING_KINDS[k] for k in b.ring_kinds]
    ring_index = b.ring_of[order] + 1
    is_lone = np.zeros(b.n, dtype=bool)
    is_lone[b.lone] = True
    is_lone = is_lone[order]
    group_kind = b.group_kind[order]
    group_kind_names = coded_names(list(GROUP_KINDS) + [""], group_kind)
    group_ids = pc.if_else(
        pa.array(group_kind == NO_GROUP),
        "",
        pc.binary_join_element_wise(group_kind_names, pc.cast(pa.array(b.group_number[order]), pa.string()), "-"),
    )
    return _frame(
        {
            "account_id": account_ids.take(pa.array(order)),
            "is_fraud": ((ring_index > 0) | is_lone).astype(np.int64),
            "ring_id": coded_names(ring_names, ring_index),
            "ring_kind": pc.if_else(pa.array(is_lone), LONE_KIND, coded_names(ring_kind_names, ring_index)),
            "group_id": group_ids,
            "group_kind": group_kind_names,
        }
    )


def _prefixed_numbers(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'A0001234'-style ids, formatted in Arrow (a Python f-string per row is 5x slower)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]"))


def _frame(columns: dict) -> pd.DataFrame:
    """A DataFrame over Arrow columns: strings become pandas' Arrow-backed str dtype without a copy."""
    return pa.table(columns).to_pandas()


def _empty_transactions() -> pd.DataFrame:
    return _frame(
        {
            "txn_id": pa.array([], pa.string()),
            "account_id": pa.array([], pa.string()),
            "counterparty": pa.array([], pa.string()),
            "counterparty_kind": pa.array([], pa.string()),
            "amount": pa.array([], pa.float64()),
            "timestamp": pa.array([], pa.timestamp("ns")),
            "status": pa.array([], pa.string()),
        }
    )


def _transactions_frame(b: WorldBuilder, account_ids: pa.Array, number_of: np.ndarray) -> pd.DataFrame:
    payer, cp, to_account, amount, when, status = (np.concatenate(parts) for parts in zip(*b.txn_parts))
    b.txn_parts.clear()
    keep = ~(to_account & (cp == payer))  # nobody pays themselves
    payer, cp, to_account, amount, when, status = (a[keep] for a in (payer, cp, to_account, amount, when, status))
    order = np.lexsort((cp, number_of[payer], when))
    payer, cp, to_account, amount, when, status = (a[order] for a in (payer, cp, to_account, amount, when, status))
    merchant_numbers = spread(np.arange(b.n_merchants), 1_000_000, b.salt ^ 0x3E2C)
    parties = concat([account_ids, _prefixed_numbers("M", merchant_numbers, 6)])
    party = np.where(to_account, cp, b.n + cp)
    width = max(8, len(str(len(payer))))
    return _frame(
        {
            "txn_id": _prefixed_numbers("T", np.arange(1, len(payer) + 1), width),
            "account_id": account_ids.take(pa.array(payer)),
            "counterparty": parties.take(pa.array(party)),
            "counterparty_kind": coded_names(["merchant", "account"], to_account.astype(np.int64)),
            "amount": amount,
            "timestamp": _timestamps(when),
            "status": coded_names(["settled", "declined", "chargeback", "refunded"], status),
        }
    )


def write_world(world: World, out_dir: str | Path, *, format: str = "csv") -> dict[str, Path]:
    """Write accounts, links, transactions (the data contract) and truth (not part of it).

    Returns the path of each table written, by name. CSV times are ISO-8601
    (``2026-10-03T14:05:09``). A world generated without transactions writes no transactions
    table (and removes a stale one of the same format, so the folder stays one consistent world).
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "accounts": world.accounts,
        "links": world.links,
        "transactions": world.transactions,
        "truth": world.truth,
    }
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        path = out / f"{name}.{format}"
        if name == "transactions" and len(frame) == 0:
            path.unlink(missing_ok=True)
            continue
        if format == "parquet":
            frame.to_parquet(path, index=False)
        else:
            _write_csv(frame, path)
        paths[name] = path
    return paths


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for _name, column in zip(table.column_names, table.columns):
        if pa.types.is_timestamp(column.type):
            # ISO-8601 with seconds: '2026-10-03T14:05:09'.
            text = pc.cast(pc.cast(column, pa.timestamp("s")), pa.string())
            column = pc.utf8_replace_slice(text, 10, 11, "T")
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # Empty strings are written as empty fields, not as "".
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
        columns.append(column)
    pacsv.write_csv(
        pa.table(columns, names=table.column_names),
        path,
        write_options=pacsv.WriteOptions(quoting_style="needed"),
    )
