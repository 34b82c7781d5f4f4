"""One detection pass, pure: frames in, rings / ring members / account scores / hubs out.

graph -> money flow -> candidate rings -> stable ids -> features -> scores -> reasons. Each
structure is built once and handed to the next stage; nothing here reads or writes storage.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fraudgraph.detection.baseline import Baseline
from fraudgraph.detection.evidence import account_reasons, ring_reasons
from fraudgraph.detection.features import (
    Ledger,
    SharedIdentifiers,
    account_features,
    account_table,
    group_lists,
    ring_clocks,
    ring_features,
    shared_identifiers,
)
from fraudgraph.detection.graph import (
    DetectionConfig,
    IdentityGraph,
    account_index,
    build_identity_graph,
    release_memory,
)
from fraudgraph.detection.keys import text_ranks
from fraudgraph.detection.memo import CommunityMemo
from fraudgraph.detection.rings import CandidateRings, MoneyFlow, assign_ring_ids, find_candidate_rings
from fraudgraph.detection.scoring import (
    ACCOUNT_PATTERN_CODES,
    DEFAULT_TIERS,
    AccountScorer,
    RingScorer,
)
from fraudgraph.model.frames import ACCOUNT_SCORE_COLUMNS, HUB_COLUMNS, RING_COLUMNS, RING_MEMBER_COLUMNS
from fraudgraph.model.values import NamedRow, isin

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
    baseline: what the rings were judged against (``fraudgraph.detection.baseline``).
    components: account_id, component of every account whose component (identity and money
        edges, before Leiden) holds another account; a component is named by its smallest
        account id. None when another engine clustered. A delta sweep reads it back to find
        what a change reaches (``fraudgraph.app.delta``).
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
    baseline: Baseline | None = None
    components: pd.DataFrame | None = None


def component_frame(account_ids: pd.Index, labels: np.ndarray | None, inside: np.ndarray | None) -> pd.DataFrame | None:
    """account_id, component of every account (of ``inside``, when given) whose component
    ``labels`` holds another account, the component named by its smallest account id."""
    if labels is None:
        return None
    ids = account_ids.to_numpy(dtype=object)
    order = np.arange(len(ids)) if account_ids.is_monotonic_increasing else np.argsort(ids, kind="stable")
    found, first = np.unique(labels[order], return_index=True)  # first in id order: the smallest id
    name = np.empty(int(labels.max()) + 1 if len(labels) else 0, dtype=object)
    name[found] = ids[order][first]
    keep = np.bincount(labels)[labels] >= 2 if len(labels) else np.zeros(0, bool)
    if inside is not None:
        keep &= np.asarray(inside, dtype=bool)
    return pd.DataFrame({"account_id": ids[keep], "component": name[labels[keep]]})


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


class StageClock:
    """Wall time per detection stage; tells ``progress`` the name of each stage as it starts."""

    def __init__(self, progress: Callable[[str], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.progress = progress
        self.running: str | None = None
        self.started = time.perf_counter()

    def stage(self, name: str | None) -> None:
        """Close the running stage's clock and start ``name`` (None = finished). The memory
        the allocators kept of the stage's temporaries goes back to the system first."""
        now = time.perf_counter()
        if self.running is not None:
            self.seconds[self.running] = round(now - self.started, 4)
        release_memory()
        self.running, self.started = name, now
        if name is not None and self.progress is not None:
            self.progress(name)


@dataclass
class Focus:
    """A part of the world to detect in: ``accounts`` may form rings (whole components of the
    world's graph); the other accounts of the frames are context (holders of the same identifiers,
    counterparties), read for what they add to counts and payments. ``counts``: kind, key,
    n_accounts of every identifier in the frames, as counted over the whole world."""

    accounts: list[str]
    counts: pd.DataFrame


