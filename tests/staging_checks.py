"""What the staged-write tests share (``test_staged_write``: a sweep's, ``test_staged_load``: a
load's): watching the staging children made, making them fail, and checking nothing is left."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from fraudgraph.workspace.sqlite import staging


def watch_staging(monkeypatch, made: list | None = None) -> list:
    """Stage from any number of rows; the staged writes made (into ``made``), as they are made."""
    monkeypatch.setattr(staging, "MIN_ROWS", 0)
    made = [] if made is None else made
    start = staging.start

    def watched(where, work):
        staged = start(where, work)
        made.append(staged)
        return staged

    monkeypatch.setattr(staging, "start", watched)
    return made


def fail_in_children(monkeypatch, module, how: str) -> None:
    """``module.insert_columns`` raises in a child process ("error") or kills it ("killed"); the
    parent's calls go through."""
    parent = os.getpid()
    insert = module.insert_columns

    def failing_in_the_child(db, head, columns, tail=""):
        if os.getpid() != parent:
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise OSError("disk gone")
        return insert(db, head, columns, tail)

    monkeypatch.setattr(module, "insert_columns", failing_in_the_child)


def failure_said(how: str) -> str:
    """How the log names the failure ``fail_in_children`` made."""
    return "OSError: disk gone" if how == "error" else "exit -9"


def nothing_left(folder: Path, made: list) -> None:
    """No staging file in ``folder``, and every child of ``made`` reaped."""
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".fraudgraph-stage-")]
    for staged in made:
        assert staged.exit_code is not None  # reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(staged.pid, os.WNOHANG)
