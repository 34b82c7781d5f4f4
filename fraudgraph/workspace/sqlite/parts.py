"""The columnar snapshot's Parquet parts, encoded a part at a time.

A big load encodes them in a background thread while SQLite writes and indexes the tables on the
main one: Arrow's encoder and SQLite's B-tree work both release the GIL, so on two cores the
encoding (about 5 s at 1M accounts) costs no wall time. The thread spools the parts to a
temporary file, so memory holds one part at a time, not the whole snapshot; the main thread
inserts them into the workspace afterwards, on its own connection.
"""

from __future__ import annotations

import bisect
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# A snapshot's rows to encode: its name, the number of its first part, and a function giving the
# rows (called where the encoding runs, so a merge of stored and new rows runs there too).
Job = tuple[str, int, Callable[[], pd.DataFrame]]


# Rows per part of a snapshot whose parts are also read by account (each part knows its first and
# last account): an account's links are one part of 16k rows, read and decoded in about 3.5 ms,
# where a part of a million rows took 120 ms. The sweep pays for it: the 517 parts of the 1M links
# read in 3.2-3.3 s with its other snapshots, one part after the other, against 1.7-2.2 s as 9
# parts; decoded two at a time (``decoded``), 3.1-3.2 s against 4.2-5.1 the same evening.
ROWS_PER_PART = {"links": 16_384}
# Within such a part, row groups of this many rows, each with its account range (Parquet's
# statistics of ``account_id`` alone): an account's links are read from the row group(s) holding
# it, 0.8-1.0 ms a part instead of 2.7-3.0 (an account's page reads a dozen parts). A whole part
# decodes in 3.1 ms instead of 2.7 (the sweep's read of the 517 parts at 1M: about 0.1 s more,
# on two threads); encoding costs the same. Parts written as one row group are read whole.
ROW_GROUP_ROWS = {"links": 4096}


# The columns of each snapshot whose values repeat enough for a dictionary: the others (ids, raw
# spellings, keys, amounts, times) are written plain, not first hashed into a dictionary that
# Parquet then gives up on. The 1M links: 4.9 -> 3.6 s to encode, 1.3 -> 1.0 s to decode, 361 ->
# 306 MB. No statistics either (0.4 s): a part is read whole, its range is kept beside it.
DICTIONARY = {
    "links": ["account_id", "kind"],
    "transactions": ["account_id", "counterparty", "counterparty_kind", "status"],
    "accounts": ["status", "label", "properties", "overdue_days"],
}


def encode(part: pd.DataFrame | pa.Table, dictionary: list[str] | None = None, row_group: int | None = None) -> bytes:
    """One part (a frame, or an Arrow table) as Parquet (zstd); ``dictionary``: the columns
    dictionary-encoded (all when None); ``row_group``: row groups of that many rows, each knowing
    its range of ``account_id``."""
    sink = pa.BufferOutputStream()
    # On this thread: left to choose, pyarrow starts a pool of threads per call for a frame this
    # long, and a part is converted in 0.25 ms where that costs 1.0-1.25 (parts are encoded two
    # at a time already: ``_in_order``).
    table = part if isinstance(part, pa.Table) else pa.Table.from_pandas(part, preserve_index=False, nthreads=1)
    use = True if dictionary is None else [c for c in dictionary if c in table.column_names]
    ranged = row_group is not None and "account_id" in table.column_names
    pq.write_table(
        table,
        sink,
        compression="zstd",
        use_dictionary=use,
        write_statistics=["account_id"] if ranged else False,
        row_group_size=row_group if ranged else None,
    )
    return sink.getvalue().to_pybytes()


def read(
    data: bytes, columns: list[str] | None = None, *, threads: bool = False, dictionary: list[str] | None = None
) -> pa.Table:
    """One part's ``columns`` (all when None). ``threads``: Arrow decodes its columns in its own
    threads (for a big part; a small one decodes faster on one). ``dictionary``: columns read as
    Arrow dictionaries, as Parquet holds them (no text spelled out row by row)."""
    return pq.ParquetFile(pa.BufferReader(data), read_dictionary=dictionary).read(columns=columns, use_threads=threads)


