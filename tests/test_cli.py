"""The command line through click's CliRunner: happy paths, every output format, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil

from click.testing import CliRunner

from fraudgraph.cli.main import cli


def run(*args, ok=True, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    if ok:
        assert result.exit_code == 0, (
            f"exit {result.exit_code}: {result.output}\n{result.stderr if hasattr(result, 'stderr') else ''}"
        )
    return result


def error_line(result) -> str:
    """The error message: exactly one line starting with 'Error:' on stderr, and no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_every_command_has_help_with_an_example():
    for name, command in cli.commands.items():
        out = run(name, "--help").output
        assert "Example" in out, f"`fraudgraph {name} --help` has no example"
        assert command.help, name


def test_load_status_and_idempotent_reload(tmp_path, world_dir):
    db = tmp_path / "ws.db"
    first = json.loads(run("--db", db, "-q", "load", world_dir, "--format", "json").stdout)
    assert first["accounts_new"] == 3000 and first["links_new"] > 3000 and not first["unchanged"]
    again = json.loads(run("--db", db, "-q", "load", world_dir, "--format", "json").stdout)
    assert again["unchanged"] and again["accounts_new"] == 0 and again["links_new"] == 0
    st = json.loads(run("--db", db, "status", "--format", "json").stdout)
    assert st["counts"]["accounts"] == 3000
    assert {k["kind"] for k in st["kinds"]} >= {"device", "address", "email", "phone", "ip"}
    assert st["last_load"] is not None and st["last_sweep"] is None
    table = run("--db", db, "status").stdout
    assert "distinct identifiers" in table and "last sweep            never" in table


def test_bad_input_is_one_line_error_and_nothing_loaded(tmp_path, world_dir):
    bad = tmp_path / "bad"
    shutil.copytree(world_dir, bad)
    with open(bad / "links.csv", newline="") as f:
        rows = list(csv.reader(f))
    rows[5][rows[0].index("kind")] = "fax"  # file line 6 (the header is line 1)
    with open(bad / "links.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    db = tmp_path / "ws.db"
    r = run("--db", db, "load", bad, ok=False)
    assert r.exit_code == 1
    err = error_line(r)
    assert "links.csv:6" in err and "fax" in err and "kind" in err
    # nothing half-written: not even an empty workspace file
    assert not db.exists()
    r = run("--db", db, "status", ok=False)
    assert r.exit_code == 1 and "does not exist" in error_line(r)


def test_a_full_disk_is_a_one_line_error_and_the_load_is_rolled_back(tmp_path, world_dir, monkeypatch):
    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    db = tmp_path / "ws.db"
    run("--db", db, "-q", "load", world_dir)
    before = json.loads(run("--db", db, "status", "--format", "json").stdout)["counts"]
    more = tmp_path / "more"
    write_world(generate_world(2000, seed=12), more)  # other ids: all of it new rows
    opened = SqliteWorkspace._migrate

    def nearly_full(self):  # the file may grow by a few pages only, as on a nearly full disk
        opened(self)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages + 20}")

    monkeypatch.setattr(SqliteWorkspace, "_migrate", nearly_full)
    r = run("--db", db, "-q", "load", more, ok=False)
    assert r.exit_code == 1
    err = error_line(r)
    assert "no space left" in err and str(db) in err and "nothing of this change was written" in err
    assert "internal error" not in err
    monkeypatch.undo()
    after = json.loads(run("--db", db, "status", "--format", "json").stdout)["counts"]
    assert after == before
    assert run("--db", db, "-q", "load", more).exit_code == 0  # with room again, the same load goes in
    grown = json.loads(run("--db", db, "status", "--format", "json").stdout)["counts"]
    assert grown["accounts"] > before["accounts"]


