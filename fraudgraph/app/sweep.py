"""One sweep end to end: read, detect, decide, diff against the last sweep, persist under a lock.

Everything between reading and writing is pure (detection, policy); this module only
orders the stages, times them, and hands one ``SweepRecord`` to the workspace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from fraudgraph.decisions.verdicts import AccountData
from fraudgraph.errors import FraudGraphError
from fraudgraph.model import lifetime
from fraudgraph.model.frames import AUDIT_COLUMNS, NOTICE_COLUMNS, STATE_COLUMNS
from fraudgraph.workspace.base import RING_IDENTIFIER_COLUMNS, SweepRecord, Workspace

Progress = Callable[[str], None]


@dataclass
class SweepResult:
    """What a sweep did (or, with dry_run, would do)."""

    sweep_id: str
    as_of: pd.Timestamp
    dry_run: bool
    engine: str
    summary: dict[str, Any]
    diff: dict[str, Any]
    decisions: pd.DataFrame
    audit: pd.DataFrame
    notices: pd.DataFrame
    stage_seconds: dict[str, float] = field(default_factory=dict)


def diff_rings(previous: pd.DataFrame, current: pd.DataFrame) -> dict[str, list]:
    """Rings new, grown, shrunk and dissolved between two ring_members frames (by stable id):
    sizes and the members a ring kept counted by grouping, not a set per ring (128k rings at 1M)."""
    prev, cur = (_members(df) for df in (previous, current))
    before, after = prev.groupby("ring_id").size(), cur.groupby("ring_id").size()
    kept = prev.merge(cur, on=["ring_id", "account_id"]).groupby("ring_id").size()
    kept = kept.reindex(after.index, fill_value=0)
    was = before.reindex(after.index, fill_value=-1)  # -1: the ring is new
    out: dict[str, list] = {"new": [], "grown": [], "shrunk": [], "changed": [], "dissolved": []}
    for rid, size, previous_size, same in zip(after.index.tolist(), after.tolist(), was.tolist(), kept.tolist()):
        if previous_size < 0:
            out["new"].append({"ring_id": rid, "size": size})
            continue
        added, removed = size - same, previous_size - same
        if not added and not removed:
            continue
        entry = {"ring_id": rid, "size": size, "previous_size": previous_size, "added": added, "removed": removed}
        out["grown" if not removed else "shrunk" if not added else "changed"].append(entry)
    gone = ~before.index.isin(after.index)
    out["dissolved"] = [
        {"ring_id": rid, "previous_size": n} for rid, n in zip(before.index[gone].tolist(), before[gone].tolist())
    ]
    return out


def _members(df: pd.DataFrame) -> pd.DataFrame:
    """Distinct (ring_id, account_id) pairs as plain strings."""
    if not len(df):
        return pd.DataFrame({"ring_id": pd.Series(dtype=object), "account_id": pd.Series(dtype=object)})
    out = pd.DataFrame({c: df[c].astype(object) for c in ("ring_id", "account_id")})
    return out.drop_duplicates()


def _check_kinds(links: pd.DataFrame, config) -> None:
    """Kinds declared at load time need their weight at sweep time too: say so, not a traceback."""
    from fraudgraph.detection.graph import DetectionConfig

    cfg = config or DetectionConfig()
    known = set(cfg.kind_weights) | set(cfg.extra_kinds)
    unknown = sorted(set(links["kind"].unique()) - known)
    if unknown:
        raise FraudGraphError(
            f"the workspace holds links of kind {unknown[0]!r} but no weight is declared for it; pass the "
            "workspace configuration that declares it",
            setting="config",
        )


def _next_sweep_id(ws: Workspace) -> str:
    history = ws.sweeps()
    n = 1 + int(history["sweep_id"].str.extract(r"S-(\d+)")[0].astype(float).max()) if len(history) else 1
    return f"S-{n:06d}"


def run_sweep(
    ws: Workspace,
    *,
    as_of: str | datetime | None = None,
    seed: int = 0,
    policy=None,
    dry_run: bool = False,
    engine: str = "python",
    config=None,
    owner: str = "fraudgraph sweep",
    progress: Progress | None = None,
    full: bool = False,
    refit: bool = False,
) -> SweepResult:
    """Run one detection + decision pass over the workspace.

    Holds the workspace's sweep lock for the whole pass (``LockedError`` if another sweep
    runs). With ``dry_run`` nothing is written: the result says what would change.

    Incremental by default: when nothing detection reads changed since the last sweep (no
    load, no analyst label; same as_of, seed, settings and engine), its rings and scores are
    reused and only the policy runs again; ``full`` always recomputes. Either way the result
    is the one a full sweep gives.

    Rings are judged against the workspace's baseline (``fraudgraph.detection.baseline``), fitted
    by the first sweep and kept; ``refit`` fits a new one on this sweep's data (and recomputes
    everything, as ``full`` does).
    """
    with ws.sweep_lock(owner):
        return _run_locked(
            ws,
            as_of=as_of,
            seed=seed,
            policy=policy,
            dry_run=dry_run,
            engine=engine,
            config=config,
            progress=progress,
            full=full or refit,
            refit=refit,
        )


@dataclass
class _Outcome:
    """What a sweep computed, before it is written: its detection (and how it was had), decisions
    and changes, the ring members before it, and the data's size."""

    detection: Any
    mode: str
    decisions: pd.DataFrame
    changes: Any
    previous: pd.DataFrame
    counts: tuple[int, int, int]
    extra: dict[str, Any] = field(default_factory=dict)  # more for the summary's "detection"
    scope: Any = None  # a delta sweep's SweepScope: the part of the results it replaces
    latest: tuple[pd.Timestamp, list[str]] | None = None  # as_of and accounts holding it (``SweepRecord``)
    score_basis: pd.DataFrame | None = None  # the score rows a delta sweep's decisions were made from
    staged: Any = None  # the write of the detection's tables started early (``Workspace.stage_sweep``)