def holding(ranges: list[tuple[int, str | None, str | None]], ids: np.ndarray) -> list[int]:
    """The parts among ``ranges`` ((part, first id, last id) of each, in part order) whose range
    holds one of ``ids`` (sorted), and every part without a range (it is read whole)."""
    parts = np.array([r[0] for r in ranges], dtype=np.int64)
    bounded = np.array([r[1] is not None and r[2] is not None for r in ranges], dtype=bool)
    firsts = np.array([r[1] or "" for r in ranges], dtype=object)
    lasts = np.array([r[2] or "" for r in ranges], dtype=object)
    holds = np.searchsorted(ids, lasts, "right") > np.searchsorted(ids, firsts, "left")
    return parts[~bounded | holds].tolist()


def rows_of(data: bytes, column: str, wanted: list[str], columns: list[str] | None = None) -> pa.Table | None:
    """The rows of one part whose text ``column`` is one of ``wanted`` (sorted); None when there
    are none. Only the row groups whose range of ``column`` holds one of them are decoded, and of
    them only ``columns`` (those the part has; all when None; ``column`` always)."""
    # One thread, no dataset layer: 3.5 ms for 16k rows (13.5 ms with threads) and 65 ms for the
    # first read of a process (270 ms through ``pq.read_table``).
    file = pq.ParquetFile(pa.BufferReader(data))
    groups = _groups_holding(file.metadata, column, wanted)
    if groups == []:
        return None
    if columns is not None:
        names = file.schema_arrow.names
        columns = [c for c in dict.fromkeys([column, *columns]) if c in names]
    table = (
        file.read(columns=columns, use_threads=False)
        if groups is None
        else file.read_row_groups(groups, columns=columns, use_threads=False)
    )
    table = table.filter(pc.is_in(table.column(column), value_set=pa.array(wanted, pa.string())))
    return table if table.num_rows else None


def _groups_holding(meta: pq.FileMetaData, column: str, wanted: list[str]) -> list[int] | None:
    """The row groups whose range of ``column`` (their statistics) holds one of ``wanted`` (sorted);
    None when the part is one row group or a group has no range (then it is read whole)."""
    if meta.num_row_groups < 2:
        return None
    at = meta.schema.names.index(column)
    groups = []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(at).statistics
        if stats is None or not stats.has_min_max:
            return None
        first = bisect.bisect_left(wanted, stats.min)
        if first < len(wanted) and wanted[first] <= stats.max:
            groups.append(i)
    return groups


def rows_of_parts(
    blobs: list[tuple[int, bytes]], column: str, wanted: list[str], columns: list[str] | None = None
) -> list[tuple[int, pa.Table]]:
    """``rows_of`` each ``(part, bytes)``: ``(part, rows)`` of the parts that have rows of
    ``wanted``, in the order given, ``columns`` of them (all when None). Several parts are decoded
    two at a time (Arrow's decoder lets go of the GIL): an account's page reads some 14 link parts
    at 1M accounts, 45-70 ms one after the other, 30-35 ms two at a time (``_in_order``; a few
    parts are read in line)."""
    tables = _in_order(lambda i: rows_of(blobs[i][1], column, wanted, columns), range(len(blobs)))
    return [(part, table) for (part, _), table in zip(blobs, tables) if table is not None]


def decoded(
    blobs: Iterator[tuple[int, bytes]],
    columns: Callable[[int], list[str] | None],
    dictionary: list[str] | None = None,
) -> Iterator[tuple[int, pa.Table]]:
    """``(part, bytes)`` in order as ``(part, table)`` in the same order, ``columns(part)`` of each,
    decoded two at a time (Arrow's decoder releases the GIL): the 517 small parts of the 1M links
    decode in 0.5 s instead of 0.95 on this 2-core machine, their raw values in 0.8 s instead of
    1.7. At most ``_AHEAD`` parts are in flight, so memory holds a few parts' bytes, not all."""
    pending: deque[tuple[int, Future]] = deque()
    with ThreadPoolExecutor(_DECODERS, thread_name_prefix="fraudgraph-decode") as pool:
        try:
            for part, data in blobs:
                pending.append((part, pool.submit(read, data, columns(part), dictionary=dictionary)))
                if len(pending) >= _AHEAD:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:  # a reader that stopped early, or a part that failed
                future.cancel()


