"""Plain values: one conversion from numpy / pandas values to Python and JSON, one clock.

Every layer that stores, prints or exports a value uses these, so a NaN is ``None`` and a
timestamp is ISO text everywhere, and "now" is the same kind of value in every backend.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd


def utc_now() -> datetime:
    """Now, in UTC, as a naive datetime (the workspace stores naive UTC times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_now_text() -> str:
    """Now, in UTC, as ISO text to the second (audit rows, sweep records)."""
    return utc_now().isoformat(timespec="seconds")


def is_missing(value: Any) -> bool:
    """None, pandas NA / NaT, or a float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def plain(value: Any) -> Any:
    """One scalar as plain Python: numpy scalars unwrapped, missing -> None, non-finite floats
    -> None, times -> ISO text. Containers are converted element by element (see ``jsonable``)."""
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple, set, frozenset, np.ndarray)):
        return jsonable(value)
    return value


def jsonable(value: Any) -> Any:
    """A value (nested dicts, lists, arrays, sets, numpy scalars) as JSON-ready Python."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (set, frozenset)):
        return [jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return plain(value)


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)``: what the json module cannot write by itself."""
    converted = jsonable(value)
    if converted is value:
        return str(value)
    return converted


def to_json(value: Any) -> str:
    """Stored JSON text: stable key order, unicode kept, NaN written as null."""
    return json.dumps(jsonable(value), default=json_default, ensure_ascii=False, sort_keys=True)
