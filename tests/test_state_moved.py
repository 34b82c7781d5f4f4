"""The accounts whose state holds another action than their decision (an analyst's suspension, a
hold) are kept in ``state_moved`` by every write of either table, so a page of flagged decisions
reads those few instead of joining every state with its decision. The kept set must always be
the joined one, and a workspace without it (made before it existed) must read the same pages and
get it filled at its next write."""

from __future__ import annotations

import csv
import sqlite3

import pytest
from click.testing import CliRunner

from fraudgraph.cli.main import cli

_JOINED = (
    "SELECT s.account_id FROM account_state s LEFT JOIN decisions d ON d.account_id = s.account_id "
    "WHERE d.account_id IS NULL OR (s.action IS NOT NULL AND s.action IS NOT d.action)"
)

PAGES = [
    ("decisions", "--limit", "20"),
    ("decisions", "--action", "suspend", "--format", "csv"),
    ("decisions", "--action", "monitor", "--format", "csv"),
    ("decisions", "--action", "none", "--limit", "30"),
    ("decisions", "--all", "--limit", "40"),
    ("decisions", "--format", "json"),
]


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def _query(db, sql: str) -> list:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _kept(db) -> set[str] | None:
    if not _query(db, "SELECT 1 FROM sqlite_master WHERE name = 'state_moved'"):
        return None
    return {r[0] for r in _query(db, "SELECT account_id FROM state_moved")}


def _joined(db) -> set[str]:
    return {r[0] for r in _query(db, _JOINED)}


def _ids(db, *args) -> dict[str, str]:
    out = run("--db", db, "decisions", *args, "--format", "csv").stdout
    return {r["account_id"]: r["action"] for r in csv.DictReader(out.splitlines())}


def _quiet(db) -> list[str]:
    """Accounts the sweep decided nothing for (their decision row is implied)."""
    sql = "SELECT account_id FROM accounts WHERE account_id NOT IN (SELECT account_id FROM decisions) ORDER BY 1"
    return [r[0] for r in _query(db, sql)]


def test_the_kept_set_follows_sweeps_and_analysts(db_copy):
    db = db_copy
    assert _kept(db) == _joined(db)  # a sweep fills it
    monitored = sorted(_ids(db, "--action", "monitor"))
    quiet = _quiet(db)
    run("--db", db, "-q", "suspend", monitored[0], "--reason", "card skimming ring")
    run("--db", db, "-q", "suspend", quiet[0], "--reason", "customer reported stolen identity")
    run("--db", db, "-q", "review", quiet[1], "--confirm-fraud", "--note", "called the customer")
    kept = _kept(db)
    assert kept == _joined(db) and {monitored[0], quiet[0]} <= kept
    # What the pages say of them: in force, the analyst's action.
    suspended = _ids(db, "--action", "suspend")
    assert suspended[monitored[0]] == suspended[quiet[0]] == "suspend"
    assert monitored[0] not in _ids(db, "--action", "monitor")
    top = run("--db", db, "decisions", "--limit", "5000", "--format", "csv").stdout
    assert monitored[0] in top and quiet[0] in top
    run("--db", db, "-q", "reinstate", quiet[0], "--reason", "identity restored")
    assert _kept(db) == _joined(db)
    for args in ((), ("--full",)):  # the policy again, then detection and policy again
        run("--db", db, "-q", "sweep", *args)
        assert _kept(db) == _joined(db)
        assert _ids(db, "--action", "suspend")[monitored[0]] == "suspend"  # the verdict holds


def test_a_workspace_without_it_reads_the_same_and_gets_it_at_its_next_write(db_copy, tmp_path):
    db = db_copy
    monitored = sorted(_ids(db, "--action", "monitor"))
    quiet = _quiet(db)
    run("--db", db, "-q", "suspend", monitored[1], "--reason", "mule confessed")
    run("--db", db, "-q", "suspend", quiet[2], "--reason", "customer reported stolen identity")
    kept = [run("--db", db, *args).stdout for args in PAGES]
    con = sqlite3.connect(db)
    con.execute("DROP TABLE state_moved")
    con.commit()
    con.close()
    assert [run("--db", db, *args).stdout for args in PAGES] == kept
    run("--db", db, "-q", "review", quiet[3], "--dismiss", "--note", "ID verified in branch")
    assert _kept(db) == _joined(db) and {monitored[1], quiet[2]} <= _kept(db)


@pytest.mark.parametrize("drop", [False, True], ids=["kept", "not kept"])
def test_a_state_without_a_decision_row_is_found_either_way(db_copy, drop):
    """A state row whose account has no decision row at all (a quiet account an analyst
    suspended): in force on the flagged pages, whether or not the set is kept."""
    db = db_copy
    quiet = _quiet(db)
    run("--db", db, "-q", "suspend", quiet[5], "--reason", "customer reported stolen identity")
    if drop:
        con = sqlite3.connect(db)
        con.execute("DROP TABLE state_moved")
        con.commit()
        con.close()
    assert _ids(db, "--action", "suspend")[quiet[5]] == "suspend"
    assert quiet[5] not in _ids(db, "--action", "none")
