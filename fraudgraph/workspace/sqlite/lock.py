"""The SQLite workspace's sweep lock: an OS file lock beside the workspace file.

The kernel drops the lock when its holder dies, so a crashed sweep's lock is recovered by
construction; the file's text only says who holds it. The file is private (mode 0600): it names
the host and process of whoever sweeps.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fraudgraph.errors import LockedError
from fraudgraph.model.values import utc_now_text


@contextmanager
def file_lock(lock_path: Path, owner: str, *, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path``; ``LockedError`` at once when another process holds it."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            raise LockedError(f"another sweep is running on {what} ({holder}); try again later") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{owner}, pid {os.getpid()} on {socket.gethostname()}, since {utc_now_text()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