_DECODERS = 2
_AHEAD = 8


# A part as the workspace stores it: snapshot name, part number, rows, Parquet bytes, and the
# first and last account of a snapshot read by account (else None).
Part = tuple[str, int, int, bytes, str | None, str | None]


def encoded(jobs: list[Job], rows_per_part: int) -> Iterator[Part]:
    """Every part of every job, in order (``Part``); an empty frame is one empty part (the snapshot
    then says "no rows", not "no snapshot")."""
    for name, first, rows in jobs:
        df = rows()
        size = ROWS_PER_PART.get(name, rows_per_part)
        by_account = name in ROWS_PER_PART and "account_id" in df.columns
        starts = range(0, max(len(df), 1), size)
        one = partial(_encoded_part, df, name, size, by_account)
        for i, (n_rows, data, low, high) in enumerate(_in_order(one, starts)):
            yield name, first + i, n_rows, data, low, high
        del df, one


def _encoded_part(
    df: pd.DataFrame, name: str, size: int, by_account: bool, start: int
) -> tuple[int, bytes, str | None, str | None]:
    """The part of ``df`` from row ``start``: its rows, bytes, and (``by_account``) first and last account."""
    part = df.iloc[start : start + size].reset_index(drop=True)
    ends = (
        (str(part["account_id"].iloc[0]), str(part["account_id"].iloc[-1]))
        if by_account and len(part)
        else (None, None)
    )
    return len(part), encode(part, DICTIONARY.get(name), ROW_GROUP_ROWS.get(name) if by_account else None), *ends


def _in_order(work: Callable[[int], Any], items: range) -> Iterator[Any]:
    """``map(work, items)``, two at a time when there are many (a snapshot's small parts: Arrow's
    encoder lets go of the GIL), at most ``_AHEAD`` done ahead of the one yielded."""
    if len(items) < _AHEAD:
        yield from map(work, items)
        return
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(_DECODERS, thread_name_prefix="fraudgraph-encode") as pool:
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= _AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


class Spooled:
    """``encoded(jobs)`` run in a background thread into a temporary file; ``parts()`` gives them
    back in order once it is done (re-raising what failed there). Use it as a context manager:
    leaving it waits for the thread and deletes the file, whatever happened."""

    def __init__(
        self,
        jobs: list[Job],
        rows_per_part: int,
        *,
        produce: Callable[[], Iterator[Part]] | None = None,
        thread: str = "fraudgraph-snapshot",
    ):
        """``produce``: where the parts come from instead of ``encoded(jobs, rows_per_part)``."""
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__, after the thread
        self._stopping = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=thread)
        made = produce if produce is not None else partial(encoded, jobs, rows_per_part)
        self._future = self._pool.submit(self._spool, made)

    def _spool(self, made: Callable[[], Iterator[Part]]) -> list[tuple]:
        index = []
        for name, part, n_rows, data, first, last in made():
            if self._stopping:  # the load failed or was interrupted: no use encoding the rest
                break
            index.append((name, part, n_rows, self._file.tell(), len(data), first, last))
            self._file.write(data)
        self._file.flush()
        return index

    def parts(self) -> Iterator[Part]:
        for name, part, n_rows, offset, size, first, last in self._future.result():
            self._file.seek(offset)
            yield name, part, n_rows, self._file.read(size), first, last

    def __enter__(self) -> Spooled:
        return self

    def __exit__(self, *exc) -> None:
        self._stopping = True  # parts() has read them all by now, unless the load failed
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._file.close()
