"""What is in force for an account: the applied state (a sweep's action as applied, or an
analyst's verdict or manual action) wherever there is one, else the latest decision or the
source's own value. Every view (``account``, ``decisions``, the ring view, exports) shows this,
so an analyst's dismissal or suspension is what everyone sees, whatever the policy proposes."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def in_force(frame: pd.DataFrame, state: pd.DataFrame, columns: Iterable[str] = ("action",)) -> pd.DataFrame:
    """``frame`` (rows keyed by ``account_id``) with each of ``columns`` taken from ``state`` where
    the account has an applied state row. Row order and the other columns are kept."""
    columns = list(columns)
    if state is None or not len(state):
        return frame
    applied = state[["account_id", *columns]].rename(columns={c: f"{c}__in_force" for c in columns})
    out = frame.merge(applied, on="account_id", how="left")
    for c in columns:
        value = out[f"{c}__in_force"]
        out[c] = value.where(value.notna(), out[c]) if c in out else value
    out.index = frame.index
    return out.drop(columns=[f"{c}__in_force" for c in columns])
