"""One detection pass, pure: frames in, rings / ring members / account scores / hubs out.

graph -> money flow -> candidate rings -> stable ids -> features -> scores -> reasons. Each
structure is built once and handed to the next stage; nothing here reads or writes storage.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fraudgraph.detection.features import (
    account_features,
    account_table,
    group_lists,
    ring_features,
    shared_identifiers,
)
from fraudgraph.detection.graph import DetectionConfig, IdentityGraph, build_identity_graph
from fraudgraph.detection.rings import assign_ring_ids, find_candidate_rings, money_flow
from fraudgraph.detection.scoring import (
    DEFAULT_TIERS,
    AccountScorer,
    RingScorer,
    account_reasons,
    ring_reasons,
)
from fraudgraph.model.frames import ACCOUNT_SCORE_COLUMNS, HUB_COLUMNS, RING_COLUMNS, RING_MEMBER_COLUMNS

# The workspace stores the first six (fraudgraph.workspace.base.RING_IDENTIFIER_COLUMNS).
ACCOUNT_REASON_FLOOR = DEFAULT_TIERS["monitor"]  # accounts scoring below this (and unlabelled) get no reasons

RING_IDENTIFIER_COLUMNS = [
    "ring_id",
    "kind",
    "key",
    "n_members",
    "n_accounts",
    "raw_values",
    "weight",
    "first_seen",
]


@dataclass
class Detection:
    """The result of ``detect``.

    rings, ring_members, account_scores, hubs: frames as in ``fraudgraph.model.frames``.
    ring_identifiers: ring_id, kind, key, n_members (ring members using it), n_accounts (all
        accounts), raw_values (raw spellings, list), weight, first_seen (latest first use by a
        member, datetime64): what an investigator checks.
    account_features: numeric features per account (index account_id), for the account view.
    next_ring_number: the counter to pass to the next sweep.
    as_of: the time the detection describes.
    stage_seconds: wall time per stage.
    """

    rings: pd.DataFrame
    ring_members: pd.DataFrame
    account_scores: pd.DataFrame
    hubs: pd.DataFrame
    ring_identifiers: pd.DataFrame
    account_features: pd.DataFrame
    next_ring_number: int
    as_of: pd.Timestamp
    stage_seconds: dict[str, float] = field(default_factory=dict)


def latest_timestamp(accounts: pd.DataFrame, links: pd.DataFrame, transactions: pd.DataFrame | None) -> pd.Timestamp:
    """The latest created_at, first_seen or transaction timestamp (the default ``as_of``)."""
    candidates = [accounts["created_at"].max()]
    if "first_seen" in links and len(links):
        candidates.append(links["first_seen"].max())
    if transactions is not None and len(transactions) and "timestamp" in transactions:
        candidates.append(transactions["timestamp"].max())
    found = [pd.Timestamp(c) for c in candidates if c is not None and not pd.isna(c)]
    if not found:
        raise ValueError("detect: no created_at, first_seen or transaction timestamp to take as_of from; pass as_of")
    return max(found)


def _empty_detection(accounts, hubs, next_ring_number, as_of, stages) -> Detection:
    scores = pd.DataFrame(
        {
            "account_id": accounts["account_id"].astype(str).to_numpy(),
            "score": np.zeros(len(accounts)),
            "ring_id": pd.Series([None] * len(accounts), dtype=object),
            "reasons": [[] for _ in range(len(accounts))],
        }
    )[ACCOUNT_SCORE_COLUMNS]
    return Detection(
        rings=pd.DataFrame(columns=RING_COLUMNS),
        ring_members=pd.DataFrame(columns=RING_MEMBER_COLUMNS),
        account_scores=scores,
        hubs=hubs,
        ring_identifiers=pd.DataFrame(columns=RING_IDENTIFIER_COLUMNS),
        account_features=pd.DataFrame(index=pd.Index(scores["account_id"], name="account_id")),
        next_ring_number=next_ring_number,
        as_of=as_of,
        stage_seconds=stages,
    )


def detect(
    accounts: pd.DataFrame,
    links: pd.DataFrame,
    transactions: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    seed: int = 0,
    config: DetectionConfig | None = None,
    previous_members: pd.DataFrame | None = None,
    next_ring_number: int = 1,
    progress: Callable[[str], None] | None = None,
    cluster_fn: Callable[[sp.csr_matrix], np.ndarray] | None = None,
) -> Detection:
    """Find, score and explain fraud rings in normalized frames (see ``fraudgraph.model.frames``).

    as_of: the moment the sweep describes; defaults to the latest timestamp in the data. Links
        first seen and transactions made after it are ignored (they had not happened yet).
    seed: seeds community detection and the IsolationForest: same input and seed, same output.
    previous_members: ring_members of the previous sweep, so surviving rings keep their ids.
    next_ring_number: first number for new ring ids (``Detection.next_ring_number`` of the last sweep).
    progress: called with the name of each stage as it starts (for a progress line on stderr).
    cluster_fn: replaces components + Leiden (e.g. Neo4j GDS): given the symmetric weighted
        account adjacency (CSR, rows in ``accounts`` order), returns a cluster label per row
        (int array, -1 = in no ring). Clusters of one account are dropped.
    """
    config = config or DetectionConfig()
    stages: dict[str, float] = {}
    current: list = [None, time.perf_counter()]  # stage being timed, its start

    def stage(name: str | None) -> None:
        """Close the running stage's clock and start ``name`` (None = finished)."""
        now = time.perf_counter()
        if current[0] is not None:
            stages[current[0]] = round(now - current[1], 4)
        current[:] = [name, now]
        if name is not None and progress is not None:
            progress(name)

    as_of = pd.Timestamp(as_of) if as_of is not None else latest_timestamp(accounts, links, transactions)
    if as_of.tzinfo is not None:
        as_of = as_of.tz_convert("UTC").tz_localize(None)
    as_of_day = float(as_of.value) / 86_400e9
    if "first_seen" in links and len(links):
        links = links[~(links["first_seen"] > as_of).to_numpy()]
    if transactions is not None and len(transactions):
        transactions = transactions[~(transactions["timestamp"] > as_of).to_numpy()]

    stage("graph")
    graph = build_identity_graph(accounts, links, config)
    stage("money_flow")
    flow = money_flow(transactions, graph.account_ids, config)
    stage("rings")
    candidates = find_candidate_rings(graph, flow, config, seed=seed, cluster_fn=cluster_fn)
    if candidates.clusters.empty:
        stage(None)
        return _empty_detection(
            accounts.assign(account_id=graph.account_ids),
            graph.hubs[HUB_COLUMNS],
            next_ring_number,
            as_of,
            stages,
        )
    stage("ring_ids")
    ring_members, next_number = assign_ring_ids(candidates.clusters, previous_members, next_ring_number)
    ring_of_cluster = (
        candidates.clusters.assign(
            ring_id=ring_members.set_index("account_id")["ring_id"]
            .reindex(candidates.clusters["account_id"])
            .to_numpy()
        )
        .drop_duplicates("cluster")
        .set_index("cluster")["ring_id"]
    )

    stage("features")
    table = account_table(accounts, graph, transactions)
    shared = shared_identifiers(graph, candidates.cluster_of, as_of_day, config)
    rf = ring_features(graph, candidates, table, shared, flow, transactions, as_of_day, config)
    af = account_features(graph, candidates, table, shared, flow, as_of_day, config)

    stage("scoring")
    ring_scorer = RingScorer(n_estimators=config.isolation_estimators, random_state=seed).fit(rf)
    ring_score = ring_scorer.score_samples(rf)
    evidence = ring_scorer.evidence(rf)
    anomaly = ring_scorer.anomaly(rf)
    account_scorer = AccountScorer(random_state=seed).fit(af)
    cluster = af["cluster"].to_numpy()
    in_ring = cluster >= 0
    score_of_ring = np.zeros(len(af))
    score_of_ring[in_ring] = ring_score[cluster[in_ring]]
    pattern_codes = ["BUST_OUT_PATTERN", "TAKEOVER_PATTERN", "MULE_PATTERN", "KNOWN_FRAUD_IN_RING"]
    patterns = evidence[pattern_codes].to_numpy()
    ring_patterns = pd.DataFrame(np.zeros((len(af), len(pattern_codes))), columns=pattern_codes)
    ring_patterns.iloc[np.flatnonzero(in_ring)] = patterns[cluster[in_ring]]
    acc_score = account_scorer.score_samples(af, score_of_ring, ring_patterns)
    fit = account_scorer.pattern_fit(af, ring_patterns)
    tie = np.where(
        np.isnan(fit),
        account_scorer.tie(af),
        account_scorer.unfit_factor + (1 - account_scorer.unfit_factor) * np.nan_to_num(fit),
    )

    stage("reasons")
    # Millions of small dicts: the cyclic garbage collector would rescan them again and again
    # while they are built (none of them forms a cycle).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _finish(
            graph,
            candidates,
            flow,
            config,
            rf,
            af,
            shared,
            evidence,
            anomaly,
            ring_score,
            score_of_ring,
            acc_score,
            tie,
            account_scorer,
            ring_of_cluster,
            cluster,
            in_ring,
            ring_members,
            next_number,
            as_of,
            stages,
            stage,
        )
    finally:
        if gc_was_enabled:
            gc.enable()