def _run_locked(ws, *, as_of, seed, policy, dry_run, engine, config, progress, full, refit) -> SweepResult:
    from fraudgraph.app.engine import resolve_engine
    from fraudgraph.app.incremental import load_baseline
    from fraudgraph.decisions import policy as policy_mod
    from fraudgraph.detection.pipeline import detection_key

    say = progress or (lambda msg: None)
    times: dict[str, float] = {}
    started = datetime.now(UTC).replace(tzinfo=None)
    pol = policy if policy is not None else policy_mod.Policy.default()

    engine_used = resolve_engine(ws, engine)  # before the long read: a missing GDS fails at once
    # The data's version before the read: a load during the read makes the next sweep recompute.
    data_version = ws.data_version()
    key = detection_key(data_version=data_version, as_of=as_of, seed=seed, config=config, engine=engine_used)
    baseline = load_baseline(ws, key, refit=refit)
    key["baseline"] = baseline.digest if baseline is not None else "fit"
    n_audit = ws.audit_count()  # before this sweep's changes (see _inputs_mark)
    if not (full or dry_run) and (standing := _standing(ws, (key, _inputs_mark(pol, n_audit)), pol, started, say)):
        return standing
    sweep_id = _next_sweep_id(ws)
    context: dict[str, Any] = {"pol": pol, "sweep_id": sweep_id, "started": started, "say": say, "times": times}
    plan = None if full or as_of is not None else _delta_plan(ws, key, pol, config)
    if plan is not None:
        outcome = _delta_outcome(ws, plan, key, context, seed=seed, config=config, baseline=baseline, dry_run=dry_run)
    else:
        frames = _read_inputs(ws, config, say, times, fitting=baseline is None)
        lifetime.keep(frames)
        outcome = _full_outcome(
            ws, frames, key, (full, dry_run), as_of, context, seed=seed, config=config, baseline=baseline
        )
    lifetime.keep(outcome)  # a one-shot command's process ends without freeing it
    try:
        marks = (key, n_audit, engine_used, data_version, baseline is None)
        return _finish(ws, outcome, marks, context, (as_of, seed, dry_run))
    finally:
        if outcome.staged is not None:  # written (save_sweep let it go) or not: never left running
            outcome.staged.discard()