def test_a_full_disk_while_the_snapshot_spools_rolls_the_load_back(tmp_path, world_dir, monkeypatch):
    """A big load encodes its snapshot parts in a background thread, into a temporary file: no
    room there is the same one-line error, and nothing of the load is kept."""
    import errno

    from fraudgraph.synthetic.world import generate_world, write_world
    from fraudgraph.workspace.sqlite import parts, store

    db = tmp_path / "ws.db"
    run("--db", db, "-q", "load", world_dir)
    before = json.loads(run("--db", db, "status", "--format", "json").stdout)["counts"]
    more = tmp_path / "more"
    write_world(generate_world(2000, seed=12), more)
    monkeypatch.setattr(store, "_SMALL_LOAD", 10)  # this load is a big one: its parts spool in the background
    encoded = []

    def no_room(part, dictionary=None, row_group=None):
        encoded.append(len(part))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parts, "encode", no_room)
    r = run("--db", db, "-q", "load", more, ok=False)
    assert encoded, "the snapshot was not encoded"
    assert r.exit_code == 1
    err = error_line(r)
    assert "no space left" in err and "nothing of this change was written" in err and "internal error" not in err
    monkeypatch.undo()
    assert json.loads(run("--db", db, "status", "--format", "json").stdout)["counts"] == before
    assert run("--db", db, "-q", "load", more).exit_code == 0
    after = json.loads(run("--db", db, "status", "--format", "json").stdout)["counts"]
    assert after["accounts"] > before["accounts"]


def test_missing_folder_is_a_usage_error(tmp_path):
    r = run("--db", tmp_path / "ws.db", "load", tmp_path / "nope", ok=False)
    assert r.exit_code == 2


def test_results_commands_in_every_format(db_copy):
    db = db_copy
    rings = json.loads(run("--db", db, "rings", "--format", "json", "--limit", "5").stdout)
    assert rings and {"ring_id", "size", "score", "exposure", "reasons"} <= set(rings[0])
    assert [r["score"] for r in rings] == sorted((r["score"] for r in rings), reverse=True)
    rows = list(csv.DictReader(io.StringIO(run("--db", db, "rings", "--format", "csv").stdout)))
    assert rows and rows[0]["ring_id"] == rings[0]["ring_id"]
    assert rings[0]["ring_id"] in run("--db", db, "rings").stdout

    rid = rings[0]["ring_id"]
    ring = json.loads(run("--db", db, "ring", rid, "--format", "json").stdout)
    assert ring["ring_id"] == rid and len(ring["members"]) == ring["size"]
    assert ring["identifiers"] and "raw_values" in ring["identifiers"][0]
    assert ring["reasons"] and all({"code", "text"} <= set(x) for x in ring["reasons"])
    text = run("--db", db, "ring", rid).stdout
    assert "shared identifiers" in text and ring["reasons"][0]["text"][:30] in text
    assert (
        len(list(csv.DictReader(io.StringIO(run("--db", db, "ring", rid, "--format", "csv").stdout)))) == ring["size"]
    )

    member = ring["members"][0]["account_id"]
    acc = json.loads(run("--db", db, "account", member, "--format", "json").stdout)
    assert acc["account_id"] == member and acc["ring_id"] == rid
    assert acc["identifiers"] and acc["score"] is not None
    assert member in run("--db", db, "account", member).stdout
    run("--db", db, "account", member, "--format", "csv")

    dec = list(csv.DictReader(io.StringIO(run("--db", db, "decisions", "--format", "csv").stdout)))
    assert dec and {"account_id", "action", "trigger", "score", "ring_id", "reasons"} <= set(dec[0])
    assert all(d["action"] != "none" for d in dec)
    decj = json.loads(run("--db", db, "decisions", "--format", "json", "--action", "suspend").stdout)
    assert all(d["action"] == "suspend" for d in decj)
    run("--db", db, "decisions")

    for fmt in ("table", "json", "csv"):
        run("--db", db, "sweeps", "--format", fmt)
        run("--db", db, "notices", "--format", fmt)
        run("--db", db, "queue", "--format", fmt)
        run("--db", db, "audit", "--format", fmt)


def test_path_between_ring_members_and_no_path(db_copy):
    db = db_copy
    rings = json.loads(run("--db", db, "rings", "--format", "json").stdout)
    ring = json.loads(run("--db", db, "ring", rings[0]["ring_id"], "--format", "json").stdout)
    a, b = ring["members"][0]["account_id"], ring["members"][-1]["account_id"]
    steps = json.loads(run("--db", db, "path", a, b, "--format", "json").stdout)
    assert steps[0]["account_id"] == a and steps[-1]["account_id"] == b
    assert all(s["type"] == "identifier" for s in steps[1::2])
    assert "hop(s)" in run("--db", db, "path", a, b).stdout
    r = run("--db", db, "path", a, "no-such-account", ok=False)
    assert r.exit_code == 1 and "no-such-account" in r.stderr


