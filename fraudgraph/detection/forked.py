"""A long run of independent Python calls on both cores: a forked child takes the second half.

Leiden on each big component is one igraph call after another (14.5k at 1M accounts, 1.3 s of
the rings stage), and a sweep's customer notices are one text after another (45k, about a
second): each a pure function of its own input, all Python-level work holding the GIL, so a
thread cannot share them. ``two_halves`` forks: the child, a copy of the process as it
stands (copy on write), runs the later items and sends back what they returned, pickled through
a pipe; the parent runs the earlier ones meanwhile. The answer is the same as one process's,
item by item. Whatever goes wrong with the child (no fork, an error, a kill, a short read), the
parent runs its half too; the child never outlives the call.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
from collections.abc import Callable
from typing import TypeVar

import numpy as np

__all__ = ["two_halves"]

R = TypeVar("R")


def two_halves(run: Callable[[int, int], R], cost: np.ndarray, *, min_cost: float) -> list[tuple[R, bool]]:
    """``[run(0, k), run(k, n)]`` for the ``n`` items of ``cost`` (a weight each, their run
    time's share), ``k`` splitting the cost in two and ``run(k, n)`` in a forked child; or
    ``[run(0, n)]`` when the whole costs less than ``min_cost`` or the system cannot fork. Each
    with whether it ran in this process (what ``run`` changed in its own process is this one's:
    a child's changes come back only in what it returned)."""
    n = len(cost)
    total = float(np.sum(cost))
    if n < 2 or total < min_cost or not hasattr(os, "fork"):
        return [(run(0, n), True)]
    k = int(np.searchsorted(np.cumsum(cost), total / 2)) + 1
    k = min(max(k, 1), n - 1)
    child = _started(run, k, n)
    if child is None:
        return [(run(0, n), True)]
    pid, reader = child
    with os.fdopen(reader, "rb") as pipe:
        try:
            first = run(0, k)
            second = _received(pid, pipe)
        except BaseException:
            _stop(pid)
            raise
    return [(first, True), (run(k, n), True) if second is None else (second[0], False)]


def _started(run: Callable[[int, int], object], k: int, n: int) -> tuple[int, int] | None:
    """A child running ``run(k, n)`` into a pipe: its pid and the pipe's read end (None: no fork)."""
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            # No cyclic collection: it would walk (and so copy) every object the parent holds.
            gc.disable()
            os.close(reader)
            data = pickle.dumps((run(k, n),), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(writer, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    return pid, reader


def _received(pid: int, pipe) -> tuple | None:
    """What the child sent, once it exited cleanly; None when it did not."""
    data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not data:
        return None
    try:
        found = pickle.loads(data)
    except Exception:  # a short or garbled message: the parent runs the half itself
        return None
    return found if isinstance(found, tuple) and len(found) == 1 else None


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
