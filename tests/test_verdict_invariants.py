"""The analyst loop's invariants, driven through the command line across sweeps (issue 10, part 2).

- A dismissal holds until new evidence about the account arrives; a re-flag says what is new.
- A sweep never lifts a restriction or suspension because another account was reviewed: it
  proposes the reinstatement in the queue and an analyst decides.
- Confirming fraud on one member never puts a dismissed ring mate back into review.
- ``review`` previews what else a verdict touches, takes a ring or a list of ids, and refuses a
  stale view (``--expect``); ``account`` shows the latest verdict and what is in force.
- Every change of an account's action, status or limit has an audit row that explains it, and
  the audit rows of an account chain into its state.

The scripted scenarios run on SQLite and on the Bolt server; the random sequences (hypothesis)
run on SQLite copies of one swept world.
"""

from __future__ import annotations

import csv
import json
import shutil
import uuid

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st
from neo4j_fixtures import bolt_server, neo4j_database, neo4j_driver  # noqa: F401 - fixtures used by name

from fraudgraph.cli.main import cli

SEVERITY = {"none": 0, "monitor": 1, "review": 2, "restrict": 3, "suspend": 4}
LIMITING = ("restrict", "suspend")


class Cli:
    """The command line on one workspace (SQLite file or Bolt database)."""

    def __init__(self, where: list[str], env: dict):
        self.where, self.env = where, env

    def run(self, *args, ok: bool = True, input: str | None = None):
        result = CliRunner().invoke(cli, [*self.where, *map(str, args)], env=self.env, input=input)
        if ok:
            assert result.exit_code == 0, f"{' '.join(map(str, args))}: {result.output}"
        return result

    def js(self, *args):
        return json.loads(self.run(*args, "--format", "json").stdout)

    def state(self) -> pd.DataFrame:
        """Every account's action, status and limit in force, with the policy's reasons."""
        rows = self.js("decisions", "--all")
        return pd.DataFrame(rows).set_index("account_id")

    def audit(self) -> pd.DataFrame:
        return pd.DataFrame(self.js("audit"))


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """Two small worlds written by `fraudgraph generate`: the standard one and the independent city."""
    out = tmp_path_factory.mktemp("verdict-worlds")
    made = {}
    for name, extra in (("standard", ["--accounts", "250", "--seed", "7"]), ("city", ["--accounts", "1000"])):
        folder = out / name
        args = ["generate", str(folder), *extra] + (["--seed", "5", "--generator", "city"] if name == "city" else [])
        assert CliRunner().invoke(cli, args).exit_code == 0
        made[name] = folder
    return made


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(params=BACKENDS)
def workspace_cli(request, tmp_path):
    """A factory: an empty workspace of the backend, as a Cli."""
    if request.param == "sqlite":
        no_neo4j = {f"FRAUDGRAPH_NEO4J_{n}": None for n in ("URI", "USER", "PASSWORD", "DATABASE")}
        return lambda: Cli(["--db", str(tmp_path / f"ws-{uuid.uuid4().hex[:6]}.db")], no_neo4j)
    server = request.getfixturevalue("bolt_server")
    database = request.getfixturevalue("neo4j_database")
    env = {"FRAUDGRAPH_NEO4J_PASSWORD": server.password, "FRAUDGRAPH_NEO4J_DATABASE": None}
    where = ["--neo4j", server.uri, "--neo4j-user", server.user]
    if database:
        where += ["--neo4j-database", database]
    made = []

    def make():
        assert not made, "one Bolt database per test"
        made.append(1)
        return Cli(where, env)

    return make


def swept(cli_: Cli, folder) -> Cli:
    cli_.run("load", folder)
    cli_.run("sweep", "--seed", "3")
    return cli_


def ring_of_suspended(c: Cli) -> tuple[str, list[str]]:
    """A ring with at least three members, two of them suspended by the sweep."""
    state = c.state()
    suspended = state[(state["action"] == "suspend") & (state["trigger"] == "fraud_ring")]
    counts = suspended.groupby("ring_id").size().sort_values(ascending=False)
    rid = next(r for r, n in counts.items() if n >= 2)
    members = [m["account_id"] for m in c.js("ring", rid)["members"]]
    return rid, [a for a in members if a in suspended.index]