def test_unknown_ids_are_clear_errors(db_copy):
    for args in (
        ("ring", "R-999999"),
        ("account", "nobody"),
        ("export", "--ring", "R-999999", "-o", "x.json"),
    ):
        r = run("--db", db_copy, *args, ok=False)
        assert r.exit_code == 1
        error_line(r)


def test_sweep_dry_run_writes_nothing_and_resweep_changes_nothing(db_copy):
    db = db_copy
    before = run("--db", db, "audit", "--format", "csv").stdout
    sweeps_before = json.loads(run("--db", db, "sweeps", "--format", "json").stdout)
    dry = json.loads(run("--db", db, "-q", "sweep", "--dry-run", "--format", "json").stdout)
    assert dry["dry_run"] is True
    assert json.loads(run("--db", db, "sweeps", "--format", "json").stdout) == sweeps_before
    again = json.loads(run("--db", db, "-q", "sweep", "--format", "json").stdout)
    assert again["summary"]["events"] == {} and again["summary"]["notices"] == 0
    assert again["summary"]["rings_new"] == 0 and again["summary"]["rings_dissolved"] == 0
    assert run("--db", db, "audit", "--format", "csv").stdout == before
    hist = json.loads(run("--db", db, "sweeps", "--format", "json").stdout)
    assert len(hist) == 2 and hist[0]["sweep_id"] == "S-000002"


def test_review_and_manual_actions_flow_through_audit(db_copy):
    db = db_copy
    dec = json.loads(run("--db", db, "decisions", "--format", "json").stdout)
    flagged = dec[0]["account_id"]
    r = run("--db", db, "review", flagged, "--dismiss", "--note", "verified in branch", "--analyst", "ana")
    assert "dismiss" in r.stdout
    acc = json.loads(run("--db", db, "account", flagged, "--format", "json").stdout)
    assert acc["label"] == "legit" and acc["status"] == "active"
    trail = json.loads(run("--db", db, "audit", flagged, "--format", "json").stdout)
    assert trail[-1]["event"] == "review_dismiss" and trail[-1]["actor"] == "ana"
    run("--db", db, "suspend", flagged, "--reason", "customer reported stolen identity")
    assert json.loads(run("--db", db, "account", flagged, "--format", "json").stdout)["status"] == "suspended"
    # a sweep never overrides the analyst
    run("--db", db, "-q", "sweep")
    assert json.loads(run("--db", db, "account", flagged, "--format", "json").stdout)["status"] == "suspended"
    run("--db", db, "reinstate", flagged, "--reason", "identity verified")
    assert json.loads(run("--db", db, "account", flagged, "--format", "json").stdout)["status"] == "active"
    r = run("--db", db, "review", flagged, "--note", "x", ok=False)
    assert r.exit_code == 2
    r = run("--db", db, "suspend", flagged, "--reason", " ", ok=False)
    assert r.exit_code == 1


def test_export_and_report(db_copy, tmp_path):
    db = db_copy
    rid = json.loads(run("--db", db, "rings", "--format", "json").stdout)[0]["ring_id"]
    for suffix in ("graphml", "gexf", "json", "cypher", "html", "png"):
        out = tmp_path / f"ring.{suffix}"
        run("--db", db, "export", "--ring", rid, "-o", out)
        assert out.exists() and out.stat().st_size > 100
    member = json.loads(run("--db", db, "ring", rid, "--format", "json").stdout)["members"][0]["account_id"]
    run(
        "--db",
        db,
        "export",
        "--account",
        member,
        "--hops",
        "2",
        "--format",
        "csv",
        "-o",
        tmp_path / "hood.csv",
    )
    r = run("--db", db, "export", "--account", member, "-o", tmp_path / "x.txt", ok=False)
    assert r.exit_code == 2
    for name in ("case.html", "case.md"):
        run("--db", db, "report", "--ring", rid, "-o", tmp_path / name)
        assert rid in (tmp_path / name).read_text()