def _finish(ws, outcome: _Outcome, marks: tuple, context: dict, asked: tuple) -> SweepResult:
    """The sweep's summary, diff and history row, its write (unless a dry run) and result.
    ``marks``: the detection key, the audit's length before the sweep, the engine, the data
    version read and whether the sweep fitted its baseline; ``asked``: as_of, seed, dry_run."""
    key, n_audit, engine_used, data_version, fitted = marks
    as_of, seed, dry_run = asked
    pol, sweep_id, started, say, times = (context[k] for k in ("pol", "sweep_id", "started", "say", "times"))
    detection, changes = outcome.detection, outcome.changes
    as_of_ts = pd.Timestamp(detection.as_of)
    diff = _sweep_diff(outcome.previous, detection, changes)
    summary = _summary(outcome.counts, detection, outcome.decisions, changes, diff, engine_used)
    summary.update(outcome.extra.pop("totals", {}))  # a delta sweep's counts are the workspace's
    summary["detection"] = {
        "mode": outcome.mode,
        "key": key,
        "inputs": _inputs_mark(pol, n_audit + len(changes.audit)),
        "baseline": {**detection.baseline.summary(), "fitted": fitted},
        **outcome.extra,
    }
    finished = datetime.now(UTC).replace(tzinfo=None)
    times["total"] = (finished - started).total_seconds()
    summary["seconds"] = {k: round(v, 3) for k, v in times.items()}
    if not dry_run:
        t = time.perf_counter()
        sweep = _sweep_row(sweep_id, (started, finished), as_of_ts.isoformat(), seed, engine_used, pol, summary, diff)
        record = _sweep_record(sweep, detection, outcome.decisions, changes, stored=outcome.mode == "reused")
        record.data_version = data_version
        record.latest = outcome.latest
        if outcome.scope is not None:
            record.scope, record.account_scores = outcome.scope, outcome.score_basis
        record.audit_mark = context.get("audit_mark")  # taken by _decide as it read the account states
        record.staged = outcome.staged
        record.on_hold_back = _on_hold_back(record, changes, (summary, diff), say)
        ws.save_sweep(record)
        times["write"] = time.perf_counter() - t
        summary["seconds"]["write"] = round(times["write"], 3)
    return SweepResult(
        sweep_id=sweep_id,
        as_of=as_of_ts,
        dry_run=dry_run,
        engine=engine_used,
        summary=summary,
        diff=diff,
        decisions=outcome.decisions,
        audit=changes.audit,
        notices=changes.notices,
        stage_seconds=times,
    )


def _full_outcome(ws, frames, key, how, as_of, context, *, seed, config, baseline) -> _Outcome:
    """A sweep over the whole world: every account read, detected (or the stored detection
    reused) and decided."""

    from fraudgraph.detection.pipeline import handover

    accounts, links, transactions = frames
    # Detection holds the only reference to the links and transactions: it lets the transactions
    # go once it has read what it needs of them, and the links after the graph.
    frames.clear()
    say, times = context["say"], context["times"]
    previous = ws.table("ring_members")
    counts = (len(accounts), len(links), len(transactions))
    latest_rows = (_latest_links(links), _latest_transactions(transactions))
    given = (accounts, handover(links), handover(transactions), _link_values(ws, links))
    del links, transactions
    detection, mode = _detect(
        ws, given, previous, key, how, as_of, seed=seed, config=config, say=say, baseline=baseline
    )
    del given
    # The account features are for a view of a few accounts; a sweep neither decides by them nor
    # stores them (at 1M accounts over 0.1 GB through the policy and the write).
    detection.account_features = pd.DataFrame()
    times.update({f"detect.{k}": v for k, v in detection.stage_seconds.items()})
    t = time.perf_counter()
    # The detection's tables set off into the workspace while the policy runs (a big sweep's, on
    # SQLite: ``stage_sweep``); a reused detection is not written again, a dry run writes nothing.
    staged = (
        None
        if how[1] or mode == "reused"
        else ws.stage_sweep(_detection_tables(detection), getattr(detection, "components", None))
    )
    try:
        decisions, changes = _decide(
            ws,
            (accounts, detection.account_scores, detection.rings),
            # What a dismissal is checked against: the account's own data, not the scores it moved.
            # Read again for the few accounts the check reads (``AccountData`` with readers).
            AccountData(ws.links, ws.transactions, detection.ring_members),
            None,
            context,
            # Reviews happen after the data's last timestamp: only a backtest (--as-of) leaves later ones out.
            as_of=pd.Timestamp(detection.as_of) if as_of is not None else None,
        )
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    times["policy"] = time.perf_counter() - t
    when = pd.Timestamp(detection.as_of)
    latest = None if as_of is not None else (when, _latest_holders((accounts, *latest_rows), when))
    # The loaded accounts are not needed past here: the write does not hold them.
    del accounts
    outcome = _Outcome(detection, "full" if how[0] else mode, decisions, changes, previous, counts)
    outcome.latest, outcome.staged = latest, staged
    return outcome


def _delta_plan(ws, key: dict, pol, config) -> tuple[pd.Series, tuple[set, set]] | None:
    """The last sweep's history row and what changed since it, when this sweep may recompute
    only what the changes reach (``fraudgraph.app.delta``): the in-process engine with Leiden per
    component, the same seed, settings and kept baseline as the last sweep, the same policy, and
    every change since it recorded. None otherwise (the sweep recomputes whole)."""
    from fraudgraph.detection.graph import DetectionConfig

    if key["engine"] != "python" or key["baseline"] == "fit":
        return None
    if not (config or DetectionConfig()).community_per_component:
        return None
    changes_since = getattr(ws, "changes_since", None)
    history = ws.sweeps()
    if changes_since is None or history.empty or getattr(ws, "components_of", lambda ids: None)([]) is None:
        return None  # no change log, or no map of the last sweep's components
    last = history.iloc[0]
    found = last["summary"].get("detection") if isinstance(last["summary"], dict) else None
    last_key = found.get("key") if isinstance(found, dict) else None
    if not isinstance(last_key, dict):
        return None
    if {k: v for k, v in last_key.items() if k != "data_version"} != {
        k: v for k, v in key.items() if k != "data_version"
    }:
        return None
    if str(last["policy_hash"]) != pol.hash or last_key["data_version"] == key["data_version"]:
        return None  # another policy decides everybody again; no data change reuses the detection
    changed = changes_since(str(last_key["data_version"]))
    return None if changed is None else (last, changed)


