"""A head start on a big sweep's write, on the machine's other core.

A sweep is one core's work from start to end, and its write used to begin only after the
policy: at 1M accounts some 4 s of turning the detection's rows (rings, their members and
identifiers, account scores, components) into SQLite values and B-trees, after 5 s of policy
that does not change them. A thread cannot do that work beside the policy: both are Python and
would take turns on the GIL. So the sweep forks: the child process, which shares the parent's
memory as it stood (copy on write), writes those rows into a private staging file beside the
workspace while the parent runs the policy; the parent's write transaction then copies the
staged tables in with ``INSERT INTO main.t SELECT * FROM staged.t``, which SQLite does record
by record in C (B-tree pages of an empty table and its indexes), under a second.

The parent stays the only writer of the workspace (one transaction, its lock, its hold-back
check): the child never opens the workspace, only its staging file. Whatever goes wrong in the
child (an error, a kill, no room to fork), the parent writes the tables itself, as it always
did; the staging file is removed either way.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudgraph.workspace.sqlite.schema import PAGE_SIZE

# Account rows from which a sweep stages its write: below, the policy is over before a child
# would have started (and tests and small workspaces keep to one process).
MIN_ROWS = 200_000
# The child writes while the parent holds the whole sweep; what either writes to is copied (at
# 1M accounts the two together peaked 0.1-0.4 GB above the sweep alone, 2.7-2.8 GB of
# proportional set size). Staged only when the machine has as much memory available as the
# parent holds, and 512 MB more (``_room``): at 10M accounts, where a sweep holds some 16 GB of a
# 23 GB machine, it writes everything itself, as before.
_CHILD_SHARE = 1.0
_CACHE_KB = -65536  # the child's page cache, in KiB (negative): 64 MB
_PREFIX = ".fraudgraph-stage-"  # then the sweep's process id: <prefix><pid>-<random>.db (and .err)


@dataclass
class StagedWrite:
    """A staging file being written by a child process: ``ready`` waits for it."""

    pid: int
    path: Path
    sources: dict[str, Any] = field(default_factory=dict)  # table -> the frame staged (compared by identity)
    exit_code: int | None = None

    def ready(self) -> bool:
        """Wait for the child; True when it wrote the whole file."""
        if self.exit_code is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.exit_code = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # reaped already (not by us): its file cannot be trusted
                self.exit_code = -1
        return self.exit_code == 0 and self.path.exists()

    def failure(self) -> str:
        """Why the child did not write the file (its traceback's last line, or its exit)."""
        err = _error_file(self.path)
        text = err.read_text(errors="replace").strip().splitlines() if err.exists() else []
        return text[-1] if text else f"exit {self.exit_code}"

    def discard(self) -> None:
        """Stop the child if it still runs, reap it, remove its files (idempotent)."""
        if self.exit_code is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.ready()
        for p in (self.path, _error_file(self.path)):
            p.unlink(missing_ok=True)


def _remove_orphans(folder: Path) -> None:
    """Remove staging files whose sweep is gone (killed before it could remove them: they hold
    result rows, personal data as the workspace is). A file names its sweep's process id; one
    whose process still runs (another workspace's sweep in this folder) is left alone."""
    try:
        found = list(Path(folder).glob(f"{_PREFIX}*"))
    except OSError:
        return
    for path in found:
        owner = path.name[len(_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        try:
            path.unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _error_file(path: Path) -> Path:
    return path.with_name(path.name + ".err")


def _room() -> bool:
    """Whether the machine has memory for the child beside this process (Linux: MemAvailable
    against this process's resident memory; elsewhere not known, so no)."""
    try:
        with open("/proc/meminfo") as f:
            available = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
        with open(f"/proc/{os.getpid()}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return False
    return available > _CHILD_SHARE * rss + 512 * 1024


def start(folder: Path, work: Callable[[sqlite3.Connection], None]) -> StagedWrite | None:
    """Fork a child that runs ``work`` on a new staging database in ``folder`` (one transaction,
    no journal: a half-written file is never used) and exits; None when there is no fork or no
    room for it. The file is private (0600), as the workspace is."""
    if not hasattr(os, "fork") or not _room():
        return None
    _remove_orphans(folder)
    try:
        fd, name = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".db", dir=folder)
    except OSError:  # a folder this process cannot add a file to: the sweep writes it all
        return None
    os.close(fd)
    path = Path(name)
    try:
        pid = os.fork()
    except OSError:
        path.unlink(missing_ok=True)
        return None
    if pid == 0:  # the child: write the file, then leave without running the parent's exit code
        code = 1
        try:
            _die_with_parent()
            db = sqlite3.connect(path, isolation_level=None)
            # The workspace's page size and a page cache of tens of MB, not SQLite's 4 KB pages
            # and 2 MB: at 1M accounts the load's child (1M accounts, 2.9M transactions) 6-12%
            # faster in four pairs run in turn, the sweep's (tables and indexes) 2-10% in three.
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            db.execute(f"PRAGMA cache_size={_CACHE_KB}")
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("BEGIN")
            work(db)
            db.execute("COMMIT")
            db.close()
            code = 0
        except BaseException:
            try:
                _error_file(path).write_text(traceback.format_exc())
            except BaseException:
                pass
        finally:
            os._exit(code)
    return StagedWrite(pid, path)


def _die_with_parent() -> None:
    """Linux: the child is killed if the sweep's process dies first (no orphan writing on)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