def test_evaluate_against_truth(db_copy, world_dir):
    out = json.loads(run("--db", db_copy, "evaluate", world_dir / "truth.csv", "--format", "json").stdout)
    assert out  # metrics present
    table = run("--db", db_copy, "evaluate", world_dir / "truth.csv").stdout.splitlines()
    # A reader's view: one row per population and flag, the figures as the JSON has them.
    m = out["accounts"]["review_or_worse"]
    row = next(line for line in table if line.startswith("all ") and "review or worse" in line)
    assert row.split()[4:7] == [f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}"]
    assert any(line.startswith(f"Rings: {out['rings']['n_found']} of {out['rings']['n_planted']}") for line in table)
    assert "Innocent groups that share identifiers (flagged = review or worse):" in table
    assert all(len(line) <= 100 for line in table) and len(table) < 60
    csv_rows = run("--db", db_copy, "evaluate", world_dir / "truth.csv", "--format", "csv").stdout.splitlines()
    assert csv_rows[0] == "metric,value" and any(r.startswith("accounts.review_or_worse.precision,") for r in csv_rows)


def test_generate_is_deterministic(tmp_path):
    run("generate", tmp_path / "a", "--accounts", "500", "--seed", "3")
    run("generate", tmp_path / "b", "--accounts", "500", "--seed", "3")
    for name in ("accounts.csv", "links.csv", "transactions.csv", "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_demo_runs_end_to_end():
    r = run("demo", "--accounts", "2000", "--seed", "5")
    assert "Top rings" in r.stdout and "R-0000" in r.stdout
    assert "precision" in r.stdout


def test_version():
    assert "fraudgraph" in run("--version").stdout


def test_invalid_policy_is_a_clear_error(db_copy, tmp_path):
    bad = tmp_path / "policy.toml"
    bad.write_text("[tiers]\nmonitor = 0.3\nreview = 0.2\n[nonsense]\nx = 1\n")
    r = run("--db", db_copy, "sweep", "--policy", bad, ok=False)
    assert r.exit_code == 1 and "policy.toml" in error_line(r)


def test_review_feedback_changes_the_next_sweep(db_copy):
    db = db_copy
    flagged = json.loads(run("--db", db, "decisions", "--format", "json", "--action", "suspend").stdout)
    # An account flagged for its ring alone: a fraud dismissal does not waive the credit rules.
    target = next(
        d
        for d in flagged
        if d["trigger"] == "fraud_ring"
        and not any(r["code"].startswith(("OVERDUE", "UTILIZATION")) for r in d["reasons"])
    )
    run("--db", db, "review", target["account_id"], "--dismiss", "--note", "known customer, documents checked")
    run("--db", db, "-q", "sweep")
    after = json.loads(run("--db", db, "account", target["account_id"], "--format", "json").stdout)
    assert after["action"] in ("none", "monitor")  # the same evidence does not flag it again
    assert "REVIEWED_DISMISSED" in [r["code"] for r in after["reasons"]]

    # Confirming fraud on an unflagged account gives its ring a confirmed-fraud member next sweep.
    quiet = json.loads(run("--db", db, "decisions", "--all", "--format", "json", "--action", "none").stdout)
    member = next(d for d in quiet if d["ring_id"])
    run("--db", db, "review", member["account_id"], "--confirm-fraud", "--note", "chargeback confirmed")
    run("--db", db, "-q", "sweep")
    ring = json.loads(run("--db", db, "ring", member["ring_id"], "--format", "json").stdout)
    assert "KNOWN_FRAUD_IN_RING" in [r["code"] for r in ring["reasons"]]
    assert (
        json.loads(run("--db", db, "account", member["account_id"], "--format", "json").stdout)["status"] == "suspended"
    )


def test_schedule_runs_sweeps_in_a_loop(db_copy):
    r = run("--db", db_copy, "schedule", "--every", "1s", "--max-runs", "2")
    assert r.stderr.count(" sweep S-") == 2
    hist = json.loads(run("--db", db_copy, "sweeps", "--format", "json").stdout)
    assert [h["sweep_id"] for h in hist[:3]] == ["S-000003", "S-000002", "S-000001"]
    r = run("--db", db_copy, "schedule", "--every", "soon", ok=False)
    assert r.exit_code == 2


def test_second_sweep_while_one_runs_exits_75(db_copy):
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    with SqliteWorkspace(db_copy).sweep_lock("a long sweep"):
        r = run("--db", db_copy, "sweep", ok=False)
    assert r.exit_code == 75 and "a long sweep" in error_line(r)


def test_account_with_no_shared_identifiers_can_be_viewed_and_exported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text("account_id,created_at\nA1,2025-01-01\nA2,2025-01-02\n")
    (data / "links.csv").write_text("account_id,kind,value\nA1,email,N/A\n")  # no identity at all
    db = tmp_path / "ws.db"
    run("--db", db, "-q", "load", data)
    run("--db", db, "-q", "sweep")
    acc = json.loads(run("--db", db, "account", "A2", "--format", "json").stdout)
    assert acc["identifiers"] == [] and acc["ring_id"] is None
    assert json.loads(run("--db", db, "account", "A1", "--format", "json").stdout)["identifiers"][0]["no_identity"]
    run("--db", db, "export", "--account", "A2", "-o", tmp_path / "a2.json")
    steps = run("--db", db, "path", "A1", "A2", "--format", "csv").stdout
    assert steps.strip() == "step,type,account_id,kind,key,raw_values"  # no chain: a header, no rows


def test_decisions_show_what_is_in_force_after_a_dismissal(db_copy):
    db = db_copy
    target = json.loads(run("--db", db, "decisions", "--format", "json", "--action", "suspend").stdout)[0]["account_id"]
    run("--db", db, "review", target, "--dismiss", "--note", "verified")
    shown = {d["account_id"]: d for d in json.loads(run("--db", db, "decisions", "--all", "--format", "json").stdout)}
    account = json.loads(run("--db", db, "account", target, "--format", "json").stdout)
    assert shown[target]["action"] == account["action"] == "none"


def test_usage_and_workspace_mistakes_are_clear(db_copy, tmp_path):
    assert run("--db", tmp_path / "typo.db", "rings", ok=False).exit_code == 1
    assert not (tmp_path / "typo.db").exists()  # reading never creates a workspace
    assert run("--db", db_copy, "sweep", "--as-of", "nope", ok=False).exit_code == 2
    acc = json.loads(run("--db", db_copy, "decisions", "--format", "json").stdout)[0]["account_id"]
    r = run("--db", db_copy, "review", acc, "--confirm-fraud", "--dismiss", "--note", "x", ok=False)
    assert r.exit_code == 2
    assert json.loads(run("--db", db_copy, "audit", acc, "--format", "json").stdout)[-1]["event"] != "review_dismiss"


def test_library_errors_name_the_setting_and_the_cli_adds_its_flag(db_copy):
    """The library says "note must not be empty"; only the CLI knows the flag is --note."""
    from fraudgraph.app.analyst import review
    from fraudgraph.errors import FraudGraphError
    from fraudgraph.workspace.sqlite import SqliteWorkspace

    dec = json.loads(run("--db", db_copy, "decisions", "--format", "json").stdout)
    flagged = dec[0]["account_id"]
    with SqliteWorkspace(db_copy) as ws:
        try:
            review(ws, flagged, "dismiss", note="   ", actor="ana")
        except FraudGraphError as e:
            assert "--" not in str(e) and e.setting == "note"
        else:
            raise AssertionError("an empty note was accepted")
    r = run("--db", db_copy, "review", flagged, "--dismiss", "--note", "   ", ok=False)
    assert r.exit_code == 1
    assert error_line(r) == "Error: note must not be empty: say why, it goes into the audit trail (--note)"


def test_generate_city_world_and_evaluate_reports_early_stage_recall(tmp_path):
    """The independent generator is one option away, and its truth file feeds `evaluate`."""
    out, db = tmp_path / "city", tmp_path / "ws.db"
    r = run("generate", out, "--accounts", 1500, "--seed", 3, "--generator", "city")
    assert "1,500 accounts" in r.stdout
    run("--db", db, "-q", "load", out)
    run("--db", db, "-q", "sweep")
    result = json.loads(run("--db", db, "evaluate", out / "truth.csv", "--format", "json").stdout)
    assert result["early_stage"]["n_accounts"] > 0
    assert 0.0 <= result["early_stage"]["recall"] <= 1.0
    small = run("generate", tmp_path / "tiny", "--accounts", 50, "--generator", "city", ok=False)
    assert small.exit_code == 2 and "at least 200 accounts" in small.output


def test_json_output_nests_arrays_and_objects_instead_of_json_text(db_copy):
    notices = json.loads(run("--db", db_copy, "notices", "--format", "json").stdout)
    assert notices, "the swept test world sends notices"
    assert all(isinstance(n["customer_actions"], list) for n in notices)
    assert all(n["repayment_plan"] is None or isinstance(n["repayment_plan"], dict) for n in notices)
    audit = json.loads(run("--db", db_copy, "audit", "--format", "json").stdout)
    assert audit and all(isinstance(a["reasons"], list) for a in audit)


def test_generate_refuses_a_non_empty_folder_without_force(tmp_path):
    out = tmp_path / "world"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = run("generate", out, "--accounts", 50, ok=False)
    assert r.exit_code == 2 and "--force" in r.output and not (out / "accounts.csv").exists()
    run("generate", out, "--accounts", 50, "--force")
    assert (out / "accounts.csv").exists() and (out / "notes.txt").read_text() == "keep me"


def test_export_to_standard_output(db_copy, tmp_path):
    """`-o -` writes the export itself to stdout (notes stay on stderr), byte for byte as a file."""
    import networkx as nx

    rid = json.loads(run("--db", db_copy, "rings", "--format", "json").stdout)[0]["ring_id"]
    r = run("--db", db_copy, "export", "--ring", rid, "-o", "-", "--format", "graphml")
    G = nx.read_graphml(io.BytesIO(r.stdout_bytes))
    assert G.number_of_nodes() > 0 and "Wrote" not in r.stdout
    png = run("--db", db_copy, "export", "--ring", rid, "-o", "-", "--format", "png").stdout_bytes
    assert png.startswith(b"\x89PNG")
    r = run("--db", db_copy, "export", "--ring", rid, "-o", "-", ok=False)
    assert r.exit_code == 2 and "--format" in r.output


def test_every_list_pages_and_says_how_much_it_shows(db_copy):
    """No silent truncation: lists take --limit/--offset and say "N of M ... shown" on stderr."""
    everything = json.loads(run("--db", db_copy, "decisions", "--format", "json").stdout)
    assert len(everything) > 3
    r = run("--db", db_copy, "decisions", "--format", "json", "--limit", 2, "--offset", 1)
    assert [d["account_id"] for d in json.loads(r.stdout)] == [d["account_id"] for d in everything[1:3]]
    assert f"2 of {len(everything):,} decisions shown (--offset 3 for the next)" in r.stderr
    rings = run("--db", db_copy, "rings", "--limit", 1)
    assert "1 of " in rings.stderr and " rings shown" in rings.stderr
    for command in ("queue", "audit", "notices", "sweeps"):
        r = run("--db", db_copy, command, "--limit", 1)
        assert " shown" in r.stderr, command
    assert run("--db", db_copy, "audit", "--format", "csv").stderr == ""  # nothing left out, nothing said


def test_load_errors_one_per_line_and_all_of_them_in_a_csv(tmp_path):
    """A rejected folder: the first problem on the Error line, then one per line up to 20 and a count;
    `--errors FILE` writes every problem (beyond the 50 per rule an error message lists)."""
    data = tmp_path / "data"
    data.mkdir()
    rows = "".join(f"A{i},2026-01-01,-{i + 1}\n" for i in range(60))  # 60 negative credit limits
    (data / "accounts.csv").write_text("account_id,created_at,credit_limit\n" + rows)
    (data / "links.csv").write_text("account_id,kind,value\nA1,phone,555 0100\n")
    db, errors = tmp_path / "ws.db", tmp_path / "problems.csv"
    r = run("--db", db, "-q", "load", data, ok=False)
    first = error_line(r)
    assert first.startswith("Error: accounts.csv:2: column credit_limit: credit_limit -1 is negative")
    listed = [line for line in r.stderr.splitlines() if line.startswith("  accounts.csv:")]
    assert len(listed) == 19 and r.stderr.rstrip().endswith("... and 40 more")
    r = run("--db", db, "-q", "load", data, "--errors", errors, ok=False)
    assert r.exit_code == 1 and not db.exists()
    with open(errors, newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 60 and table[59]["line"] == "61" and table[59]["column"] == "credit_limit"
    assert set(table[0]) == {"file", "line", "column", "value", "message"}