def _delta_outcome(ws, plan, key: dict, context: dict, *, seed, config, baseline, dry_run) -> _Outcome:
    """A sweep that recomputes only what the changes since the last one reach, and writes only
    that part of the results (``SweepScope``)."""
    from fraudgraph.app.delta import detect_reach, find_reach, rows_of, scoped
    from fraudgraph.app.incremental import load_memo, save_memo_merged
    from fraudgraph.detection.graph import DetectionConfig
    from fraudgraph.workspace.base import SweepScope

    say, times = context["say"], context["times"]
    cfg = config or DetectionConfig()
    t = time.perf_counter()
    last, changed = plan
    reach = find_reach(ws, changed, baseline, cfg)
    times["reach"] = time.perf_counter() - t
    say(f"delta: {len(changed[0]):,} changed account(s) reach {len(reach.accounts):,} account(s)")
    stored_members = rows_of(ws, "ring_members", "account_id", reach.accounts)
    memo = load_memo(ws, reuse=True)
    when, holders = _latest_timestamp(ws, last, changed[0])
    part = frames = None
    if reach.accounts:
        part, frames = detect_reach(
            ws,
            reach,
            as_of=when,
            seed=seed,
            config=cfg,
            baseline=baseline,
            memo=memo,
            previous=stored_members,
            next_number=ws.next_ring_number(),
        )
        times.update({f"detect.{k}": v for k, v in part.stage_seconds.items()})
        if not dry_run:
            save_memo_merged(ws, memo)
    detection, replaced = scoped(ws, stored_members, part, reach, baseline, as_of=when)
    status = ws.status()
    decisions, changes, basis = _delta_policy(ws, (detection, frames), reach, last, context)
    scope = SweepScope(
        accounts=reach.accounts, decided=sorted(decisions["account_id"]), rings=replaced, identifiers=reach.counts
    )
    counts = status["counts"]
    n = (int(counts["accounts"]), int(counts["links"]), int(counts["transactions"]))
    totals = _delta_totals(ws, (last, status), detection, decisions, stored_members)
    extra = {"changed": len(changed[0]), "reached": len(reach.accounts), "totals": totals}
    outcome = _Outcome(detection, "delta", decisions, changes, stored_members, n, extra, scope, basis)
    outcome.latest = None if holders is None or when is None else (when, holders)
    return outcome


def _latest_timestamp(ws, last: pd.Series, changed: set[str]) -> tuple[pd.Timestamp | None, list[str] | None]:
    """The data's latest timestamp after a delta (the sweep's as_of) and accounts holding it.

    The last sweep's as_of was the latest timestamp then, and it kept some accounts whose rows
    held it (``latest_holders``). Rows of unchanged accounts are as they were; so the latest is a
    changed account's row when one is as late, else the last as_of while a kept holder is
    unchanged. Otherwise (a changed row may have held it and hold less now) the whole data is
    asked, and no holder is known."""
    before = pd.Timestamp(last["as_of"])
    theirs, who = ws.latest_timestamp_of(sorted(changed)) if changed else (None, [])
    if theirs is not None and theirs >= before:
        return theirs, who
    kept = ws.latest_holders()
    if kept is not None and kept[0] == before and (still := sorted(set(kept[1]) - changed)):
        return before, still
    return ws.latest_timestamp(), None


def _link_values(ws, links: pd.DataFrame):
    """A reader of the links' raw values by position when the sweep read the links without them
    (``detection_links(values=False)``): detection asks it for the spellings it shows."""
    return getattr(ws, "link_values", None) if "value" not in links.columns else None


def _latest_links(links: pd.DataFrame) -> tuple[pd.Timestamp | None, set[str]]:
    """The links' latest first_seen and the accounts whose links hold it (None and none when no
    link has a date): what ``_latest_holders`` needs of the links, taken before they go."""
    if "first_seen" not in links or not len(links) or pd.isna(latest := links["first_seen"].max()):
        return None, set()
    return pd.Timestamp(latest), set(links.loc[links["first_seen"] == latest, "account_id"].astype(str))


