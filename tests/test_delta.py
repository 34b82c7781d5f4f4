"""Delta loads (`load --delta`) and incremental sweeps: the same results as full sweeps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fraudgraph.app.sweep import run_sweep
from fraudgraph.cli.main import cli
from fraudgraph.decisions.policy import Policy
from fraudgraph.detection.graph import DetectionConfig
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world
from fraudgraph.workspace.sqlite.store import SqliteWorkspace


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + str(result.exception)
    return result


def _write(folder: Path, accounts: pd.DataFrame, links: pd.DataFrame, txns: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    accounts.to_csv(folder / "accounts.csv", index=False)
    links.to_csv(folder / "links.csv", index=False)
    txns.to_csv(folder / "transactions.csv", index=False)
    return folder


def _stages(world, n_deltas: int, rng: np.random.Generator) -> list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """The world cut into a base and ``n_deltas`` deltas: new accounts, new links of new and old
    accounts, transactions once both ends are loaded, and changed balances of loaded accounts."""
    acc, links, txns = world.accounts, world.links, world.transactions
    stage_of = pd.Series(np.where(rng.random(len(acc)) < 0.6, 0, rng.integers(1, n_deltas + 1, len(acc))))
    stage_of.index = acc["account_id"].astype(str).to_numpy()
    link_stage = stage_of.reindex(links["account_id"].astype(str)).to_numpy()
    link_stage = np.maximum(
        link_stage, np.where(rng.random(len(links)) < 0.1, rng.integers(0, n_deltas + 1, len(links)), 0)
    )
    payee = txns["counterparty"].astype(str).map(stage_of).fillna(0).to_numpy().astype(int)
    txn_stage = np.maximum(stage_of.reindex(txns["account_id"].astype(str)).to_numpy(), payee)
    out = []
    for k in range(n_deltas + 1):
        new_acc = acc[(stage_of == k).to_numpy()]
        if k:  # a few loaded accounts change (a newer extract of the same rows)
            old = acc[(stage_of < k).to_numpy()].sample(n=3, random_state=int(rng.integers(1 << 30)))
            old = old.assign(balance=old["balance"] + 10.0, credit_limit=old["credit_limit"] + 100.0)
            new_acc = pd.concat([new_acc, old])
        out.append((new_acc, links[link_stage == k], txns[txn_stage == k]))
    return out


def _act(inc, full, rng: np.random.Generator) -> None:
    """The same analyst actions on both workspaces: suspend a ring member (its ring is decided
    again with it, wherever the delta lands), label another account fraud."""
    from fraudgraph.app.analyst import suspend

    ids = sorted(inc.accounts()["account_id"])
    state = inc.account_state()
    held = set(state.loc[state["status"] != "active", "account_id"]) | set(
        state.loc[state["manual"].astype(bool), "account_id"]
    )
    members = sorted(set(inc.table("ring_members")["account_id"]) - held)
    suspended = members[int(rng.integers(len(members)))]
    labelled = ids[int(rng.integers(len(ids)))]
    for ws in (inc, full):
        suspend(ws, suspended, reason="customer reported a stolen card", actor="erin")
        ws.apply_manual(state=pd.DataFrame(), audit=pd.DataFrame(), label=(labelled, "fraud"))


def _results(ws) -> dict[str, pd.DataFrame]:
    """What a user reads after a sweep, without wall-clock times."""
    members = ws.table("ring_members").sort_values(["ring_id", "account_id"]).reset_index(drop=True)
    rings = ws.table("rings").sort_values("ring_id").reset_index(drop=True)
    scores = ws.table("account_scores").sort_values("account_id").reset_index(drop=True)
    decisions = ws.table("decisions").sort_values("account_id").reset_index(drop=True)
    audit = ws.audit().drop(columns=["at"]).reset_index(drop=True)
    state = ws.account_state().drop(columns=[c for c in ("since", "updated_at") if c in ws.account_state()])
    # The map of components the next delta sweep reads: a delta sweep's splice equals a full sweep's.
    components = ws.components_of(ws.accounts()["account_id"].astype(str).tolist())
    return {
        "components": components,
        "members": members,
        "rings": rings,
        "scores": scores,
        "decisions": decisions,
        "audit": audit,
        "state": state.sort_values("account_id").reset_index(drop=True),
    }


def _moved_kept(ws) -> set[str]:
    return {r[0] for r in ws._db.execute("SELECT account_id FROM state_moved")}


def _moved_joined(ws) -> set[str]:
    sql = (
        "SELECT s.account_id FROM account_state s LEFT JOIN decisions d ON d.account_id = s.account_id "
        "WHERE d.account_id IS NULL OR (s.action IS NOT NULL AND s.action IS NOT d.action)"
    )
    return {r[0] for r in ws._db.execute(sql)}


def _assert_same(inc: dict[str, pd.DataFrame], full: dict[str, pd.DataFrame]) -> None:
    pd.testing.assert_frame_equal(inc["members"], full["members"])
    assert inc["rings"]["ring_id"].tolist() == full["rings"]["ring_id"].tolist()
    np.testing.assert_allclose(inc["rings"]["score"].astype(float), full["rings"]["score"].astype(float), atol=1e-9)
    assert inc["rings"]["reasons"].tolist() == full["rings"]["reasons"].tolist()
    np.testing.assert_allclose(inc["scores"]["score"].astype(float), full["scores"]["score"].astype(float), atol=1e-9)
    assert inc["scores"]["ring_id"].fillna("").tolist() == full["scores"]["ring_id"].fillna("").tolist()
    assert inc["scores"]["reasons"].tolist() == full["scores"]["reasons"].tolist()
    for name in ("components", "decisions", "audit", "state"):
        pd.testing.assert_frame_equal(inc[name], full[name], check_dtype=False)


@pytest.mark.parametrize(
    ("seed", "per_component", "threshold"),
    [(3, False, 0.1), (11, False, 0.1), (3, True, 0.1), (11, True, 0.1), (29, True, 0.1), (5, True, 0.5)],
    ids=["3", "11", "3-each", "11-each", "29-each", "5-each-strict"],
)
def test_incremental_sweeps_match_full_sweeps_over_random_deltas(tmp_path, seed, per_component, threshold):
    """Also with ``community_per_component``, where a delta sweep reuses the Leiden cut of
    every big component the delta did not touch; and with a link threshold that some shared
    identifiers do not reach, so accounts outside a delta's components hold identifiers of
    accounts inside (detection reads them as context)."""
    config = DetectionConfig(community_per_component=per_component, link_threshold=threshold)
    rng = np.random.default_rng(seed)
    world = generate_world(400, seed)
    inc = SqliteWorkspace(tmp_path / "inc.db")
    full = SqliteWorkspace(tmp_path / "full.db")
    modes = []
    for k, (acc, links, txns) in enumerate(_stages(world, 4, rng)):
        folder = _write(tmp_path / f"stage{k}", acc, links, txns)
        known = inc.accounts()["account_id"].tolist() if k else []
        for ws in (inc, full):
            ws.load(read_dataset(folder, known_accounts=known))
        # Read after a load: implied decision rows come from the last sweep's kept accounts.
        pd.testing.assert_frame_equal(_results(inc)["decisions"], _results(full)["decisions"], check_dtype=False)
        if k >= 2:  # an analyst acts between sweeps: a suspension and a label
            _act(inc, full, rng)
        # Each stage sweeps once or twice: the second finds nothing changed.
        for _ in range(1 + int(rng.integers(0, 2))):
            a = run_sweep(inc, seed=seed, config=config)
            b = run_sweep(full, seed=seed, full=True, config=config)
            modes.append(a.summary["detection"]["mode"])
            _assert_same(_results(inc), _results(full))
            for ws in (inc, full):  # the states another action holds than the decision, kept right
                assert _moved_kept(ws) == _moved_joined(ws)
            assert a.as_of == b.as_of  # the data's latest timestamp, found by key after a delta
            # What the command line prints: the whole workspace's totals, however the sweep ran.
            assert {k: a.summary[k] for k in ("rings", "hubs", "actions")} == {
                k: b.summary[k] for k in ("rings", "hubs", "actions")
            }
    assert "computed" in modes and "unchanged" in modes
    if per_component:  # a sweep after a delta recomputes only what the delta reaches
        assert modes.count("delta") >= 2
    else:  # one Leiden call over every big component: the sweep recomputes whole
        assert "delta" not in modes
    assert full.next_ring_number() == inc.next_ring_number()
    assert len(inc.table("ring_members")) > 0


def test_a_sweep_with_nothing_changed_reuses_the_detection_and_a_label_or_load_does_not(tmp_path):
    world = generate_world(300, 5)
    folder = _write(tmp_path / "w", world.accounts, world.links, world.transactions)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(read_dataset(folder))
    assert run_sweep(ws).summary["detection"]["mode"] == "computed"
    assert run_sweep(ws).summary["detection"]["mode"] == "unchanged"
    assert run_sweep(ws, full=True).summary["detection"]["mode"] == "full"
    assert run_sweep(ws, seed=1).summary["detection"]["mode"] == "computed"  # another seed: other rings
    account = world.accounts["account_id"].iloc[0]
    ws.apply_manual(state=pd.DataFrame(), audit=pd.DataFrame(), label=(account, "fraud"))
    # A label is a recorded change: the sweep recomputes what the labelled account reaches.
    assert run_sweep(ws, seed=1).summary["detection"]["mode"] == "delta"
    ws.load(read_dataset(folder))  # an unchanged reload records that it changed nothing
    assert run_sweep(ws, seed=1).summary["detection"]["mode"] == "delta"


def test_load_delta_takes_rows_naming_stored_accounts_and_refuses_unknown_ones(tmp_path):
    world = generate_world(200, 2)
    acc, links = world.accounts, world.links
    base_ids = acc["account_id"].iloc[:150]
    base = _write(
        tmp_path / "base", acc.iloc[:150], links[links["account_id"].isin(base_ids)], world.transactions.iloc[:0]
    )
    db = tmp_path / "ws.db"
    run("--db", db, "load", base)
    new_acc = acc.iloc[150:160]
    old_link = links[links["account_id"] == base_ids.iloc[0]].head(1).assign(value="delta-device-1", kind="device")
    new_link = links[links["account_id"].isin(new_acc["account_id"])]
    delta = _write(tmp_path / "delta", new_acc, pd.concat([new_link, old_link]), world.transactions.iloc[:0])
    # Without --delta the link of a stored account is refused: the folder's accounts table lacks it.
    bad = run("--db", db, "load", delta, ok=False)
    assert bad.exit_code != 0 and "is not in the accounts table" in bad.output
    out = json.loads(run("--db", db, "load", "--delta", delta, "--format", "json").stdout)
    assert out["accounts_new"] == 10 and out["links_new"] == len(new_link) + 1
    # A delta naming an account neither stored nor in its accounts table is refused whole.
    stranger = old_link.assign(account_id="NOBODY-1", value="delta-device-2")
    refused = _write(tmp_path / "refused", acc.iloc[160:161], stranger, world.transactions.iloc[:0])
    result = run("--db", db, "load", "--delta", refused, ok=False)
    assert result.exit_code != 0 and "NOBODY-1" in result.output
    ws = SqliteWorkspace(db)
    assert len(ws.accounts()) == 160  # nothing of the refused delta landed
    ws.close()


def test_load_delta_needs_an_existing_workspace_and_sweep_full_says_so(tmp_path):
    world = generate_world(200, 4)
    folder = _write(tmp_path / "w", world.accounts, world.links, world.transactions)
    missing = run("--db", tmp_path / "none.db", "load", "--delta", folder, ok=False)
    assert missing.exit_code != 0
    db = tmp_path / "ws.db"
    run("--db", db, "load", folder)
    first = run("--db", db, "sweep").output
    assert "detection: computed" in first
    assert "detection: unchanged (nothing changed since the last sweep" in run("--db", db, "sweep").output
    assert "detection: full" in run("--db", db, "sweep", "--full").output
    log = run("--db", db, "schedule", "--every", "1s", "--max-runs", "2", "--full-every", "2")
    assert "detection unchanged" in log.output and "detection full" in log.output


def test_the_command_line_says_what_a_delta_sweep_recomputed_and_which_baseline_it_kept(tmp_path):
    world = generate_world(300, 6)
    db = tmp_path / "ws.db"
    run("--db", db, "load", _write(tmp_path / "w", world.accounts, world.links, world.transactions))
    first = run("--db", db, "sweep").output
    assert "fitted on this sweep's" in first
    digest = re.search(r"baseline ([0-9a-f]{16}): fitted", first).group(1)
    device = world.links.loc[world.links["kind"] == "device", "value"].iloc[0]
    event = json.dumps(
        {
            "account": {"account_id": "NEW-1", "created_at": "2026-11-20T10:00:00", "credit_limit": 1500},
            "links": [{"kind": "device", "value": device}],
        }
    )
    run("--db", db, "check", "--apply", "--event", event)
    after = run("--db", db, "sweep").output
    assert "detection: delta (1 account changed since the last sweep;" in after
    assert f"baseline {digest}: kept" in after
    refit = run("--db", db, "sweep", "--refit").output
    assert "detection: full" in refit and "fitted on this sweep's" in refit
    # The change log holds only what came after the last sweep.
    import sqlite3

    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM data_changes").fetchone()[0] == 0
    con.close()
    run("--db", db, "check", "--apply", "--event", event.replace("NEW-1", "NEW-2"))
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(DISTINCT seq) FROM data_changes").fetchone()[0] == 1
    con.close()
    assert "detection: delta (1 account changed" in run("--db", db, "sweep").output


def test_a_sweep_with_nothing_changed_reads_nothing_and_one_after_an_action_reruns_the_policy(tmp_path, monkeypatch):
    """Nothing changed (data, labels, reviews, account states, policy, settings): the last sweep's
    results stand and only a history row is written, without reading the data. An analyst's
    action changes what the policy reads: the next sweep reuses detection and runs the policy."""
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    world = generate_world(300, 5)
    folder = _write(tmp_path / "w", world.accounts, world.links, world.transactions)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(read_dataset(folder))
    assert run_sweep(ws).summary["detection"]["mode"] == "computed"
    before = (ws.table("decisions"), ws.account_state(), ws.audit(), ws.notices())

    def no_read(*args, **kwargs):
        raise AssertionError("an unchanged sweep read the data")

    with monkeypatch.context() as m:
        m.setattr(SqliteWorkspace, "links", no_read)
        m.setattr(SqliteWorkspace, "accounts", no_read)
        again = run_sweep(ws)
    assert again.summary["detection"]["mode"] == "unchanged" and again.summary["events"] == {}
    assert ws.sweeps()["sweep_id"].tolist() == [again.sweep_id, "S-000001"]
    after = (ws.table("decisions"), ws.account_state(), ws.audit(), ws.notices())
    for b, a in zip(before, after):
        pd.testing.assert_frame_equal(b, a)
    quiet = sorted(set(ws.accounts()["account_id"]) - set(ws.account_state()["account_id"]))[0]
    from fraudgraph.app.analyst import suspend

    suspend(ws, quiet, reason="stolen identity", actor="erin")
    assert run_sweep(ws).summary["detection"]["mode"] == "reused"
    assert run_sweep(ws, policy=Policy.from_text("[tiers]\nmonitor = 0.31\n")).summary["detection"]["mode"] == "reused"
    assert run_sweep(ws, dry_run=True).summary["detection"]["mode"] != "unchanged"  # a dry run always computes


def test_a_dry_run_sweep_writes_no_memo_table_into_the_workspace_file(tmp_path):
    import sqlite3

    world = generate_world(300, 5)
    folder = _write(tmp_path / "w", world.accounts, world.links, world.transactions)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(read_dataset(folder))

    def tables() -> set[str]:
        with sqlite3.connect(tmp_path / "ws.db") as db:
            return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    run_sweep(ws, dry_run=True)
    assert "detection_cache" not in tables()
    run_sweep(ws)
    assert "detection_cache" in tables()


def _mule_world() -> tuple[tuple, tuple]:
    """A base and a delta in which money alone joins three accounts the delta does not name.

    q1 passes money on (paid by three, forwards most of it) to c; x pays c too but is paid by one
    account only. The delta's two new accounts pay x: x now passes money on, so c collects from
    two pass-through accounts, and q1, x and c become one component (money edges only). The
    change log names the new accounts and x (paid), not c or q1."""

    def accounts(ids):
        return pd.DataFrame(
            {
                "account_id": ids,
                "created_at": "2026-01-05T10:00:00",
                "credit_limit": 1000.0,
                "balance": 100.0,
                "overdue_days": 0,
                "status": "active",
                "label": "",
            }
        )

    def links(ids):
        return pd.DataFrame(
            {
                "account_id": ids,
                "kind": "device",
                "value": [f"dev-{a}" for a in ids],
                "first_seen": "2026-01-06T10:00:00",
            }
        )

    def pays(rows, start):
        return pd.DataFrame(
            [
                (f"T{start + i:04d}", payer, payee, "account", amount, f"2026-02-{1 + i:02d}T10:00:00", "settled")
                for i, (payer, payee, amount) in enumerate(rows)
            ],
            columns=["txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp", "status"],
        )

    base_ids = ["a1", "a2", "a3", "b1", "c", "q1", "x", "z1", "z2"]
    base_tx = pays([("a1", "q1", 100), ("a2", "q1", 100), ("a3", "q1", 100), ("q1", "c", 200), ("b1", "x", 100)], 0)
    base_tx = pd.concat([base_tx, pays([("x", "c", 200), ("z1", "z2", 50)], 10)], ignore_index=True)
    delta_tx = pays([("y1", "x", 100), ("y2", "x", 100)], 20)
    return (accounts(base_ids), links(base_ids), base_tx), (accounts(["y1", "y2"]), links(["y1", "y2"]), delta_tx)


def test_a_delta_sweep_finds_accounts_joined_by_money_through_an_account_it_only_pays(tmp_path):
    """The delta names neither q1 nor c, and q1 was in no component before: the reach must take
    the accounts the changed ones pay and their money neighbours, or the ring loses q1."""
    base, delta = _mule_world()
    inc, full = SqliteWorkspace(tmp_path / "inc.db"), SqliteWorkspace(tmp_path / "full.db")
    for k, frames in enumerate((base, delta)):
        folder = _write(tmp_path / f"stage{k}", *frames)
        known = inc.accounts()["account_id"].tolist() if k else []
        for ws in (inc, full):
            ws.load(read_dataset(folder, known_accounts=known))
        mode = run_sweep(inc, seed=1).summary["detection"]["mode"]
        run_sweep(full, seed=1, full=True)
        _assert_same(_results(inc), _results(full))
    assert mode == "delta"
    members = inc.table("ring_members")
    assert sorted(members["account_id"]) == ["c", "q1", "x"]


def test_a_delta_sweep_takes_as_of_from_the_changed_rows_and_asks_everything_when_the_latest_row_moved_back(tmp_path):
    """as_of after a delta: a later row of a changed account; the last as_of while an unchanged
    account still holds it; the whole data's latest when the row that held it moved back."""
    world = generate_world(300, 5)
    acc, links, txns = world.accounts, world.links, world.transactions
    txns = txns.assign(timestamp=pd.to_datetime(txns["timestamp"]))
    last = txns.loc[txns["timestamp"].idxmax()]
    ts = pd.Timestamp(last["timestamp"])
    # A later and an earlier newcomer (paying the latest payer), and the latest row moved back.
    newcomers = acc.iloc[:0]
    steps = []
    for k, (when, tag) in enumerate(((ts + pd.Timedelta(days=2), "N1"), (ts - pd.Timedelta(days=40), "N2"))):
        row = acc.iloc[[k]].assign(account_id=tag, created_at=str(when - pd.Timedelta(days=10)))
        pay = txns.iloc[[k]].assign(
            txn_id=f"T-{tag}",
            account_id=tag,
            counterparty=last["account_id"],
            counterparty_kind="account",
            timestamp=when,
        )
        newcomers = pd.concat([newcomers, row])
        steps.append((row, links.iloc[:0], pay))
    moved_back = txns[txns["txn_id"] == last["txn_id"]].assign(timestamp=ts - pd.Timedelta(days=400))
    latest_payment = steps[0][2]
    steps.append((acc.iloc[:0], links.iloc[:0], latest_payment.assign(timestamp=ts - pd.Timedelta(days=300))))
    steps.append((acc.iloc[:0], links.iloc[:0], moved_back))
    inc, full = SqliteWorkspace(tmp_path / "inc.db"), SqliteWorkspace(tmp_path / "full.db")
    seen = []
    for k, frames in enumerate([(acc, links, txns), *steps]):
        folder = _write(tmp_path / f"stage{k}", *frames)
        known = inc.accounts()["account_id"].tolist() if k else []
        for ws in (inc, full):
            ws.load(read_dataset(folder, known_accounts=known))
        a = run_sweep(inc, seed=2)
        b = run_sweep(full, seed=2, full=True)
        assert a.as_of == b.as_of
        _assert_same(_results(inc), _results(full))
        seen.append((a.summary["detection"]["mode"], a.as_of))
    assert [mode for mode, _ in seen[1:]] == ["delta"] * 4
    # later newcomer; earlier newcomer (an unchanged holder keeps the latest); the newcomer's
    # late payment moved back, then the world's own latest payment: the latest is asked again.
    assert seen[1][1] == seen[2][1] == ts + pd.Timedelta(days=2)
    assert seen[3][1] == ts
    assert seen[4][1] < ts


