"""Limits on input values: what no real account extract holds, so a value past them is an error.

The contract (DATA_CONTRACT.md) says what a column holds; these limits say how much of it is
plausible. A value past a limit is reported like any other broken rule (file:line, column,
value, what was expected) and nothing is loaded. Each default is generous for real data and
tight enough to stop what breaks the pipeline or an analyst's screen:

- ``max_id_length`` = 128 characters for account, transaction and counterparty ids. Core
  banking and card-processor ids are at most 40-64 characters (UUIDs are 36); a 1 MB id is a
  broken export, and every id is stored, indexed and printed many times.
- ``max_value_length`` = 512 characters for an identifier value. The longest real ones are
  postal addresses (a few hundred characters with every line); a 1 MB "device id" is a bug.
- Control characters: none in ids (not even tab or newline), and none but tab, newline and
  carriage return in identifier values (a quoted multi-line address is fine). A NUL byte
  truncates strings in C libraries, terminals and the Neo4j driver.
- ``max_money`` = 1e9 in absolute value for credit limits, balances and transaction amounts: a
  consumer credit line or payment of a billion is an error, and 1e308 overflows every sum.
- ``earliest_date`` = 1950-01-01 for account creation, transaction and first-seen dates: no
  consumer credit line in a live book is older, and 1900-01-01 or 0001-01-01 are "unknown"
  placeholders that would make every account look decades old.
- ``future_days`` = 1: dates more than a day after the extract's as-of time (the load time
  unless given) are in the future; one day absorbs time zones and clocks.

Every limit can be changed in the workspace configuration's ``[limits]`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# Characters no id may hold (C0 controls and DEL) and those an identifier value may not
# (the same, except tab, newline and carriage return).
ID_CONTROL = r"[\x00-\x1f\x7f]"
VALUE_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


@dataclass(frozen=True)
class InputLimits:
    """The limits a data folder's values must keep (see the module docstring for why)."""

    max_id_length: int = 128
    max_value_length: int = 512
    max_money: float = 1e9
    earliest_date: str = "1950-01-01"
    future_days: float = 1.0

    def __post_init__(self) -> None:
        if self.max_id_length < 1 or self.max_value_length < 1:
            raise ValueError("max_id_length and max_value_length must be at least 1")
        if not self.max_money > 0:
            raise ValueError("max_money must be > 0")
        if self.future_days < 0:
            raise ValueError("future_days must be >= 0")
        pd.Timestamp(self.earliest_date)  # raises ValueError for a date that does not parse

    def date_range(self, as_of: object = None) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The plausible dates (naive UTC): from ``earliest_date`` to ``as_of`` + ``future_days``."""
        now = pd.Timestamp.now(tz="UTC").tz_localize(None) if as_of is None else pd.Timestamp(as_of)
        if now.tzinfo is not None:
            now = now.tz_convert("UTC").tz_localize(None)
        return pd.Timestamp(self.earliest_date), now + pd.Timedelta(days=self.future_days)
