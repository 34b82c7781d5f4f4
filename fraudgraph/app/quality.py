"""Detection quality against ground truth: account and ring precision / recall, per ring kind,
false-flag rates of innocent groups. Pure; the CLI's ``evaluate`` command and the benchmarks use it.

Recall is over fraud in rings (truth ring_id set): a lone fraudster shares nothing with other fraud,
so no graph method can find one; lone fraud is reported on its own and inside ``all_fraud_recall``.
Precision is over every flagged account: a flagged lone fraudster is a true positive.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from fraudgraph.detection.scoring import default_actions
from fraudgraph.errors import FraudGraphError

FLAG_ACTIONS = ("review", "restrict", "suspend")  # "review or worse"
# Decision triggers that are fraud findings. The policy also acts on credit risk alone (overdue,
# utilization); a late payer restricted for arrears was not flagged as fraud.
FRAUD_TRIGGERS = ("fraud_ring", "account_risk", "manual")
TRUTH_REQUIRED = ("account_id", "is_fraud")


def _as_bool(values: pd.Series) -> np.ndarray:
    """is_fraud from a truth file: bools, 0/1 or 'true'/'false' strings."""
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).to_numpy() != 0
    text = values.astype(str).str.strip().str.lower()
    bad = ~text.isin(["true", "false", "1", "0", "yes", "no", ""])
    if bad.any():
        raise ValueError(f"truth: is_fraud value {values[bad].iloc[0]!r} is not a boolean; expected true/false or 1/0")
    return text.isin(["true", "1", "yes"]).to_numpy()


def _actions_by_account(
    actions: pd.Series | pd.DataFrame, account_scores: pd.DataFrame, triggers: Iterable[str] | None
) -> pd.Series:
    """Normalize ``actions`` to a Series of action names indexed by account_id. In a decisions
    frame, actions whose trigger is not one of ``triggers`` count as "none"."""
    if isinstance(actions, pd.DataFrame):
        missing = {"account_id", "action"} - set(actions.columns)
        if missing:
            raise ValueError(f"actions frame lacks column(s) {sorted(missing)}; expected account_id and action")
        action = actions["action"].astype(object).to_numpy()
        if triggers is not None and "trigger" in actions.columns:
            # A decision names only its winning trigger: where that is a credit rule, what the
            # fraud score alone would have done (default tiers) is the fraud finding.
            trigger = actions["trigger"].astype(object)
            credit = (~trigger.isin(list(triggers)) & (trigger != "none")).to_numpy()
            by_score = (
                default_actions(actions["score"].astype(float).fillna(0.0)).to_numpy()
                if "score" in actions.columns
                else np.full(len(actions), "none", dtype=object)
            )
            action = np.where(credit, by_score, action)
        return pd.Series(action, index=actions["account_id"].astype(str).to_numpy())
    if actions.index.dtype == object or pd.api.types.is_string_dtype(actions.index):
        return pd.Series(actions.to_numpy(), index=actions.index.astype(str))
    if len(actions) != len(account_scores):
        raise ValueError(
            f"actions has {len(actions)} rows but account_scores has {len(account_scores)}; pass a Series "
            "indexed by account_id or aligned with account_scores"
        )
    return pd.Series(actions.to_numpy(), index=account_scores["account_id"].astype(str).to_numpy())


def _prf(predicted: np.ndarray, fraud: np.ndarray, ring_fraud: np.ndarray) -> dict:
    """Precision over every flagged account; recall (and fn) over ``ring_fraud``; tp counts every
    flagged fraud account, ring_tp the flagged ring fraud (recall = ring_tp / (ring_tp + fn))."""
    tp = int((predicted & fraud).sum())
    fp = int((predicted & ~fraud).sum())
    ring_tp = int((predicted & ring_fraud).sum())
    fn = int((~predicted & ring_fraud).sum())
    n_fraud = int(fraud.sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = ring_tp / (ring_tp + fn) if ring_tp + fn else float("nan")
    if precision > 0 and recall > 0:
        f1 = 2 * precision * recall / (precision + recall)
    else:
        f1 = 0.0 if tp + fp + fn else float("nan")
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "ring_tp": ring_tp,
        "all_fraud_recall": tp / n_fraud if n_fraud else float("nan"),
    }


def evaluate_quality(
    truth: pd.DataFrame,
    account_scores: pd.DataFrame,
    actions: pd.Series | pd.DataFrame,
    ring_members: pd.DataFrame,
    *,
    labelled_accounts: Iterable[str] | None = None,
    cover: float = 0.5,
    triggers: Iterable[str] | None = FRAUD_TRIGGERS,
    accounts: pd.DataFrame | None = None,
) -> dict:
    """Compare a detection's actions with ground truth.

    truth: account_id, is_fraud, and optionally ring_id, ring_kind, group_kind (as written by
        ``fraudgraph generate``). Accounts missing from truth count as innocent.
    account_scores: the detection's account_scores (account_id is what matters).
    actions: action per account: a Series indexed by account_id (or aligned with account_scores),
        or a decisions frame with account_id and action.
    ring_members: ring_id, account_id of the detection.
    labelled_accounts: accounts whose label was an input; metrics are also reported without them.
    triggers: with a decisions frame, only actions with one of these triggers count (default: the
        fraud findings, not credit actions on overdue or utilization; for those the decision's
        score is mapped through the default tiers); None counts every action as it is.
    accounts: the input accounts (account_id; overdue_days, status): see ``_with_accounts``.
    cover: a planted ring is found when one flagged detected ring holds more than ``cover`` of
        its members; a flagged detected ring is correct when more than ``cover`` of it is fraud.
        A detected ring is flagged when more than half its members are review or worse.

    Returns a dict: ``accounts`` and ``unlabelled`` (n_accounts, n_fraud, n_ring_fraud, n_lone,
    recall_over, and for ``review_or_worse`` and ``suspend``: precision, recall, f1, tp, fp, fn,
    ring_tp, all_fraud_recall), ``lone`` (n_accounts, flagged: review or worse, suspended), ``rings``
    (precision, recall, counts), ``ring_kinds`` (per planted kind: accounts, account recall, rings,
    ring recall) and ``false_flags`` (per innocent group kind: accounts, flagged, rate, suspended,
    suspend_rate).

    Recall (and fn, f1) is over fraud in a ring: fraud accounts with a ring_id in truth
    (``recall_over`` = "ring_fraud"). Fraud in no ring (ring_kind "lone") shares nothing with other
    fraud, so no graph method can reach it: it counts in precision (a flagged lone fraudster is a
    true positive), in ``all_fraud_recall`` and in ``lone``, not in recall. A truth without ring
    ids (or with none on a fraud account) makes recall over all fraud (``recall_over`` = "all_fraud").

    >>> import pandas as pd
    >>> truth = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "is_fraud": [True, True, False, False],
    ...                       "ring_id": ["T1", "T1", "", ""], "ring_kind": ["bust_out"] * 2 + [""] * 2,
    ...                       "group_kind": ["", "", "household", ""]})
    >>> scores = pd.DataFrame({"account_id": ["a", "b", "c", "d"]})
    >>> actions = pd.Series(["suspend", "none", "review", "none"], index=["a", "b", "c", "d"])
    >>> members = pd.DataFrame({"ring_id": ["R-1", "R-1"], "account_id": ["a", "c"]})
    >>> r = evaluate_quality(truth, scores, actions, members)
    >>> r["accounts"]["review_or_worse"]["precision"], r["accounts"]["review_or_worse"]["recall"]
    (0.5, 0.5)
    >>> r["false_flags"]["household"]["rate"]
    1.0
    """
    t, index = _truth_by_account(truth, account_scores)
    t, index, closed = _with_accounts(t, index, accounts)
    fraud = pd.Series(_as_bool(t["is_fraud"]), index=t.index).reindex(index, fill_value=False).to_numpy(dtype=bool)
    act = _actions_by_account(actions, account_scores, triggers).reindex(index).fillna("none").astype(str)
    flagged = act.isin(FLAG_ACTIONS).to_numpy()
    suspended = (act == "suspend").to_numpy()
    ring_fraud, recall_over = _ring_fraud(t, index, fraud)
    lone = fraud & ~ring_fraud

    labelled = pd.Index([] if labelled_accounts is None else [str(a) for a in labelled_accounts])
    result: dict = {}
    for name, mask in (("accounts", np.ones(len(index), bool)), ("unlabelled", ~index.isin(labelled))):
        result[name] = _account_metrics(mask, fraud, ring_fraud, lone, flagged, suspended, recall_over)
    result["lone"] = {"n_accounts": int(lone.sum()), "flagged": int((flagged & lone).sum())}
    result["lone"]["suspended"] = int((suspended & lone).sum())
    result["early_stage"] = _early_stage(t, index, flagged, ring_fraud)
    result["closed_excluded"] = len(closed)
    flagged_s = pd.Series(flagged, index=index)
    planted = t[t["ring_id"].fillna("").astype(str) != ""] if "ring_id" in t else t.iloc[:0]
    result["rings"], found_by_ring = _ring_metrics(
        ring_members, flagged_s, pd.Series(fraud, index=index), planted, cover
    )
    result["ring_kinds"] = _ring_kind_metrics(planted, flagged_s, found_by_ring)
    result["false_flags"] = _false_flags(t, index, fraud, flagged, suspended)
    return result


def _ring_fraud(t: pd.DataFrame, index: pd.Index, fraud: np.ndarray) -> tuple[np.ndarray, str]:
    """Fraud in a planted ring (what recall is over), or all fraud when the truth names no rings."""
    in_ring = pd.Series(False, index=index)
    if "ring_id" in t.columns:
        in_ring[t.index] = (t["ring_id"].fillna("").astype(str).str.strip() != "").to_numpy()
    ring_fraud = fraud & in_ring.to_numpy()
    if ring_fraud.any():
        return ring_fraud, "ring_fraud"
    return fraud, "all_fraud"


def _account_metrics(
    mask: np.ndarray,
    fraud: np.ndarray,
    ring_fraud: np.ndarray,
    lone: np.ndarray,
    flagged: np.ndarray,
    suspended: np.ndarray,
    recall_over: str,
) -> dict:
    """Counts, and precision / recall at review-or-worse and at suspend, over the accounts in ``mask``."""
    return {
        "n_accounts": int(mask.sum()),
        "n_fraud": int(fraud[mask].sum()),
        "n_ring_fraud": int(ring_fraud[mask].sum()),
        "n_lone": int(lone[mask].sum()),
        "recall_over": recall_over,
        "review_or_worse": _prf(flagged[mask], fraud[mask], ring_fraud[mask]),
        "suspend": _prf(suspended[mask], fraud[mask], ring_fraud[mask]),
    }


def _truth_by_account(truth: pd.DataFrame, account_scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """The truth indexed by account id, and the union of scored and true accounts."""
    missing = [c for c in TRUTH_REQUIRED if c not in truth.columns]
    if missing:
        raise ValueError(
            f"truth lacks column(s) {missing}; expected {', '.join(TRUTH_REQUIRED)} (as written by `fraudgraph generate`)"
        )
    account_ids = account_scores["account_id"].astype(str)
    t = truth.assign(account_id=truth["account_id"].astype(str)).drop_duplicates("account_id").set_index("account_id")
    unknown = t.index.difference(pd.Index(account_ids))
    if len(unknown) == len(t) and len(t):
        raise ValueError(
            f"truth names {len(t)} accounts and none is among the {len(account_ids)} scored accounts "
            f"(first: {unknown[0]!r}); is it the truth file of this data set?"
        )
    return t, pd.Index(account_ids.to_numpy()).union(t.index)


def _with_accounts(
    t: pd.DataFrame, index: pd.Index, accounts: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.Index, pd.Index]:
    """The truth with ``early_stage`` derived from arrears where it does not say (a planted ring
    none of whose members is past due is early-stage), and the truth and account index without
    closed accounts (the policy never acts on one: nothing to find), and the closed ids
    (``closed_excluded`` counts them)."""
    closed: pd.Index = pd.Index([])
    if accounts is None:
        return t, index, closed
    by_id = accounts.set_index(accounts["account_id"].astype(str))
    if "early_stage" not in t.columns and "overdue_days" in by_id and "ring_id" in t.columns:
        t = t.assign(early_stage=_early_from_overdue(t, by_id["overdue_days"]))
    if "status" in by_id:
        closed = by_id.index[by_id["status"].astype(str).eq("closed").to_numpy()]
        index = index.difference(closed)
        t = t.loc[t.index.difference(closed)]
    return t, index, closed


def _early_from_overdue(t: pd.DataFrame, overdue_days: pd.Series) -> np.ndarray:
    """Per truth row: in a planted ring none of whose members is past due (for truth files that
    do not say, such as the first generator's): the ring has not cost anything yet."""
    ring = t["ring_id"].fillna("").astype(str)
    late = pd.to_numeric(overdue_days.reindex(t.index), errors="coerce").fillna(0).to_numpy() > 0
    late_rings = set(ring[late & (ring != "").to_numpy()])
    return ((ring != "") & ~ring.isin(late_rings)).to_numpy()


def _early_stage(t: pd.DataFrame, index: pd.Index, flagged: np.ndarray, ring_fraud: np.ndarray) -> dict:
    """Recall over ring fraud whose ring has no overdue member yet (truth column ``early_stage``):
    the rings a lender must act on before the loss. Empty when the truth does not say."""
    if "early_stage" not in t.columns:
        return {}
    early = pd.Series(False, index=index)
    early[t.index] = _as_bool(t["early_stage"])
    mask = early.to_numpy() & ring_fraud
    n = int(mask.sum())
    return {
        "n_accounts": n,
        "flagged": int(flagged[mask].sum()),
        "recall": float(flagged[mask].mean()) if n else float("nan"),
    }


def _ring_metrics(
    ring_members: pd.DataFrame, flagged_s: pd.Series, fraud_s: pd.Series, planted: pd.DataFrame, cover: float
) -> tuple[dict, dict[str, bool]]:
    """Rings: a detected ring is flagged when most of its members are review or worse; a planted
    ring is found when one flagged detected ring holds more than ``cover`` of its members."""
    rm = ring_members[["ring_id", "account_id"]].assign(account_id=ring_members["account_id"].astype(str))
    rm = rm.assign(
        flagged=flagged_s.reindex(rm["account_id"]).fillna(False).to_numpy(bool),
        fraud=fraud_s.reindex(rm["account_id"]).fillna(False).to_numpy(bool),
    )
    per_ring = rm.groupby("ring_id").agg(
        size=("account_id", "size"), flagged=("flagged", "mean"), fraud=("fraud", "mean")
    )
    flagged_rings = per_ring.index[per_ring["flagged"] > 0.5]
    correct = int((per_ring.loc[flagged_rings, "fraud"] > cover).sum())
    planted_ring = planted["ring_id"].astype(str) if len(planted) else pd.Series(dtype=str)
    in_flagged = rm[rm["ring_id"].isin(flagged_rings)].drop_duplicates("account_id").set_index("account_id")["ring_id"]
    found_by_ring: dict[str, bool] = {}
    if len(planted):
        pr = pd.DataFrame(
            {"planted": planted_ring.to_numpy(), "detected": in_flagged.reindex(planted.index).to_numpy()}
        )
        sizes = pr.groupby("planted").size()
        best = pr.dropna().groupby(["planted", "detected"]).size().groupby(level="planted").max()
        share = best.reindex(sizes.index).fillna(0) / sizes
        found_by_ring = (share > cover).to_dict()
    n_planted = len(found_by_ring)
    n_found = int(sum(found_by_ring.values()))
    return {
        "n_planted": n_planted,
        "n_found": n_found,
        "recall": n_found / n_planted if n_planted else float("nan"),
        "n_detected": int(len(per_ring)),
        "n_flagged": int(len(flagged_rings)),
        "n_correct": correct,
        "precision": correct / len(flagged_rings) if len(flagged_rings) else float("nan"),
    }, found_by_ring


def _ring_kind_metrics(planted: pd.DataFrame, flagged_s: pd.Series, found_by_ring: dict[str, bool]) -> dict:
    """Per planted ring kind: accounts, account recall, rings, ring recall."""
    out: dict = {}
    if "ring_kind" not in planted.columns or not len(planted):
        return out
    planted_ring = planted["ring_id"].astype(str)
    kind_of = planted["ring_kind"].fillna("").astype(str)
    ring_kind = pd.Series(kind_of.to_numpy(), index=planted_ring.to_numpy())
    ring_kind = ring_kind[~ring_kind.index.duplicated()]
    for kind in sorted(k for k in kind_of.unique() if k):
        members = planted.index[kind_of.to_numpy() == kind]
        rings_of_kind = ring_kind.index[ring_kind.to_numpy() == kind]
        found = sum(found_by_ring.get(r, False) for r in rings_of_kind)
        fl = flagged_s.reindex(members).fillna(False).to_numpy(bool)
        out[kind] = {
            "n_accounts": int(len(members)),
            "account_recall": float(fl.mean()) if len(members) else float("nan"),
            "n_rings": int(len(rings_of_kind)),
            "ring_recall": found / len(rings_of_kind) if len(rings_of_kind) else float("nan"),
        }
    return out


def _false_flags(
    t: pd.DataFrame, index: pd.Index, fraud: np.ndarray, flagged: np.ndarray, suspended: np.ndarray
) -> dict:
    """Per innocent group kind: accounts, flagged (review or worse) and suspended, with rates."""
    out: dict = {}
    innocent = ~fraud
    group = (
        t["group_kind"].fillna("").astype(str).reindex(index).fillna("")
        if "group_kind" in t
        else pd.Series("", index=index)
    )
    group = group.replace("", "ungrouped")
    for kind in sorted(group[innocent].unique()):
        mask = innocent & (group.to_numpy() == kind)
        n = int(mask.sum())
        out[kind] = {
            "n_accounts": n,
            "flagged": int(flagged[mask].sum()),
            "rate": float(flagged[mask].mean()) if n else float("nan"),
            "suspended": int(suspended[mask].sum()),
            "suspend_rate": float(suspended[mask].mean()) if n else float("nan"),
        }
    return out


def evaluation_table(result: dict) -> pd.DataFrame:
    """Flatten an ``evaluate_quality`` result into rows of (section, name, metric, value) for printing."""
    rows = []
    for scope in ("accounts", "unlabelled"):
        block = result[scope]
        for tier in ("review_or_worse", "suspend"):
            for metric, value in block[tier].items():
                rows.append((scope, tier, metric, value))
    for metric, value in result["lone"].items():
        rows.append(("lone", "all", metric, value))
    for metric, value in result.get("early_stage", {}).items():
        rows.append(("early_stage", "ring_fraud", metric, value))
    rows.append(("closed_excluded", "all", "n_accounts", result.get("closed_excluded", 0)))
    for metric, value in result["rings"].items():
        rows.append(("rings", "all", metric, value))
    for kind, block in result["ring_kinds"].items():
        for metric, value in block.items():
            rows.append(("ring_kind", kind, metric, value))
    for kind, block in result["false_flags"].items():
        for metric, value in block.items():
            rows.append(("false_flags", kind, metric, value))
    return pd.DataFrame(rows, columns=["section", "name", "metric", "value"])


def read_truth(path) -> pd.DataFrame:
    """A truth file as written by ``fraudgraph generate`` (truth.csv, or truth.parquet with
    ``--parquet``): every column as text, nothing parsed as NA."""
    try:
        if str(path).lower().endswith((".parquet", ".pq")):
            truth = pd.read_parquet(path)
            truth = truth.astype(object).where(truth.notna(), "").astype(str)
        else:
            truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, ImportError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FraudGraphError(f"cannot read truth file {str(path)!r}: {exc}") from exc
    missing = [c for c in TRUTH_REQUIRED if c not in truth.columns]
    if missing:
        raise FraudGraphError(
            f"truth file {str(path)!r} lacks column(s) {missing}; expected a header with "
            "account_id, is_fraud, ring_id, ring_kind, group_id, group_kind"
        )
    return truth


def evaluate_workspace(ws, truth_file) -> dict:
    """``evaluate`` the workspace's last sweep (account scores, decisions, rings) against a truth file.

    Accounts whose label was loaded as input are reported separately under ``unlabelled``.
    """
    truth = read_truth(truth_file)
    scores = ws.table("account_scores")
    if scores.empty:
        raise FraudGraphError("the workspace has no sweep results yet: sweep it before evaluating")
    decisions = ws.table("decisions")
    keep = [c for c in ("account_id", "action", "trigger", "score") if c in decisions.columns]
    actions = decisions[keep] if len(decisions) else pd.Series("none", index=scores["account_id"])
    accounts = ws.accounts()
    labelled = (
        accounts.loc[accounts["label"].notna() & (accounts["label"].astype(str) != ""), "account_id"]
        if "label" in accounts
        else []
    )
    try:
        return evaluate_quality(
            truth, scores, actions, ws.table("ring_members"), labelled_accounts=labelled, accounts=accounts
        )
    except ValueError as exc:
        raise FraudGraphError(f"truth file {str(truth_file)!r}: {exc}") from exc