@dataclass
class Found:
    """What the graph, money-flow, ring and feature stages found: the input of scoring and reasons."""

    graph: IdentityGraph
    candidates: CandidateRings
    flow: MoneyFlow
    config: DetectionConfig
    ring_members: pd.DataFrame  # account_id, ring_id of every member (``assign_ring_ids``)
    next_number: int
    ring_of_cluster: pd.Series  # cluster number -> ring id
    shared: SharedIdentifiers
    ring_features: pd.DataFrame  # index = cluster number
    account_features: pd.DataFrame  # rows in identity-graph order

    @property
    def cluster(self) -> np.ndarray:
        """Cluster number of each account (-1 outside rings)."""
        return self.account_features["cluster"].to_numpy()

    @property
    def in_ring(self) -> np.ndarray:
        return self.cluster >= 0


@dataclass
class Scores:
    """The scoring stage's output, per ring (rows of the ring features) and per account."""

    ring_scorer: RingScorer
    account_scorer: AccountScorer
    ring_score: np.ndarray
    evidence: pd.DataFrame  # evidence strength per ring and code
    anomaly: np.ndarray
    score_of_ring: np.ndarray  # per account: its ring's score (0 outside rings)
    account_score: np.ndarray
    tie: np.ndarray  # per account: how much of its ring's score it takes

    def fitted_baseline(self, graph: IdentityGraph) -> Baseline:
        """The baseline these scores were judged against (hub centres from ``graph``)."""
        return Baseline(
            hub_centres=dict(graph.hub_centres),
            ring_matrix=self.ring_scorer.training_rows_,
            proximity_scale=self.account_scorer.proximity_scale_,
            forest=self.ring_scorer.forest_,
        )


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


def handover(frame: pd.DataFrame) -> Callable[[], pd.DataFrame]:
    """``frame`` as ``detect`` may take its links: a one-shot reader that keeps no reference once
    called, so that ``detect`` holds the only one and lets the links go after the identity graph
    (at 1M accounts the loaded links are about a gigabyte the later stages do not read). The
    caller drops its own reference after this call."""
    return [frame].pop