# -- invariants checked after every step ---------------------------------------------------------


def check_audit_explains_state(audit: pd.DataFrame, state: pd.DataFrame) -> None:
    """Each account's audit rows chain (one row's before is the previous row's after) and end in
    the state in force: no action, status or limit changed without a row saying so."""
    for account_id, rows in audit.groupby("account_id", sort=False):
        rows = rows.reset_index(drop=True)
        for k in range(1, len(rows)):
            before, after = rows.loc[k], rows.loc[k - 1]
            assert before["previous_action"] == after["new_action"], (account_id, rows.to_dict("records"))
            assert before["previous_status"] == after["new_status"], (account_id, rows.to_dict("records"))
            assert _same_money(before["previous_limit"], after["new_limit"]), (account_id, rows.to_dict("records"))
        last = rows.iloc[-1]
        assert state.loc[account_id, "action"] == last["new_action"], (account_id, last.to_dict())
        assert isinstance(last["note"], str) and last["note"], (account_id, last.to_dict())


def _same_money(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and abs(float(a) - float(b)) < 0.005)


def check_no_silent_lift(audit: pd.DataFrame) -> None:
    """A sweep lowers a restriction or suspension only for a change in the data, and says which."""
    if audit.empty:
        return
    by_sweep = audit[audit["actor"] == "sweep"]
    lowered = by_sweep[
        by_sweep["previous_action"].isin(LIMITING)
        & (by_sweep["new_action"].map(SEVERITY) < by_sweep["previous_action"].map(SEVERITY))
    ]
    for row in lowered.to_dict("records"):
        assert "no longer" in row["note"], row


def check_verdicts_hold(audit: pd.DataFrame, state: pd.DataFrame) -> None:
    """The latest verdict on each reviewed account is in force, unless new evidence about the
    account re-flagged it (then its reasons say what is new) or an analyst acted since."""
    for account_id, rows in audit.groupby("account_id"):
        verdicts = rows[rows["event"].str.startswith("review_") | rows["actor"].ne("sweep")]
        if verdicts.empty:
            continue
        last = verdicts.iloc[-1]
        codes = [r["code"] for r in state.loc[account_id, "reasons"] or []]
        action = state.loc[account_id, "action"]
        if last["event"] == "review_dismiss":
            assert action in ("none", "monitor") or "REVIEWED_NEW_EVIDENCE" in codes, (account_id, action, codes)
        elif last["event"] in ("review_confirm_fraud", "manual_suspend"):
            assert action == "suspend", (account_id, action)
        elif last["event"] == "manual_reinstate":
            assert action == "none", (account_id, action)


def check_all(c: Cli) -> None:
    audit, state = c.audit(), c.state()
    check_audit_explains_state(audit, state)
    check_no_silent_lift(audit)
    check_verdicts_hold(audit, state)


# -- scripted scenarios, on both backends -----------------------------------------------------------


def test_the_analyst_loop_through_the_cli(workspace_cli, worlds):
    """One load and sweep per backend (the Bolt server is slow to load), then both scenarios."""
    c = swept(workspace_cli(), worlds["standard"])
    dismissal_holds_mates_keep_their_suspension_and_a_confirm_does_not_undo_it(c)
    review_previews_takes_a_ring_or_a_list_and_refuses_a_stale_view(c)