def _latest_transactions(transactions: pd.DataFrame | None) -> tuple[pd.Timestamp | None, set[str]]:
    """The transactions' latest timestamp and the accounts on either side of those that hold it
    (None and none without a dated transaction): what ``_latest_holders`` needs of them, taken
    before they go."""
    if transactions is None or not len(transactions) or pd.isna(latest := transactions["timestamp"].max()):
        return None, set()
    at = transactions[transactions["timestamp"] == latest]
    return pd.Timestamp(latest), set(at["account_id"].astype(str)) | set(at["counterparty"].astype(str))


def _latest_holders(frames: tuple, as_of: pd.Timestamp) -> list[str]:
    """Accounts whose rows in ``frames`` (accounts, the links' ``_latest_links``, the transactions'
    ``_latest_transactions``) hold ``as_of``."""
    accounts, (links_latest, link_holders), (transactions_latest, transaction_holders) = frames
    found = set(accounts.loc[accounts["created_at"] == as_of, "account_id"].astype(str))
    if links_latest is not None and links_latest == as_of:
        found |= link_holders
    if transactions_latest is not None and transactions_latest == as_of:
        found |= transaction_holders
    return sorted(found)


def _delta_policy(ws, found: tuple, reach, last: pd.Series, context: dict):
    """The policy for the accounts a delta reached and those an analyst acted on since the last
    sweep (``last``: its history row; every other account's inputs are as that sweep left them,
    so is its decision). ``found``: the scoped detection and the frames detection read (None when
    the delta reached nobody). Returns their decisions and changes, and the score rows the
    decisions were made from."""
    from fraudgraph.app.delta import decided_frames, rows_of

    detection, frames = found

    t = time.perf_counter()
    # An acted-on account outside the reach is decided with its whole ring (a decision's evidence
    # names the ring's members); the reach holds whole rings already.
    acted = sorted(set(_acted_since(ws, last)) - set(reach.accounts))
    their_rings = rows_of(ws, "ring_members", "ring_id", rows_of(ws, "ring_members", "account_id", acted)["ring_id"])
    outside = sorted(set(acted) | set(their_rings["account_id"].astype(str)))
    ids = sorted(set(reach.accounts) | set(outside))
    accounts, links, transactions = decided_frames(
        ws, frames, reach.accounts, sorted(set(outside) - set(reach.accounts))
    )
    scores = pd.concat(
        [detection.account_scores, rows_of(ws, "account_scores", "account_id", outside)], ignore_index=True
    )
    scores = scores.sort_values("account_id", kind="stable").reset_index(drop=True)
    members = pd.concat([detection.ring_members, their_rings], ignore_index=True)
    others = set(members["ring_id"]) - set(detection.rings["ring_id"])
    rings = pd.concat([detection.rings, rows_of(ws, "rings", "ring_id", others)], ignore_index=True)
    data = AccountData(links, transactions, members)
    decisions, changes = _decide(ws, (accounts, scores, rings), data, ids, context)
    context["times"]["policy"] = time.perf_counter() - t
    return decisions, changes, scores


def _decide(ws, inputs: tuple, data: AccountData, state_of: list[str] | None, context: dict, *, as_of=None):
    """The policy's decisions for ``inputs`` (accounts, their score rows, their rings) and the
    changes they make to the state of the accounts ``state_of`` (None: every account), as a sweep
    makes them. The audit trail's mark is taken before the state is read (``context["audit_mark"]``):
    whoever changes an account after it, the sweep did not see it (``SweepRecord.audit_mark``)."""
    from fraudgraph.decisions import policy as policy_mod

    accounts, scores, rings = inputs
    pol = context["pol"]
    context["audit_mark"] = ws.audit_mark()
    state = ws.account_state(state_of)
    decisions = policy_mod.evaluate(accounts, scores, rings, pol, reviews=ws.reviews(), as_of=as_of, data=data)
    changes = policy_mod.plan_changes(
        state, decisions, pol, sweep_id=context["sweep_id"], actor="sweep", at=context["started"], accounts=accounts
    )
    return decisions, changes


def _acted_since(ws, last) -> list[str]:
    """Accounts changed since the last sweep started (a review while it ran included), not by it:
    by an analyst, or an applied check."""
    ask = getattr(ws, "accounts_acted_since", None)
    if ask is not None:
        return ask(str(last["started_at"]), str(last["sweep_id"]))
    audit = ws.audit()
    if audit.empty:
        return []
    at = pd.to_datetime(audit["at"], format="ISO8601")
    since = (at >= pd.Timestamp(last["started_at"])) & (audit["sweep_id"] != last["sweep_id"])
    return sorted({str(a) for a in audit.loc[since, "account_id"]})


