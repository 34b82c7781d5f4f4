"""detection/forked.py: half of a run of independent calls in a forked child, the same answer."""

from __future__ import annotations

import os

import numpy as np
import pytest

from fraudgraph.detection import forked

COST = np.ones(10)


def _squares(lo, hi):
    return [(i * i, os.getpid()) for i in range(lo, hi)]


def test_the_second_half_runs_in_a_child_and_comes_back_in_order():
    halves = forked.two_halves(_squares, COST, min_cost=0)
    assert [here for _, here in halves] == [True, False]
    values = [v for found, _ in halves for v, _pid in found]
    assert values == [i * i for i in range(10)]
    pids = {pid for found, _ in halves for _v, pid in found}
    assert os.getpid() in pids and len(pids) == 2  # the second half's calls ran elsewhere


def test_below_the_cost_bar_or_without_fork_one_process_runs_all(monkeypatch):
    assert forked.two_halves(_squares, COST, min_cost=11) == [(_squares(0, 10), True)]
    monkeypatch.delattr(os, "fork")
    assert forked.two_halves(_squares, COST, min_cost=0) == [(_squares(0, 10), True)]


def test_a_child_that_fails_leaves_its_half_to_the_parent():
    parent = os.getpid()

    def failing_in_child(lo, hi):
        if os.getpid() != parent:
            raise RuntimeError("the child's half fails")
        return list(range(lo, hi))

    halves = forked.two_halves(failing_in_child, COST, min_cost=0)
    assert [found for found, _ in halves] == [list(range(5)), list(range(5, 10))]
    assert [here for _, here in halves] == [True, True]  # the parent ran both


def test_an_error_in_the_parents_half_stops_the_child_and_is_raised(monkeypatch):
    parent = os.getpid()
    children = []

    def fork():
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    def failing_in_parent(lo, hi):
        if os.getpid() == parent:
            raise ValueError("the parent's half fails")
        return []

    real_fork = os.fork
    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(ValueError, match="parent's half"):
        forked.two_halves(failing_in_parent, COST, min_cost=0)
    assert len(children) == 1
    # Reaped: the child is gone, not left running or a zombie. (Not waitpid(-1): the test process
    # may have other children, such as scikit-learn's worker processes from an earlier test.)
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0], os.WNOHANG)


def test_the_split_balances_the_cost():
    cost = np.r_[np.full(4, 10.0), np.ones(20)]
    halves = forked.two_halves(lambda lo, hi: (lo, hi), cost, min_cost=0)
    (first, _), (second, _) = halves
    assert first[0] == 0 and first[1] == second[0] and second[1] == len(cost)
    assert abs(cost[: first[1]].sum() - cost[first[1] :].sum()) <= 10
