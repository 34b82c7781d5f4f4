"""The sweep's fast paths give what the plain ways gave: spend bursts summed in dense blocks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import fraudgraph.detection.features as features_mod
from fraudgraph.detection.features import spend_bursts

# ---------------------------------------------------------------------------- spend bursts


def _bursts_by_hand(tx: pd.DataFrame, ids: list[str], window: float) -> np.ndarray:
    """Each account's largest sum of merchant purchases (not declined) in one bucket of either
    bucketing, summed in the order the purchases come; 0 at least."""
    best = {a: 0.0 for a in ids}
    buys = tx[(tx["counterparty_kind"] == "merchant") & (tx["status"] != "declined") & tx["account_id"].isin(ids)]
    days = (buys["timestamp"] - pd.Timestamp(0)).dt.total_seconds().to_numpy() / 86_400
    for offset in (0.0, window / 2):
        sums: dict[tuple[str, int], float] = {}
        for account, day, amount in zip(buys["account_id"], days, buys["amount"]):
            key = (account, math.floor((day + offset) / window))
            sums[key] = sums.get(key, 0.0) + amount
        for (account, _), total in sums.items():
            if math.isnan(total) or math.isnan(best[account]):
                best[account] = math.nan
            else:
                best[account] = max(best[account], total)
    return np.array([best[a] for a in ids])


def _purchases(rng: np.random.Generator, n_accounts: int, n: int, *, nan: bool = False) -> tuple[pd.DataFrame, list]:
    ids = [f"A{i:04d}" for i in range(n_accounts)]
    amount = np.round(rng.normal(40, 90, n), 2)  # refunds (negative) among the purchases
    if nan:
        amount[rng.random(n) < 0.05] = np.nan
    tx = pd.DataFrame(
        {
            "account_id": rng.choice(ids + ["ZZ-unknown"], n),
            "counterparty_kind": rng.choice(["merchant", "merchant", "account"], n),
            "status": rng.choice(["settled", "settled", "declined", "chargeback"], n),
            "amount": amount,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 200, n), unit="D"),
        }
    )
    return tx, ids


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NaN amounts, hashed way
@pytest.mark.parametrize("cells", [1 << 22, 256, 70, 40])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spend_bursts_in_dense_blocks_are_the_sums_by_hand(monkeypatch, cells, seed):
    # Small blocks make many: accounts split across blocks, some blocks without a purchase.
    monkeypatch.setattr(features_mod, "_DENSE_CELLS", cells)
    rng = np.random.default_rng(seed)
    tx, ids = _purchases(rng, 60, 900, nan=seed == 2)
    for window in (7.0, 3.0):
        got = spend_bursts(tx, pd.Index(ids), window)
        want = _bursts_by_hand(tx, ids, window)
        np.testing.assert_array_equal(got, want)  # to the bit: the same additions in the same order


def test_spend_bursts_with_a_span_too_wide_for_a_block_take_the_hashed_way(monkeypatch):
    rng = np.random.default_rng(5)
    tx, ids = _purchases(rng, 30, 400)
    dense = spend_bursts(tx, pd.Index(ids), 1.0)
    monkeypatch.setattr(features_mod, "_DENSE_CELLS", 10)  # 200 one-day buckets > 10 cells
    monkeypatch.setattr(features_mod, "_dense_bucket_max", None)  # would fail if called
    hashed = spend_bursts(tx, pd.Index(ids), 1.0)
    np.testing.assert_array_equal(dense.view(np.int64), hashed.view(np.int64))
    np.testing.assert_array_equal(hashed, _bursts_by_hand(tx, ids, 1.0))