def _delta_totals(
    ws, before: tuple[pd.Series, dict], detection, decisions: pd.DataFrame, previous: pd.DataFrame
) -> dict:
    """Rings, hubs and accounts per action in the whole workspace after a delta sweep: the last
    sweep's (``before``: its history row and the workspace's status before this one writes),
    with the replaced part's (``previous``: its ring members) taken out and the new part's put in."""

    last, status = before
    summary = last["summary"] if isinstance(last["summary"], dict) else {}
    actions = {a: int(n) for a, n in (summary.get("actions") or {}).items()}
    # Counted by the workspace, implied rows included (a delta sweep runs on SQLite only).
    for a, n in ws.action_counts(sorted(decisions["account_id"].astype(str))).items():
        actions[a] = actions.get(a, 0) - int(n)
    for a, n in decisions["action"].value_counts().items():
        actions[a] = actions.get(a, 0) + int(n)
    hubs = ws.table("hubs")
    counted = pd.MultiIndex.from_frame(detection.hubs[["kind", "key"]])
    n_hubs = len(hubs) - int(pd.MultiIndex.from_frame(hubs[["kind", "key"]].astype(str)).isin(counted).sum())
    n_rings = int(status["rings"]) - len(set(previous["ring_id"])) + len(detection.rings)
    order = ("none", "monitor", "review", "restrict", "suspend")
    actions = {a: actions.get(a, 0) for a in order} | {a: n for a, n in actions.items() if a not in order}
    return {"rings": n_rings, "hubs": n_hubs + len(detection.hubs), "actions": actions}


def _sweep_row(sweep_id: str, times: tuple[datetime, datetime], as_of, seed, engine, pol, summary, diff) -> dict:
    """The sweep history row (SWEEP_COLUMNS) of a sweep that is written."""
    started, finished = times
    return {
        "sweep_id": sweep_id,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "as_of": as_of,
        "seed": int(seed),
        "engine": str(engine),
        "policy_hash": pol.hash,
        "dry_run": False,
        "summary": summary,
        "diff": diff,
    }


def _inputs_mark(pol, n_audit: int) -> str:
    """What the policy reads besides the data and the detection, as a mark: the policy itself and
    the length of the audit trail, which every change of an account's state extends (a sweep's, a
    review, a manual suspend or reinstate, an applied check); a reveal extends it too, which only
    costs a recomputation."""
    return f"{pol.hash}:{int(n_audit)}"


def _standing(ws, marks: tuple[dict, str], pol, started: datetime, say: Progress) -> SweepResult | None:
    """The result of a sweep when nothing it reads changed since the last one (the data and labels,
    as_of, seed, settings, engine, the policy, reviews and account states): the last sweep's
    rings, scores and decisions stand, so it writes only its history row ("changed: none")
    without reading the workspace or running the policy. ``marks``: this sweep's detection key
    and inputs mark, compared with the last sweep's. None when something changed."""
    history = ws.sweeps()
    if history.empty:
        return None
    last = history.iloc[0]
    summary: dict[str, Any] = last["summary"] if isinstance(last["summary"], dict) else {}
    found = summary.get("detection")
    detection: dict[str, Any] = found if isinstance(found, dict) else {}
    if (detection.get("key"), detection.get("inputs")) != marks:
        return None
    say("nothing changed since the last sweep (data, labels, reviews, account states, policy, settings): it stands")
    sweep_id = _next_sweep_id(ws)
    diff: dict[str, Any] = {k: [] for k in ("new", "grown", "shrunk", "changed", "dissolved")}
    diff |= {"accounts_escalated": [], "accounts_de_escalated": []}
    kept = {
        k: summary[k]
        for k in ("accounts", "links", "transactions", "rings", "hubs", "actions", "engine")
        if k in summary
    }
    rings = {f"rings_{k}": 0 for k in ("new", "grown", "shrunk", "changed", "dissolved")}
    out = kept | rings | {"events": {}, "notices": 0, "detection": {**detection, "mode": "unchanged"}}
    finished = datetime.now(UTC).replace(tzinfo=None)
    out["seconds"] = {"total": round((finished - started).total_seconds(), 3)}
    record = SweepRecord(
        sweep=_sweep_row(sweep_id, (started, finished), last["as_of"], last["seed"], last["engine"], pol, out, diff),
        tables={},
        state=pd.DataFrame(columns=STATE_COLUMNS),
        audit=pd.DataFrame(columns=AUDIT_COLUMNS),
        notices=pd.DataFrame(columns=NOTICE_COLUMNS),
        next_ring_number=ws.next_ring_number(),
    )
    ws.save_sweep(record)
    empty = pd.DataFrame()
    return SweepResult(
        sweep_id, pd.Timestamp(last["as_of"]), False, str(last["engine"]), out, diff, empty, empty, empty
    )