def dismissal_holds_mates_keep_their_suspension_and_a_confirm_does_not_undo_it(c: Cli) -> None:
    rid, suspended = ring_of_suspended(c)
    dismissed, mate = suspended[0], suspended[1]
    before = c.state()
    c.run("review", dismissed, "--dismiss", "--note", "verified in branch", "--analyst", "ana")
    c.run("sweep", "--seed", "3")  # identical data
    after = c.state()
    assert after.loc[dismissed, "action"] == "none"
    codes = [r["code"] for r in after.loc[dismissed, "reasons"]]
    assert "REVIEWED_DISMISSED" in codes and "REVIEWED_NEW_EVIDENCE" not in codes
    # No other account's restriction or suspension was lifted because of the dismissal.
    was_limited = before.index[before["action"].isin(LIMITING)].drop(dismissed)
    assert after.loc[was_limited, "action"].isin(LIMITING).all()
    proposals = [q for q in c.js("queue") if q["proposal"]]
    for q in proposals:
        assert q["proposal"].split(" -> ")[0] in LIMITING and q["account_id"] in was_limited
    check_all(c)

    # Confirming fraud on the mate never puts the dismissed account back into review.
    c.run("review", mate, "--confirm-fraud", "--note", "same card as a known fraudster", "--analyst", "bo")
    c.run("sweep", "--seed", "3")
    assert c.state().loc[dismissed, "action"] == "none"
    assert dismissed not in {q["account_id"] for q in c.js("queue")}
    check_all(c)

    # `account` shows the latest verdict: who, when, the note, and what is in force.
    shown = c.js("account", dismissed)["verdict"]
    assert shown["verdict"] == "dismiss" and shown["actor"] == "ana" and shown["note"] == "verified in branch"
    assert shown["in_force"]["action"] == "none" and "new evidence" in shown["in_force"]["because"]
    text = c.run("account", dismissed).stdout
    assert "latest verdict: dismiss by ana" in text and "verified in branch" in text