def _finish(
    graph,
    candidates,
    flow,
    config,
    rf,
    af,
    shared,
    evidence,
    anomaly,
    ring_score,
    score_of_ring,
    acc_score,
    tie,
    account_scorer,
    ring_of_cluster,
    cluster,
    in_ring,
    ring_members,
    next_number,
    as_of,
    stages,
    stage,
) -> Detection:
    """The reasons stage and the output frames (split out so the GC pause wraps exactly it)."""
    ident = shared.frame.copy()
    ident["values"] = graph.raw_spellings(ident["identifier"].to_numpy()).to_numpy() if len(ident) else []
    known = af["is_known_fraud"].to_numpy() & in_ring
    known_ids = group_lists(cluster[known], graph.account_ids.to_numpy()[known])
    top_payees = _top_payees(flow, candidates.cluster_of, graph)
    reasons = ring_reasons(rf, evidence, anomaly, ident, known_ids, top_payees, burst_days=config.burst_days)

    ring_ids = ring_of_cluster.reindex(rf.index).to_numpy()
    feature_records = _feature_dicts(rf)
    rings = pd.DataFrame(
        {
            "ring_id": ring_ids,
            "size": rf["size"].to_numpy(np.int64),
            "score": ring_score,
            "exposure": rf["exposure"].to_numpy(np.float64),
            "features": feature_records,
            "reasons": reasons,
        }
    )
    rings = rings.sort_values(["score", "ring_id"], ascending=[False, True], kind="stable").reset_index(drop=True)

    ring_id_of_account = np.full(len(af), None, dtype=object)
    ring_id_of_account[in_ring] = ring_ids[cluster[in_ring]]
    top_text = np.array([r[0]["text"] if r else None for r in reasons], dtype=object)
    ring_top = np.full(len(af), None, dtype=object)
    ring_top[in_ring] = top_text[cluster[in_ring]]
    # Accounts below the explanation floor keep an empty list: at a million accounts, building
    # reasons for every household member costs more than the whole detection.
    explained = np.flatnonzero(
        (acc_score >= ACCOUNT_REASON_FLOOR) | af["is_known_legit"].to_numpy() | af["is_known_fraud"].to_numpy()
    )
    # Per explained account: what it shares with its ring (kind, key), for its own reasons.
    wanted = np.zeros(len(af), dtype=bool)
    wanted[explained] = True
    pairs = wanted[shared.member_rows]
    pair_ident = shared.member_identifiers[pairs]
    pair_values = np.empty(len(pair_ident), dtype=object)
    pair_values[:] = list(
        zip(graph.identifiers["kind"].to_numpy()[pair_ident], graph.identifiers["key"].to_numpy()[pair_ident])
    )
    acc_idents = group_lists(shared.member_rows[pairs], pair_values, limit=10)
    acc_reason_lists: list[list[dict]] = [[] for _ in range(len(af))]
    for pos, rs in zip(
        explained,
        account_reasons(
            af.iloc[explained],
            acc_score[explained],
            tie[explained],
            ring_id_of_account[explained],
            score_of_ring[explained],
            ring_top[explained],
            acc_idents.reindex(explained),
            np.clip(
                af["fraud_proximity"].to_numpy()[explained] / max(account_scorer.proximity_scale_, 1e-12),
                0,
                1,
            ),
        ),
    ):
        acc_reason_lists[pos] = rs
    account_scores = pd.DataFrame(
        {
            "account_id": graph.account_ids.to_numpy(),
            "score": acc_score,
            "ring_id": pd.Series(ring_id_of_account, dtype=object),
            "reasons": acc_reason_lists,
        }
    )[ACCOUNT_SCORE_COLUMNS]

    ring_identifiers = (
        pd.DataFrame(
            {
                "ring_id": ring_of_cluster.reindex(ident["cluster"]).to_numpy(),
                "kind": ident["kind"].to_numpy(),
                "key": ident["key"].to_numpy(),
                "n_members": ident["n_members"].to_numpy(np.int64),
                "n_accounts": ident["n_accounts"].to_numpy(np.int64),
                "weight": ident["weight"].to_numpy(np.float64),
                "first_seen": pd.to_datetime(
                    np.where(np.isnan(ident["first_seen_max"]), np.nan, ident["first_seen_max"] * 86_400e9),
                    unit="ns",
                ),
                "raw_values": ident["values"].to_numpy() if len(ident) else [],
            }
        )[RING_IDENTIFIER_COLUMNS]
        .sort_values(["ring_id", "n_members", "kind", "key"], ascending=[True, False, True, True])
        .reset_index(drop=True)
    )

    features_by_account = af.drop(columns=["cluster"]).set_axis(pd.Index(graph.account_ids, name="account_id"))
    stage(None)
    return Detection(
        rings=rings[RING_COLUMNS],
        ring_members=ring_members[RING_MEMBER_COLUMNS],
        account_scores=account_scores,
        hubs=graph.hubs[HUB_COLUMNS],
        ring_identifiers=ring_identifiers,
        account_features=features_by_account,
        next_ring_number=next_number,
        as_of=as_of,
        stage_seconds=stages,
    )