# Accounts from which a sweep that fits its baseline imports the forest beside its read (a small
# sweep's read is over before the import).
_WARM_UP_ACCOUNTS = 200_000


def _read_inputs(ws, config, say, times: dict[str, float], *, fitting: bool = False) -> list[pd.DataFrame]:
    """The loaded accounts, links and transactions (a list, which ``_full_outcome`` empties);
    an empty workspace or an undeclared kind fails here. ``fitting``: the sweep will fit a
    baseline (its forest's import starts beside the read)."""
    t = time.perf_counter()
    accounts = ws.accounts()
    # A big first sweep fits the baseline's forest: its import overlaps the rest of the read.
    warm = None
    if fitting and len(accounts) >= _WARM_UP_ACCOUNTS:
        from fraudgraph.detection.scoring import warm_up_forest

        warm = warm_up_forest()
    # A workspace may read the links leaner for a sweep (no Python string per identifier key), and
    # without their raw values when it can read those again by position (``_link_values``).
    read_links = getattr(ws, "detection_links", None)
    if read_links is None:
        links = ws.links()
    else:
        links = read_links() if getattr(ws, "link_values", None) is None else read_links(values=False)
    transactions = ws.transactions()
    if warm is not None:
        warm.join()
    times["read"] = time.perf_counter() - t
    if accounts.empty:
        raise FraudGraphError("the workspace holds no accounts; load a data folder first (fraudgraph load DIR)")
    _check_kinds(links, config)
    say(
        f"read {len(accounts):,} accounts, {len(links):,} links, {len(transactions):,} transactions "
        f"({times['read']:.1f}s)"
    )
    return [accounts, links, transactions]


def _detect(
    ws, frames, previous: pd.DataFrame, key: dict, how: tuple[bool, bool], as_of, *, seed, config, say, baseline
):
    """The detection of this sweep and how it was had: computed, incremental (community
    detection reused for the components that did not change), reused (nothing changed since
    the last sweep) or full (computed because ``full`` was asked). ``frames``: the accounts,
    links and transactions (or their readers) and a reader of the links' raw values by position
    (None when the links hold them). ``how`` is (full, dry_run):
    the memo of Leiden answers is read unless ``full`` and written unless ``dry_run``. Judged
    against ``baseline``; without one, the sweep fits one (kept unless ``dry_run``, and
    ``key["baseline"]`` becomes its digest)."""
    full, dry_run = how
    from fraudgraph.app.engine import cluster_function
    from fraudgraph.app.incremental import fitted_for, load_memo, memo_note, save_baseline, save_memo
    from fraudgraph.detection.pipeline import detect_incremental

    last = _last_detection(ws)
    reused = not full and last is not None and last.get("key") == key
    # GDS clusters in the database: there is no Leiden call to remember.
    memo = load_memo(ws, reuse=not full) if key["engine"] == "python" and not reused else None
    accounts, links, transactions, values = frames
    detection, mode = detect_incremental(
        accounts,
        links,
        transactions,
        values=values,
        key=key,
        previous_key=None if full or last is None else last.get("key"),
        previous=lambda: _stored_detection(ws, previous),
        memo=memo,
        as_of=as_of,
        seed=seed,
        config=config,
        previous_members=previous,
        next_ring_number=ws.next_ring_number(),
        progress=lambda stage: say(f"detect: {stage} ..."),
        cluster_fn=cluster_function(ws, key["engine"], seed=seed, config=config),
        baseline=baseline,
    )
    if baseline is None:
        assert detection.baseline is not None  # detect fitted one
        detection.baseline = detection.baseline.fitted(fitted_for(key))
        key["baseline"] = detection.baseline.digest
        say(f"detect: fitted the baseline over {len(detection.baseline.ring_matrix):,} rings")
        if not dry_run:
            save_baseline(ws, detection.baseline)
    else:
        detection.baseline = baseline
    if mode == "reused":
        say("detect: nothing changed since the last sweep; its rings and scores stand")
    elif memo is not None:
        if memo.reused:  # a first sweep, or one after changes everywhere, has nothing to say here
            say(memo_note(memo))
        if not dry_run:
            save_memo(ws, memo)
    return detection, "full" if full else mode


def _last_detection(ws) -> dict | None:
    """The detection part of the last sweep's summary (mode and key), None before any sweep."""
    history = ws.sweeps()
    if history.empty:
        return None
    summary = history["summary"].iloc[0]
    found = summary.get("detection") if isinstance(summary, dict) else None
    return found if isinstance(found, dict) else None