def test_new_evidence_re_flags_a_dismissed_account_and_says_what_is_new(worlds, tmp_path):
    # SQLite only, to keep the module fast (two loads); the snapshot logic is backend-independent.
    folder = tmp_path / "world"
    shutil.copytree(worlds["standard"], folder)
    c = swept(Cli(["--db", str(tmp_path / "ws.db")], {}), folder)
    rid, suspended = ring_of_suspended(c)
    dismissed, mate = suspended[0], suspended[1]
    c.run("review", dismissed, "--dismiss", "--note", "looks like a household")
    c.run("sweep", "--seed", "3")
    assert c.state().loc[dismissed, "action"] == "none"
    # New data about the account: it starts using a mate's card.
    with open(folder / "links.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    new = dict(rows[0], account_id=dismissed, kind="card", value="4111 1111 2222 9999")
    new.update({k: "" for k in fields if k not in ("account_id", "kind", "value")})
    new["first_seen"] = rows[0]["first_seen"]
    shared = dict(new, account_id=mate)
    with open(folder / "links.csv", "a", newline="") as f:
        csv.DictWriter(f, fieldnames=fields).writerows([new, shared])
    c.run("load", folder)
    c.run("sweep", "--seed", "3")
    reasons = {r["code"]: r for r in c.state().loc[dismissed, "reasons"]}
    assert "REVIEWED_NEW_EVIDENCE" in reasons, reasons
    assert "new identifier(s) (card)" in reasons["REVIEWED_NEW_EVIDENCE"]["text"]
    check_all(c)


def test_a_new_ring_mate_sharing_its_identifiers_re_flags_a_dismissed_account(worlds, tmp_path):
    """The account itself is unchanged; a new account opens on its identifiers and joins its ring.
    (The full sweep hands the policy only the reviewed accounts' data and every link on their
    identifiers; a mate counts when it shares one.)"""
    folder = tmp_path / "world"
    shutil.copytree(worlds["standard"], folder)
    c = swept(Cli(["--db", str(tmp_path / "ws.db")], {}), folder)
    _, suspended = ring_of_suspended(c)
    dismissed = suspended[0]
    c.run("review", dismissed, "--dismiss", "--note", "looks like a household")
    c.run("sweep", "--seed", "3")
    assert c.state().loc[dismissed, "action"] == "none"
    clone = f"{dismissed}-NEW"
    for name in ("accounts", "links"):
        with open(folder / f"{name}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        theirs = [dict(r, account_id=clone) for r in rows if r["account_id"] == dismissed]
        with open(folder / f"{name}.csv", "a", newline="") as f:
            csv.DictWriter(f, fieldnames=list(rows[0])).writerows(theirs)
    c.run("load", folder)
    c.run("sweep", "--seed", "3", "--full")
    reasons = {r["code"]: r for r in c.state().loc[dismissed, "reasons"]}
    assert "REVIEWED_NEW_EVIDENCE" in reasons, reasons
    assert f"new ring mate(s) sharing its identifiers: {clone}" in reasons["REVIEWED_NEW_EVIDENCE"]["text"]
    check_all(c)


def review_previews_takes_a_ring_or_a_list_and_refuses_a_stale_view(c: Cli) -> None:
    state = c.state()
    rid = state.loc[state["action"] == "suspend", "ring_id"].dropna().iloc[0]
    members = [m["account_id"] for m in c.js("ring", rid)["members"]]
    audit_rows = len(c.audit())
    confirmed_before = (c.audit()["event"] == "review_confirm_fraud").sum()
    suspended = [m for m in members if state.loc[m, "action"] == "suspend"]
    preview = c.run("review", suspended[0], "--confirm-fraud", "--note", "x", "--dry-run").stdout
    assert "ring mates whose evidence this verdict touches" in preview and "dry run" in preview
    assert all(m in preview for m in members if m != suspended[0])
    assert len(c.audit()) == audit_rows  # nothing applied

    out = c.run("review", "--ring", rid, "--dismiss", "--note", "family business, verified").stdout
    assert all(f"{m}: dismiss recorded" in out for m in members)
    reviewed = c.audit().iloc[audit_rows:]
    assert set(reviewed.loc[reviewed["event"] == "review_dismiss", "account_id"]) == set(members)

    ids = "\n".join(["# cleared by phone", *members[:2], ""])
    c.run("review", "--ids-from", "-", "--confirm-fraud", "--note", "chargebacks", input=ids)
    assert (c.audit()["event"] == "review_confirm_fraud").sum() == confirmed_before + 2
    check_all(c)

    # Optimistic check: a token from before another analyst's change is refused.
    token = c.js("account", members[2])["state_token"]
    c.run("suspend", members[2], "--reason", "customer called", "--analyst", "bo", "--expect", token)
    stale = c.run("review", members[2], "--dismiss", "--note", "ok", "--expect", token, ok=False)
    assert stale.exit_code == 1
    errors = [line for line in stale.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "changed since you looked" in errors[0] and "bo" in errors[0]


def test_a_proposed_reinstatement_waits_for_the_analyst(tmp_path, worlds):
    # SQLite only, to keep the module fast: the Bolt run of the first scenario checks the same hold.
    c = swept(Cli(["--db", str(tmp_path / "ws.db")], {}), worlds["city"])
    state = c.state()
    limited = state[state["action"].isin(LIMITING) & (state["trigger"] == "fraud_ring")]
    for _rid, group in limited.groupby("ring_id"):
        c.run("review", "--ids-from", "-", "--dismiss", "--note", "cleared", input="\n".join(group.index[:1]))
    c.run("sweep", "--seed", "3")
    proposals = [q for q in c.js("queue") if q["proposal"]]
    check_all(c)
    assert proposals, "dismissing one member of each ring lowers some mates' scores on this world"
    account_id = proposals[0]["account_id"]
    assert c.state().loc[account_id, "action"] in LIMITING  # still in force
    c.run("reinstate", account_id, "--reason", "agree with the sweep")
    assert c.state().loc[account_id, "action"] == "none"
    assert "accepts the sweep's proposal" in c.audit().iloc[-1]["note"]
    c.run("sweep", "--seed", "3")
    assert c.state().loc[account_id, "action"] == "none"
    check_all(c)


def test_a_verdict_given_while_a_sweep_runs_is_not_undone_by_it(workspace_cli, worlds, monkeypatch):
    """An analyst confirms fraud on an account after the sweep read the account states and before
    it writes (the policy's 10-15 s at a million accounts): the sweep, which planned to put the
    account on monitor from the state it read, leaves the analyst's suspension in force, says
    so, and the next sweep decides the account seeing the verdict."""
    from fraudgraph.decisions import policy as policy_mod

    c = workspace_cli()
    c.run("load", worlds["standard"])
    planned = policy_mod.plan_changes
    during: dict[str, str] = {}

    def analyst_acts_meanwhile(state, decisions, pol, **kw):
        if not during:  # the first sweep only
            during["id"] = str(decisions.loc[decisions["action"] == "monitor", "account_id"].iloc[0])
            c.run("review", during["id"], "--confirm-fraud", "--note", "ID seen in branch", "--analyst", "ana")
        return planned(state, decisions, pol, **kw)

    monkeypatch.setattr(policy_mod, "plan_changes", analyst_acts_meanwhile)
    first = c.run("sweep", "--seed", "3")
    account_id = during["id"]
    assert f"held back: 1 account(s) changed by hand while this sweep ran ({account_id})" in " ".join(
        first.stdout.split()
    )
    state = c.state().loc[account_id]
    assert (state["action"], state["trigger"]) == ("suspend", "manual")  # in force: the analyst's
    assert c.audit().query("account_id == @account_id")["actor"].tolist() == ["ana"]  # no sweep row over it
    sweeps = c.js("sweeps")
    assert sweeps[0]["held_back"] == [account_id]
    assert account_id not in sweeps[0]["diff"]["accounts_escalated"]
    check_all(c)
    # The next sweep runs the policy again (not "nothing changed") and keeps the verdict.
    second = c.js("sweep", "--seed", "3")
    assert second["summary"]["detection"]["mode"] != "unchanged"
    assert "held_back" not in second["summary"]
    assert "(1 held back)" in c.run("sweeps").stdout
    assert c.state().loc[account_id, "action"] == "suspend"
    check_all(c)


# -- random sequences (SQLite) ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def swept_file(worlds, tmp_path_factory):
    path = tmp_path_factory.mktemp("verdict-base") / "base.db"
    swept(Cli(["--db", str(path)], {}), worlds["standard"])
    return path


STEP = st.one_of(
    st.tuples(st.just("sweep"), st.integers(0, 0)),
    st.tuples(st.sampled_from(["dismiss", "confirm", "dismiss_ring", "reinstate", "relink"]), st.integers(0, 50)),
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=2, max_size=4))
def test_random_reviews_sweeps_and_loads_never_silently_undo_a_verdict(steps, swept_file, worlds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    shutil.copy(swept_file, folder / "ws.db")
    world = folder / "world"
    shutil.copytree(worlds["standard"], world)
    c = Cli(["--db", str(folder / "ws.db")], {})
    for op, pick in steps:
        state = c.state()
        flagged = sorted(state.index[state["action"].isin(("review", "restrict", "suspend"))])
        if op == "sweep" or not flagged:
            c.run("sweep", "--seed", "3")
        elif op == "dismiss":
            c.run("review", flagged[pick % len(flagged)], "--dismiss", "--note", "random dismissal")
        elif op == "confirm":
            c.run("review", flagged[pick % len(flagged)], "--confirm-fraud", "--note", "random confirmation")
        elif op == "dismiss_ring":
            rings = sorted(state.loc[flagged, "ring_id"].dropna().unique())
            if rings:
                c.run("review", "--ring", rings[pick % len(rings)], "--dismiss", "--note", "random ring")
        elif op == "reinstate":
            proposals = [q["account_id"] for q in c.js("queue") if q["proposal"]]
            if proposals:
                c.run("reinstate", proposals[pick % len(proposals)], "--reason", "random acceptance")
        else:  # relink: new data about an account (a new device), then a load and a sweep
            account_id = flagged[pick % len(flagged)]
            with open(world / "links.csv", newline="") as f:
                first = next(csv.DictReader(f))
            row = {k: "" for k in first} | {
                "account_id": account_id,
                "kind": "device",
                "value": f"dev-new-{pick}",
                "first_seen": first["first_seen"],
            }
            with open(world / "links.csv", "a", newline="") as f:
                csv.DictWriter(f, fieldnames=list(first)).writerow(row)
            c.run("load", world)
            c.run("sweep", "--seed", "3")
        check_all(c)
