"""The workspace's new pages sent to the disk while the work goes on, not all at its commit (Linux).

A first big load writes its 1.5 GB at 1M accounts into the file through the operating system's
page cache; the kernel starts writing dirty pages back only above a share of the machine's memory
(``vm.dirty_background_ratio``, 10%: 2.3 GB here), so all of it waited for the commit's ``fsync``,
the last second of the load with both cores idle. ``start_writeback`` asks the kernel to start
writing a file's dirty pages now, without waiting (``sync_file_range`` with
``SYNC_FILE_RANGE_WRITE``): nothing about durability changes (the commit still waits for its
``fsync``), only when the disk does the work.

It uses the descriptors SQLite has open on the files (found in ``/proc/self/fd``): opening and
closing another descriptor on a database file would drop SQLite's POSIX locks on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

_SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_SYNC = _sync_file_range()


def start_writeback(*paths: str | os.PathLike) -> int:
    """Start writing the dirty pages of the files ``paths`` to the disk, without waiting for it;
    returns how many open descriptors of them it asked for (0 where it cannot: not Linux)."""
    if _SYNC is None:
        return 0
    wanted = {os.path.realpath(p) for p in paths if Path(p).exists()}
    if not wanted:
        return 0
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    asked = 0
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target in wanted and _SYNC(int(fd), 0, 0, _SYNC_FILE_RANGE_WRITE) == 0:
            asked += 1
    return asked