def test_a_delta_sweep_keeps_its_hands_off_an_account_an_analyst_changed_while_it_ran(tmp_path, monkeypatch):
    """The delta sweep's write holds back, as a full sweep's does, the changes it planned for an
    account an analyst changed after it read the states (its scoped write is a separate path)."""
    from fraudgraph.app import analyst
    from fraudgraph.decisions import policy as policy_mod

    world = generate_world(400, 6)
    ws = SqliteWorkspace(tmp_path / "ws.db")
    ws.load(read_dataset(_write(tmp_path / "w", world.accounts, world.links, world.transactions)))
    run_sweep(ws, seed=1)
    members = ws.table("ring_members").sort_values(["ring_id", "account_id"])
    ws.apply_manual(state=pd.DataFrame(), audit=pd.DataFrame(), label=(members["account_id"].iloc[0], "fraud"))
    planned = policy_mod.plan_changes
    during: dict[str, str] = {}

    def analyst_acts_meanwhile(state, decisions, pol, **kw):
        changes = planned(state, decisions, pol, **kw)
        row = changes.state.iloc[0]
        verdict = "dismiss" if row["action"] == "suspend" else "confirm_fraud"
        during.update(account_id=str(row["account_id"]), verdict=verdict)
        other = SqliteWorkspace(tmp_path / "ws.db")
        analyst.review(other, during["account_id"], verdict, note="seen in branch", actor="ana")
        other.close()
        return changes

    monkeypatch.setattr(policy_mod, "plan_changes", analyst_acts_meanwhile)
    result = run_sweep(ws, seed=1)
    assert result.summary["detection"]["mode"] == "delta"
    account_id = during["account_id"]
    assert result.summary["held_back"] == [account_id]
    assert account_id not in set(result.audit["account_id"]) | set(result.notices["account_id"])
    assert ws.audit(account_id)["actor"].tolist() == ["ana"]
    state = ws.account_state([account_id]).iloc[0]
    assert state["action"] == ("suspend" if during["verdict"] == "confirm_fraud" else "none")
    assert bool(state["manual"]) == (during["verdict"] == "confirm_fraud")