def _stored_detection(ws, ring_members: pd.DataFrame):
    """The last sweep's detection as stored: what ``detect`` returns for unchanged inputs."""
    from fraudgraph.detection.pipeline import Detection

    t = time.perf_counter()
    last = ws.sweeps().iloc[0]
    return Detection(
        rings=ws.table("rings"),
        ring_members=ring_members,
        account_scores=ws.table("account_scores"),
        hubs=ws.table("hubs"),
        ring_identifiers=ws.table("ring_identifiers"),
        account_features=pd.DataFrame(),
        next_ring_number=ws.next_ring_number(),
        as_of=pd.Timestamp(last["as_of"]),
        stage_seconds={"reused": round(time.perf_counter() - t, 4)},
    )


def _sweep_diff(previous: pd.DataFrame, detection, changes) -> dict:
    """Rings new / grown / shrunk / changed / dissolved since the last sweep, and accounts moved."""
    return diff_rings(previous, detection.ring_members) | _moved(changes.audit)


def _events(audit: pd.DataFrame) -> dict[str, int]:
    """A sweep's audit rows counted per event (the summary's ``events``)."""
    return {k: int(v) for k, v in audit["event"].value_counts().items()} if len(audit) else {}


def _moved(audit: pd.DataFrame) -> dict[str, list[str]]:
    """The accounts a sweep escalated and de-escalated (the diff's ``accounts_...`` lists)."""
    return {
        key: sorted(audit.loc[audit["event"] == event, "account_id"].tolist()) if len(audit) else []
        for key, event in (("accounts_escalated", "escalate"), ("accounts_de_escalated", "de_escalate"))
    }


def _on_hold_back(record: SweepRecord, changes, said: tuple[dict, dict], say: Progress) -> Callable[[list[str]], None]:
    """What the sweep says when its write holds back accounts changed by hand while it ran
    (``workspace.base.hold_back``: their rows have left ``record``): its result, summary and diff
    count only what it wrote and name them (``held_back``), and its inputs mark is one no later
    sweep matches, so the next one runs the policy again and decides them, seeing the change."""
    summary, diff = said

    def held(accounts: list[str]) -> None:
        changes.state, changes.audit, changes.notices = record.state, record.audit, record.notices
        summary["events"], summary["notices"] = _events(changes.audit), int(len(changes.notices))
        diff.update(_moved(changes.audit))
        summary["held_back"] = accounts
        summary["detection"]["inputs"] = f"{summary['detection']['inputs']}:held back"
        say(
            f"{len(accounts):,} account(s) changed by hand while this sweep ran kept as they are; "
            "the next sweep decides them again"
        )

    return held


def _summary(counts: tuple[int, int, int], detection, decisions, changes, diff: dict, engine_used: str) -> dict:
    """The sweep's summary as stored in its history and printed by the CLI."""
    events = _events(changes.audit)
    actions = decisions["action"].value_counts().to_dict()
    summary: dict[str, Any] = {
        "accounts": int(counts[0]),
        "links": int(counts[1]),
        "transactions": int(counts[2]),
        "rings": int(len(detection.rings)),
        "hubs": int(len(detection.hubs)),
        "rings_new": len(diff["new"]),
        "rings_grown": len(diff["grown"]),
        "rings_shrunk": len(diff["shrunk"]),
        "rings_changed": len(diff["changed"]),
        "rings_dissolved": len(diff["dissolved"]),
        "actions": {a: int(actions.get(a, 0)) for a in ("none", "monitor", "review", "restrict", "suspend")},
        "events": events,
        "notices": int(len(changes.notices)),
        "engine": engine_used,
    }
    return summary


def _detection_tables(detection) -> dict[str, pd.DataFrame]:
    """The result tables a detection writes (ring_identifiers empty when it has none)."""
    ring_identifiers = getattr(detection, "ring_identifiers", None)
    if ring_identifiers is None:
        ring_identifiers = pd.DataFrame(columns=RING_IDENTIFIER_COLUMNS)
    return {
        "rings": detection.rings,
        "ring_members": detection.ring_members,
        "ring_identifiers": ring_identifiers,
        "account_scores": detection.account_scores,
        "hubs": detection.hubs,
    }


def _sweep_record(sweep: dict, detection, decisions: pd.DataFrame, changes, *, stored: bool = False) -> SweepRecord:
    """Everything one sweep writes, in one record the workspace saves in one transaction.

    ``stored``: the detection is the stored one (nothing changed), so its tables are not
    written again; only the decisions, state, audit and notices are."""
    tables = _detection_tables(detection)
    return SweepRecord(
        sweep=sweep,
        tables={"decisions": decisions} if stored else tables | {"decisions": decisions},
        state=changes.state,
        audit=changes.audit,
        notices=changes.notices,
        next_ring_number=detection.next_ring_number,
        account_scores=detection.account_scores,
        components=getattr(detection, "components", None),
    )