def detect(
    accounts: pd.DataFrame,
    links: pd.DataFrame | Callable[[], pd.DataFrame],
    transactions: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    seed: int = 0,
    config: DetectionConfig | None = None,
    previous_members: pd.DataFrame | None = None,
    next_ring_number: int = 1,
    progress: Callable[[str], None] | None = None,
    cluster_fn: Callable[[sp.csr_matrix], np.ndarray] | None = None,
    memo: CommunityMemo | None = None,
    baseline: Baseline | None = None,
    focus: Focus | None = None,
    values: Callable[[np.ndarray], pd.Series] | None = None,
) -> Detection:
    """Find, score and explain fraud rings in normalized frames (see ``fraudgraph.model.frames``).

    links: the links frame, or a reader of it (``handover``) to let it go after the graph.
    transactions: the transactions frame, or a reader of it (``handover``), let go once read (``Ledger``).

    as_of: the moment the sweep describes; defaults to the latest timestamp in the data. Links
        first seen and transactions made after it are ignored (they had not happened yet).
    seed: seeds community detection and the IsolationForest: same input and seed, same output.
    previous_members: ring_members of the previous sweep, so surviving rings keep their ids.
    next_ring_number: first number for new ring ids (``Detection.next_ring_number`` of the last sweep).
    progress: called with the name of each stage as it starts (for a progress line on stderr).
    cluster_fn: replaces components + Leiden (e.g. Neo4j GDS): given the symmetric weighted
        account adjacency (CSR, rows in ``accounts`` order), returns a cluster label per row
        (int array, -1 = in no ring). Clusters of one account are dropped.
    memo: Leiden answers by their exact input (``fraudgraph.detection.memo``), reused and
        recorded: the result is the same with or without it, only faster when components kept
        their links since the memo was made.
    baseline: what ordinary looks like (``fraudgraph.detection.baseline``: hub centres, the
        rings the IsolationForest learns from, the proximity scale); fitted on this data when
        not given. The result's ``baseline`` is the one used.
    focus: a part of the world (``Focus``): rings only among its accounts, identifiers counted
        as the whole world counts them. A delta sweep's (``fraudgraph.app.delta``).
    values: when ``links`` come without their raw ``value`` column, a reader of the values at
        some positions of those links (ascending; ``SqliteWorkspace.link_values``): asked after
        the graph, for the links of linking identifiers only, whose spellings the reasons show.
    """
    config = config or DetectionConfig()
    clock = StageClock(progress)
    given = callable(links)  # handed over (``handover``): this call's own, the graph consumes it
    when, *taken = _taken(accounts, (links, transactions, values), as_of, config, clock)
    del links, transactions, values
    graph, ledger = _graph_beside_flow(accounts, taken, config, (baseline, focus, given), clock)
    del taken
    flow = ledger.flow
    clock.stage("rings")
    inside = None if focus is None else isin(graph.account_ids, focus.accounts)
    candidates = find_candidate_rings(graph, flow, config, seed=seed, cluster_fn=cluster_fn, memo=memo, focus=inside)
    components = component_frame(graph.account_ids, candidates.component, inside)
    if candidates.clusters.empty:
        clock.stage(None)
        accounts = accounts.assign(account_id=graph.account_ids)
        empty = _empty_detection(accounts, graph.hubs[HUB_COLUMNS], next_ring_number, when, clock.seconds)
        empty.baseline = baseline if baseline is not None else Baseline(hub_centres=graph.hub_centres)
        empty.components = components
        return empty
    # The rings' ids in a thread beside the features, which do not read them (pandas joins there,
    # numpy kernels here; 1M accounts, three alternations: 3.0-3.2 -> 2.5-2.8 s for both).
    clock.stage("features")
    with ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-ring-ids") as pool:
        numbering = pool.submit(assign_ring_ids, candidates.clusters, previous_members, next_ring_number)
        found = _features(graph, ledger, candidates, numbering.result, (accounts, when), config)
    clock.stage("scoring")
    scores, ident = _scored_and_spelled(found, seed, baseline, clock)
    detection = _explained(found, scores, when, ident)
    detection.baseline = baseline if baseline is not None else scores.fitted_baseline(found.graph)
    detection.components = components
    # The stages' structures go before the clock stops, so that it gives back the pages they used.
    del found, scores, graph, flow, ledger, candidates
    clock.stage(None)
    detection.stage_seconds = clock.seconds
    return detection


def _graph_beside_flow(
    accounts: pd.DataFrame, taken: list, config: DetectionConfig, how: tuple, clock: StageClock
) -> tuple[IdentityGraph, Ledger]:
    """The "graph" stage: the identity graph of the links ``taken`` (``_taken``'s links, values'
    reader, account index and ledger maker; emptied here, so that the graph holds the only
    reference to the links), while the money flow (numpy and Arrow work, mostly without the GIL)
    is taken in a thread: on two cores, 1.5 s of the 1M sweep off its critical path. ``how``:
    the baseline, the focus, and whether the links were handed over."""
    baseline, focus, given = how
    links, values, account_ids, ledger_of = taken
    taken.clear()
    with ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-flow") as pool:
        taking = pool.submit(ledger_of)
        del ledger_of
        clock.stage("graph")
        centres = None if baseline is None else baseline.hub_centres
        counts = None if focus is None else focus.counts
        graph = build_identity_graph(accounts, links, config, centres, counts, consume=given, ids=account_ids)
        del links, account_ids  # the graph keeps what it reads of them (numbers, and some raw values)
        graph.drop_unread(values)
        clock.stage("money_flow")  # what is left of it once the graph is built
        return graph, taking.result()


def _scored_and_spelled(found: Found, seed: int, baseline: Baseline | None, clock: StageClock) -> tuple:
    """The "scoring" stage (``score``), while the shared identifiers' raw spellings (Arrow and
    numpy sorts, mostly without the GIL) are gathered in a thread: they need the graph, not the
    scores. Returns the scores and ``_spelled_identifiers(found)``; the clock is at "reasons"."""
    with ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-spellings") as pool:
        spelled = pool.submit(_spelled_identifiers, found)
        scores = score(found, seed, baseline)
        clock.stage("reasons")
        return scores, spelled.result()


