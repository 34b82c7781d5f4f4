"""The columnar snapshot's Parquet parts, encoded a part at a time.

A big load encodes them in a background thread while SQLite writes and indexes the tables on the
main one: Arrow's encoder and SQLite's B-tree work both release the GIL, so on two cores the
encoding (about 5 s at 1M accounts) costs no wall time. The thread spools the parts to a
temporary file, so memory holds one part at a time, not the whole snapshot; the main thread
inserts them into the workspace afterwards, on its own connection.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# A snapshot's rows to encode: its name, the number of its first part, and a function giving the
# rows (called where the encoding runs, so a merge of stored and new rows runs there too).
Job = tuple[str, int, Callable[[], pd.DataFrame]]


def encode(part: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(part, preserve_index=False), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def encoded(jobs: list[Job], rows_per_part: int) -> Iterator[tuple[str, int, int, bytes]]:
    """(name, part, rows, Parquet bytes) for every part of every job, in order; an empty frame is
    one empty part (the snapshot then says "no rows", not "no snapshot")."""
    for name, first, rows in jobs:
        df = rows()
        for i, start in enumerate(range(0, max(len(df), 1), rows_per_part)):
            part = df.iloc[start : start + rows_per_part].reset_index(drop=True)
            yield name, first + i, len(part), encode(part)
        del df


class Spooled:
    """``encoded(jobs)`` run in a background thread into a temporary file; ``parts()`` gives them
    back in order once it is done (re-raising what failed there). Use it as a context manager:
    leaving it waits for the thread and deletes the file, whatever happened."""

    def __init__(self, jobs: list[Job], rows_per_part: int):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__, after the thread
        self._stopping = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-snapshot")
        self._future = self._pool.submit(self._spool, jobs, rows_per_part)

    def _spool(self, jobs: list[Job], rows_per_part: int) -> list[tuple[str, int, int, int, int]]:
        index = []
        for name, part, n_rows, data in encoded(jobs, rows_per_part):
            if self._stopping:  # the load failed or was interrupted: no use encoding the rest
                break
            index.append((name, part, n_rows, self._file.tell(), len(data)))
            self._file.write(data)
        self._file.flush()
        return index

    def parts(self) -> Iterator[tuple[str, int, int, bytes]]:
        for name, part, n_rows, offset, size in self._future.result():
            self._file.seek(offset)
            yield name, part, n_rows, self._file.read(size)

    def __enter__(self) -> Spooled:
        return self

    def __exit__(self, *exc) -> None:
        self._stopping = True  # parts() has read them all by now, unless the load failed
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._file.close()
