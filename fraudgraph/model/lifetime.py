"""How a command-line process ends: without freeing what it built, one object at a time.

A sweep at 1M accounts builds millions of Python objects (reasons, ids, rows). Freeing them one by
one when the sweep returns, then tearing the interpreter down, took about 1.5 s between its commit
and the shell prompt, and the cyclic collector walked them 13 times while they were built (0.7 s)
though a sweep leaves only a few hundred objects in cycles. A process about to end can skip both,
as compilers do (clang's ``-disable-free``): the operating system takes the memory back at once.

Only the command line's own process does this (``main`` calls ``command_process`` and ends with
``exit_now``). A one-shot command that builds much (``sweep``, ``load``) asks for it with
``one_shot``; ``keep`` then holds its big objects until the end. Anywhere else (the workbench, a
scheduled loop of sweeps, `demo`, tests that run commands in-process, a library caller) ``keep``
does nothing, the collector runs, and objects are freed as usual.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
import threading
from typing import Any, NoReturn

_process = False  # this interpreter runs the command line's entry point, and ends with it
_kept: list[Any] | None = None  # a one-shot command's objects, held until exit_now


def command_process() -> None:
    """Mark this interpreter as the command line's process (``main`` calls it first)."""
    global _process
    _process = True


def one_shot() -> bool:
    """This command runs once and its process ends: keep its objects, skip cyclic collection.
    Does nothing (returns False) unless ``command_process`` marked the interpreter."""
    global _kept
    if not _process:
        return False
    if _kept is None:
        _kept = []
    gc.disable()
    return True


def holding() -> bool:
    """Whether ``keep`` holds objects (a one-shot command runs in the command line's process)."""
    return _kept is not None


def keep(*objects: Any) -> None:
    """Hold ``objects`` until the process ends, when a one-shot command runs; otherwise nothing."""
    if _kept is not None:
        _kept.extend(objects)


def exit_now(code: Any = 0) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, without tearing the interpreter down: output
    flushed, logging shut down and ``atexit`` functions run first. While another non-daemon
    thread still runs, the interpreter ends as usual (it waits for that thread)."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if others:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):  # the reader left, or the stream is closed
            pass
    logging.shutdown()
    atexit._run_exitfuncs()
    os._exit(code)