def _taken(
    accounts: pd.DataFrame, given: tuple, as_of, config: DetectionConfig, clock: StageClock
) -> tuple[pd.Timestamp, pd.DataFrame, Callable | None, pd.Index, Callable[[], Ledger]]:
    """What ``detect`` reads of its inputs (``given``: the links and transactions, each a frame or
    a reader, and the reader of the links' values): the as_of (the latest timestamp when not
    given), the links until then and the reader of their values (``_values_until``), the
    accounts' index (the graph's rows) and what takes the ``Ledger`` of the transactions until
    then (they are let go once it has run)."""
    links, transactions = (frame() if callable(frame) else frame for frame in given[:2])
    when = pd.Timestamp(as_of) if as_of is not None else latest_timestamp(accounts, links, transactions)
    if when.tzinfo is not None:
        when = when.tz_convert("UTC").tz_localize(None)
    links, transactions = _until(when, links, transactions)
    account_ids = account_index(accounts)
    return (
        when,
        links,
        _values_until(given[2], links),
        account_ids,
        partial(Ledger.of, transactions, account_ids, config),
    )


def _values_until(values: Callable[[np.ndarray], pd.Series] | None, links: pd.DataFrame):
    """``values`` (a reader of the raw values of the given links by position) for the rows of
    ``links`` (those links until as_of, ``_until``: their positions among the given ones are
    ``links.index``); None when not needed."""
    if values is None or "value" in links:
        return None
    if isinstance(links.index, pd.RangeIndex) and links.index.start == 0 and links.index.step == 1:
        return values
    given = links.index.to_numpy(dtype=np.int64)
    return lambda rows: values(given[rows])


def _explained(found: Found, scores: Scores, when: pd.Timestamp, ident: pd.DataFrame | None = None) -> Detection:
    """``explain`` with the cyclic garbage collector off: it builds millions of small dicts, which
    it would rescan again and again (none of them forms a cycle)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return explain(found, scores, when, ident)
    finally:
        if gc_was_enabled:
            gc.enable()


def _features(
    graph, ledger: Ledger, candidates, numbered: Callable[[], tuple[pd.DataFrame, int]], frames, config
) -> Found:
    """The features stage: ring and account features, time counted back from each ring's clock.
    ``numbered``: what gives the ring members and the next ring number (``assign_ring_ids``),
    asked once the features are made; ``frames``: accounts and the sweep's as_of."""
    accounts, when = frames
    flow = ledger.flow
    table = account_table(accounts, graph, ledger)
    day_ends = ring_clocks(graph, table, candidates.cluster_of, float(when.value) / 86_400e9)
    shared = shared_identifiers(graph, candidates.cluster_of, day_ends, config)
    # The account features in a thread beside the ring features: both read what is above and
    # write nothing of it, and their numpy and pandas kernels let go of the GIL (1M accounts:
    # 1.0-1.2 s one after the other, 0.7-0.8 s so; the same frames).
    with ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-account-features") as pool:
        per_account = pool.submit(account_features, graph, candidates, table, shared, flow, day_ends, config)
        per_ring = ring_features(graph, candidates, table, shared, flow, ledger, day_ends, config)
        ring_members, next_number = numbered()
        ring_of_cluster = _ring_of_cluster(candidates, ring_members)
        per_account_found = per_account.result()
    return Found(
        graph=graph,
        candidates=candidates,
        flow=flow,
        config=config,
        ring_members=ring_members,
        next_number=next_number,
        ring_of_cluster=ring_of_cluster,
        shared=shared,
        ring_features=per_ring,
        account_features=per_account_found,
    )