def _feature_dicts(rf: pd.DataFrame) -> list[dict]:
    """Ring features as plain JSON-friendly dicts (ints stay ints, NaN becomes None)."""
    columns = []
    for c in rf.columns:
        v = rf[c].to_numpy()
        if pd.api.types.is_integer_dtype(v) or pd.api.types.is_bool_dtype(v):
            columns.append(v.astype(np.int64).tolist())
        else:
            v = np.round(v.astype(np.float64), 6)
            obj = v.astype(object)
            obj[np.isnan(v)] = None
            columns.append(obj.tolist())
    names = list(rf.columns)
    return [dict(zip(names, row)) for row in zip(*columns)]


def _top_payees(flow, cluster_of: np.ndarray, graph: IdentityGraph) -> pd.Series:
    """Per cluster: the account payees paid by the most members (at least two), most shared first."""
    t = flow.counts.tocoo()
    if t.nnz == 0:
        return pd.Series(dtype=object)
    c = cluster_of[t.row]
    pay = pd.DataFrame({"cluster": c, "payee": t.col})
    pay = pay[pay["cluster"] >= 0]
    per = pay.groupby(["cluster", "payee"]).size().rename("n").reset_index()
    per = per[per["n"] >= 2].sort_values(["cluster", "n"], ascending=[True, False])
    per["payee_id"] = graph.account_ids.to_numpy()[per["payee"].to_numpy()]
    return group_lists(per["cluster"].to_numpy(), per["payee_id"].to_numpy(), limit=10)


__all__ = ["DEFAULT_TIERS", "Detection", "detect", "latest_timestamp"]