def _release_for_reasons(found: Found) -> None:
    """Free what the reasons stage does not read (the incidence and first-use matrices, the
    identity and combined adjacencies, every column of the identifiers: kind, key, counts,
    weights and dates): at 1M accounts it is several hundred MB, and the reasons build millions
    of dicts on top of everything still held. (The reasons read the kind and key of the
    identifiers rings share, which ``found.shared.frame`` holds; the identifiers' number stays.)"""
    graph, candidates = found.graph, found.candidates
    graph.identifiers = graph.identifiers[[]]
    graph.kind_code = None
    n_acc, n_ident = graph.incidence.shape
    graph.incidence = sp.csr_matrix((n_acc, n_ident), dtype=np.float32)
    graph.link_first_seen = sp.csr_matrix((n_acc, n_ident), dtype=np.float64)
    candidates.identity_edges = sp.csr_matrix((n_acc, n_acc))
    candidates.adjacency = sp.csr_matrix((n_acc, n_acc))


def detection_key(
    *, data_version: str, as_of: object, seed: int, config: DetectionConfig | None, engine: str
) -> dict[str, object]:
    """What a detection's result depends on besides the stored rings: the data (its version
    token), the requested as_of, the seed, the detection settings and the engine. Two sweeps
    with the same key compute the same detection (``detect_incremental``)."""
    settings = repr(sorted(dataclasses.asdict(config or DetectionConfig()).items()))
    return {
        "data_version": str(data_version),
        "as_of": None if as_of is None else pd.Timestamp(as_of).isoformat(),
        "seed": int(seed),
        "settings": hashlib.sha256(settings.encode()).hexdigest()[:16],
        "engine": str(engine),
    }


def detect_incremental(
    accounts: pd.DataFrame,
    links: pd.DataFrame | Callable[[], pd.DataFrame],
    transactions: pd.DataFrame | None,
    *,
    key: dict[str, object],
    previous_key: dict[str, object] | None,
    previous: Callable[[], Detection] | None,
    memo: CommunityMemo | None = None,
    **options,
) -> tuple[Detection, str]:
    """The incremental entry point: ``detect``'s result, computing only what changed since the
    last sweep. Returns (detection, mode):

    - ``"reused"`` when ``key`` equals the last sweep's ``previous_key`` (``previous()`` then
      rebuilds its stored result, which ``detect`` would reproduce exactly);
    - ``"incremental"`` when community detection reused answers of ``memo`` (components whose
      links did not change; with ``community_per_component`` that is every untouched one);
    - ``"computed"`` otherwise.

    This entry point reads the whole world; it reuses what a whole-world pass can (the stored
    result, remembered Leiden cuts). A sweep that reads only what a delta reaches, which a kept
    ``Baseline`` makes exact, is ``fraudgraph.app.delta`` (``detect(focus=...)``).
    """
    if previous is not None and previous_key is not None and previous_key == key:
        return previous(), "reused"
    detection = detect(accounts, links, transactions, memo=memo, **options)
    return detection, "incremental" if memo is not None and memo.reused else "computed"


def _until(
    as_of: pd.Timestamp, links: pd.DataFrame, transactions: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Links and transactions without what happened after ``as_of`` (the frames themselves, not
    copies, when nothing did: at 1M accounts a copy of the links is a gigabyte)."""
    if "first_seen" in links and len(links):
        later = (links["first_seen"] > as_of).to_numpy()
        if later.any():
            links = links[~later]
    if transactions is not None and len(transactions):
        later = (transactions["timestamp"] > as_of).to_numpy()
        if later.any():
            transactions = transactions[~later]
    return links, transactions


def _ring_of_cluster(candidates: CandidateRings, ring_members: pd.DataFrame) -> pd.Series:
    """Ring id of each cluster number."""
    first = candidates.clusters.drop_duplicates("cluster")  # a cluster's ring is its first member's
    ring_id = ring_members.set_index("account_id")["ring_id"].reindex(first["account_id"]).to_numpy()
    return first.assign(ring_id=ring_id).set_index("cluster")["ring_id"]


def score(found: Found, seed: int, baseline: Baseline | None = None) -> Scores:
    """Score the rings, then each account from its ring's score and how well it fits its patterns;
    ordinary rings and the proximity scale are the ``baseline``'s when given, else these rings'."""
    rf, af, config = found.ring_features, found.account_features, found.config
    ring_scorer = RingScorer(n_estimators=config.isolation_estimators, random_state=seed).fit(
        rf,
        reference=None if baseline is None else baseline.ring_matrix,
        forest=None if baseline is None else baseline.forest,
    )
    ring_score = ring_scorer.score_samples(rf)
    evidence = ring_scorer.evidence(rf)
    account_scorer = AccountScorer(random_state=seed).fit(
        af, proximity_scale=None if baseline is None else baseline.proximity_scale
    )
    cluster, in_ring = found.cluster, found.in_ring
    score_of_ring = np.zeros(len(af))
    score_of_ring[in_ring] = ring_score[cluster[in_ring]]
    ring_patterns = pd.DataFrame(np.zeros((len(af), len(ACCOUNT_PATTERN_CODES))), columns=list(ACCOUNT_PATTERN_CODES))
    ring_patterns.iloc[np.flatnonzero(in_ring)] = evidence[list(ACCOUNT_PATTERN_CODES)].to_numpy()[cluster[in_ring]]
    fit = account_scorer.pattern_fit(af, ring_patterns)
    tie = np.where(
        np.isnan(fit),
        account_scorer.tie(af),
        account_scorer.unfit_factor + (1 - account_scorer.unfit_factor) * np.nan_to_num(fit),
    )
    return Scores(
        ring_scorer=ring_scorer,
        account_scorer=account_scorer,
        ring_score=ring_score,
        evidence=evidence,
        anomaly=ring_scorer.anomaly(rf),
        score_of_ring=score_of_ring,
        account_score=account_scorer.score_samples(af, score_of_ring, ring_patterns),
        tie=tie,
    )


def _spelled_identifiers(found: Found) -> pd.DataFrame:
    """The identifiers the rings share (``found.shared.frame``) with their raw spellings (``values``)."""
    ident = found.shared.frame.copy()
    ident["values"] = found.graph.raw_spellings(ident["identifier"].to_numpy()).to_numpy() if len(ident) else []
    return ident


def explain(found: Found, scores: Scores, as_of: pd.Timestamp, ident: pd.DataFrame | None = None) -> Detection:
    """The reasons stage and the output frames (``found``'s matrices are freed first); ``ident``:
    ``_spelled_identifiers(found)`` when the caller has it."""
    _release_for_reasons(found)
    graph = found.graph
    if ident is None:
        ident = _spelled_identifiers(found)
    graph.links, graph.link_values = graph.links.iloc[:0], None  # read for the spellings only
    # The rings' identifier table in a thread beside their reasons (Python holding the GIL): its
    # Arrow sorts let go of it (1M accounts, four alternations: 2.5-2.9 -> 2.1-2.6 s, the same
    # table). Pickled back from a forked child instead it cost more than it saved: 107 MB.
    with ThreadPoolExecutor(1, thread_name_prefix="fraudgraph-ring-identifiers") as pool:
        tied = pool.submit(_ring_identifier_frame, found, ident)
        reasons = _ring_reason_lists(found, scores, ident)
        ring_identifiers = tied.result()
    ring_ids = found.ring_of_cluster.reindex(found.ring_features.index).to_numpy()
    rf = found.ring_features
    rings = pd.DataFrame(
        {
            "ring_id": ring_ids,
            "size": rf["size"].to_numpy(np.int64),
            "score": scores.ring_score,
            "exposure": rf["exposure"].to_numpy(np.float64),
            "features": _feature_rows(rf),
            "reasons": reasons,
        }
    )
    rings = rings.take(_by_score(rings["score"].to_numpy(np.float64), ring_ids)).reset_index(drop=True)
    features_by_account = found.account_features.drop(columns=["cluster"]).set_axis(
        pd.Index(graph.account_ids, name="account_id")
    )
    return Detection(
        rings=rings[RING_COLUMNS],
        ring_members=found.ring_members[RING_MEMBER_COLUMNS],
        account_scores=_account_scores(found, scores, ring_ids, reasons),
        hubs=graph.hubs[HUB_COLUMNS],
        ring_identifiers=ring_identifiers,
        account_features=features_by_account,
        next_ring_number=found.next_number,
        as_of=as_of,
    )


def _ring_reason_lists(found: Found, scores: Scores, ident: pd.DataFrame) -> list[list[dict]]:
    """Reasons of each ring (rows of the ring features)."""
    af, cluster = found.account_features, found.cluster
    known = af["is_known_fraud"].to_numpy() & found.in_ring
    known_ids = group_lists(cluster[known], found.graph.account_ids.to_numpy()[known])
    top_payees = _top_payees(found.flow, found.candidates.cluster_of, found.graph)
    return ring_reasons(
        found.ring_features,
        scores.evidence,
        scores.anomaly,
        ident,
        known_ids,
        top_payees,
        burst_days=found.config.burst_days,
    )


def _by_score(score: np.ndarray, ring_ids: np.ndarray) -> np.ndarray:
    """The order of rings by score, highest first, then by ring id (NaN scores, missing ids last), as
    ``sort_values(["score", "ring_id"], ascending=[False, True])`` gives it: one numeric sort of
    the ids' ranks instead of pandas' sort of 129k strings (at 1M accounts)."""
    return np.lexsort((text_ranks(pd.Series(ring_ids, dtype=object)), -score))


def _account_scores(found: Found, scores: Scores, ring_ids: np.ndarray, reasons: list[list[dict]]) -> pd.DataFrame:
    """The account_scores frame: score, ring and reasons of every account."""
    af, cluster, in_ring = found.account_features, found.cluster, found.in_ring
    ring_id_of_account = np.full(len(af), None, dtype=object)
    ring_id_of_account[in_ring] = ring_ids[cluster[in_ring]]
    top_text = np.array([r[0]["text"] if r else None for r in reasons], dtype=object)
    ring_top = np.full(len(af), None, dtype=object)
    ring_top[in_ring] = top_text[cluster[in_ring]]
    # Accounts below the explanation floor keep an empty list: at a million accounts, building
    # reasons for every household member costs more than the whole detection.
    acc_score = scores.account_score
    explained = np.flatnonzero(
        (acc_score >= ACCOUNT_REASON_FLOOR) | af["is_known_legit"].to_numpy() | af["is_known_fraud"].to_numpy()
    )
    proximity = af["fraud_proximity"].to_numpy()[explained] / max(scores.account_scorer.proximity_scale_, 1e-12)
    acc_reason_lists: list[list[dict]] = [[] for _ in range(len(af))]
    for pos, rs in zip(
        explained,
        account_reasons(
            af.iloc[explained],
            acc_score[explained],
            scores.tie[explained],
            ring_id_of_account[explained],
            scores.score_of_ring[explained],
            ring_top[explained],
            _shared_with_ring(found, explained),
            np.clip(proximity, 0, 1),
        ),
    ):
        acc_reason_lists[pos] = rs
    return pd.DataFrame(
        {
            "account_id": found.graph.account_ids.array,  # its Arrow strings, not 1M Python ones
            "score": acc_score,
            "ring_id": pd.Series(ring_id_of_account, dtype=object),
            "reasons": acc_reason_lists,
        }
    )[ACCOUNT_SCORE_COLUMNS]


def _shared_with_ring(found: Found, explained: np.ndarray) -> pd.Series:
    """Per explained account (aligned with ``explained``): the (kind, key) it shares with its ring."""
    shared = found.shared
    wanted = np.zeros(len(found.account_features), dtype=bool)
    wanted[explained] = True
    pairs = wanted[shared.member_rows]
    rows = shared.member_frame_rows[pairs]
    pair_values = np.empty(len(rows), dtype=object)
    pair_values[:] = list(zip(shared.frame["kind"].to_numpy()[rows], shared.frame["key"].to_numpy()[rows]))
    return group_lists(shared.member_rows[pairs], pair_values, limit=10).reindex(explained)


def _ring_identifier_frame(found: Found, ident: pd.DataFrame) -> pd.DataFrame:
    """The identifiers that tie each ring together (``Detection.ring_identifiers``)."""
    first_seen = np.where(np.isnan(ident["first_seen_max"]), np.nan, ident["first_seen_max"] * 86_400e9)
    frame = pd.DataFrame(
        {
            "ring_id": found.ring_of_cluster.reindex(ident["cluster"]).to_numpy(),
            "kind": ident["kind"].to_numpy(),
            "key": ident["key"].to_numpy(),
            "n_members": ident["n_members"].to_numpy(np.int64),
            "n_accounts": ident["n_accounts"].to_numpy(np.int64),
            "weight": ident["weight"].to_numpy(np.float64),
            "first_seen": pd.to_datetime(first_seen, unit="ns"),
            "raw_values": ident["values"].to_numpy() if len(ident) else [],
        }
    )[RING_IDENTIFIER_COLUMNS]
    # By ring, most members first, then kind and key: ``sort_values(["ring_id", "n_members",
    # "kind", "key"], ascending=[True, False, True, True])``'s order (missing text last), from
    # the ranks of the text columns (one numeric sort, not pandas' of 364k rows of strings).
    ring, kind, key = (text_ranks(frame[c]) for c in ("ring_id", "kind", "key"))
    order = np.lexsort((key, kind, -frame["n_members"].to_numpy(np.int64), ring))
    return frame.take(order).reset_index(drop=True)


def _feature_rows(rf: pd.DataFrame) -> list[NamedRow]:
    """Ring features as JSON-friendly rows read as dicts (ints stay ints, NaN becomes None),
    their names in sorted order (as a reader of the stored JSON always had them).

    Equal values share one Python object (a column of shares holds a few distinct values over
    100k rings: at 1M accounts, millions of float objects less)."""
    names = sorted(rf.columns)
    columns = []
    for c in names:
        v = rf[c].to_numpy()
        if pd.api.types.is_integer_dtype(v) or pd.api.types.is_bool_dtype(v):
            v = v.astype(np.int64)
        else:
            v = np.round(v.astype(np.float64), 6)
        # By bit pattern: -0.0 stays apart from 0.0, as its JSON does.
        inverse, bits = pd.factorize(v.view(np.int64))
        distinct = bits.view(v.dtype)
        objects = np.array(distinct.tolist() + [None], dtype=object)[:-1]  # Python ints / floats
        if distinct.dtype.kind == "f":
            objects[np.isnan(distinct)] = None
        columns.append(objects[inverse].tolist())
    return NamedRow.table(names, columns)


def _top_payees(flow, cluster_of: np.ndarray, graph: IdentityGraph) -> pd.Series:
    """Per cluster: the account payees paid by the most members (at least two), most shared first."""
    t = flow.counts.tocoo()
    if t.nnz == 0:
        return pd.Series(dtype=object)
    c = cluster_of[t.row]
    pay = pd.DataFrame({"cluster": c, "payee": t.col})
    pay = pay[pay["cluster"] >= 0]
    per = pay.groupby(["cluster", "payee"]).size().rename("n").reset_index()
    # Ties by payee (rows in account id order): the same list whatever else the frame holds.
    per = per[per["n"] >= 2].sort_values(["cluster", "n", "payee"], ascending=[True, False, True], kind="stable")
    per["payee_id"] = graph.account_ids.to_numpy()[per["payee"].to_numpy()]
    return group_lists(per["cluster"].to_numpy(), per["payee_id"].to_numpy(), limit=10)


__all__ = ["DEFAULT_TIERS", "Detection", "Focus", "detect", "detect_incremental", "detection_key", "latest_timestamp"]
