"""Candidate rings: components of the weighted account projection joined with money-flow edges,
big components split by community detection; stable ring ids across sweeps.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fraudgraph.detection.forked import two_halves
from fraudgraph.detection.graph import DetectionConfig, IdentityGraph, positions
from fraudgraph.detection.memo import CommunityMemo, leiden_digest


@dataclass
class MoneyFlow:
    """Account-to-account money flow over the sweep's transactions, on the identity graph's rows.

    transfers: CSR (payer x payee) summed amounts between accounts (declined ones left out).
    counts: CSR (payer x payee) number of transfers.
    n_payers: per account, distinct accounts that paid it.
    amount_in / amount_out: per account, received from and sent to accounts.
    pass_through: per account, paid by many and forwarding most of it (see DetectionConfig).
    """

    transfers: sp.csr_matrix
    counts: sp.csr_matrix
    n_payers: np.ndarray
    amount_in: np.ndarray
    amount_out: np.ndarray
    pass_through: np.ndarray

    @classmethod
    def empty(cls, n_accounts: int) -> MoneyFlow:
        z = sp.csr_matrix((n_accounts, n_accounts), dtype=np.float64)
        zeros = np.zeros(n_accounts)
        return cls(z, z.copy(), zeros.astype(np.int64), zeros, zeros.copy(), zeros.astype(bool))


@dataclass
class CandidateRings:
    """What ring finding produces and the later stages reuse.

    clusters: DataFrame[cluster (int), account_id]; only clusters of two or more accounts.
    cluster_of: per account position, its cluster number or -1.
    identity_edges: symmetric CSR of summed shared-identifier weights (after hub pruning),
        thresholded at ``link_threshold``.
    adjacency: identity edges plus money-flow edges: the graph components were taken on.
    component: the component of each account, unless another engine clustered (``cluster_fn``).
    """

    clusters: pd.DataFrame
    cluster_of: np.ndarray
    identity_edges: sp.csr_matrix
    adjacency: sp.csr_matrix
    component: np.ndarray | None = None  # per account, its connected component in ``adjacency`` (when taken)


def identity_projection(graph: IdentityGraph, config: DetectionConfig) -> sp.csr_matrix:
    """B·diag(w)·Bᵀ over linking identifiers only, thresholded, without the diagonal.

    Hubs and identifiers used by one account have weight 0 and are dropped *before* the product,
    so a shared NAT address cannot produce a quadratic number of pairs.
    """
    weights = graph.linking_weights()
    linking = np.flatnonzero(weights > 0)
    b = graph.incidence[:, linking]
    bw = b @ sp.diags(weights[linking].astype(np.float32))
    proj = (bw @ b.T).tocsr()
    proj.setdiag(0)
    proj.data[proj.data < config.link_threshold - 1e-6] = 0
    proj.eliminate_zeros()
    return proj


def money_flow(
    transactions: pd.DataFrame | None,
    account_ids: pd.Index,
    config: DetectionConfig,
    *,
    payer: np.ndarray | None = None,
) -> MoneyFlow:
    """Account-to-account transfers and the pass-through accounts among them.

    Declined transactions moved no money and are ignored; payments to merchants are not flow
    between accounts. A counterparty that is not a known account is left out.
    """
    n = len(account_ids)
    if transactions is None or len(transactions) == 0:
        return MoneyFlow.empty(n)
    tx = transactions
    mask = (tx["counterparty_kind"] == "account").to_numpy()
    if "status" in tx:
        mask = mask & (tx["status"] != "declined").to_numpy()
    tx = tx.loc[mask, ["counterparty", "amount"]]
    payer = positions(transactions["account_id"][mask], account_ids) if payer is None else payer[mask]
    payee = positions(tx["counterparty"], account_ids)
    ok = (payer >= 0) & (payee >= 0) & (payer != payee)
    payer, payee = payer[ok], payee[ok]
    amount = tx["amount"].to_numpy(np.float64)[ok]
    transfers = sp.csr_matrix((amount, (payer, payee)), shape=(n, n))
    counts = sp.csr_matrix((np.ones(len(payer)), (payer, payee)), shape=(n, n))
    transfers.sum_duplicates()
    counts.sum_duplicates()
    n_payers = np.diff(counts.tocsc().indptr).astype(np.int64)
    amount_in = np.asarray(transfers.sum(axis=0)).ravel()
    amount_out = np.asarray(transfers.sum(axis=1)).ravel()
    pass_through = (n_payers >= config.pass_through_min_payers) & (
        amount_out >= config.pass_through_min_forward * amount_in
    )
    return MoneyFlow(transfers, counts, n_payers, amount_in, amount_out, pass_through)


def money_edges(flow: MoneyFlow, config: DetectionConfig) -> sp.csr_matrix:
    """Symmetric account-account weights: transfers from pass-through accounts to collectors
    (accounts paid by two or more pass-through accounts). A mule's one-off payment to a friend
    does not glue the friend to the network."""
    direct = flow.counts.copy()
    direct.data[:] = 1.0
    direct = (sp.diags(flow.pass_through.astype(np.float64)) @ direct).tocsr()
    direct.eliminate_zeros()
    collector = np.diff(direct.tocsc().indptr) >= 2
    direct = (direct @ sp.diags(collector.astype(np.float64))).tocsr()
    edges = ((direct + direct.T) * config.money_weight).tocsr()
    edges.data = np.minimum(edges.data, config.money_weight)  # both directions count once
    edges.setdiag(0)
    edges.eliminate_zeros()
    return edges


def import_igraph():
    """igraph, imported when community detection first runs (a sweep whose Leiden answers are all
    remembered never imports it). igraph's own import also imports matplotlib and pyplot when they
    are installed, for its plotting, which fraudgraph never uses (the PNG export draws with
    matplotlib directly): about 0.3 s of every sweep. So unless matplotlib is imported already,
    igraph is imported with it hidden; matplotlib itself stays importable afterwards."""
    if "igraph" in sys.modules or "matplotlib" in sys.modules:
        import igraph

        return igraph
    sys.modules["matplotlib"] = None  # `import matplotlib` raises ImportError while this holds
    try:
        import igraph
    finally:
        del sys.modules["matplotlib"]
    return igraph


def _leiden(n_nodes: int, edges: np.ndarray, weights: np.ndarray, config: DetectionConfig, seed: int) -> np.ndarray:
    """One seeded Leiden (CPM) call; the membership of each of the ``n_nodes`` nodes."""
    ig = import_igraph()
    previous_rng = random.getstate()
    ig.set_random_number_generator(random.Random(seed))
    try:
        return _community_leiden(n_nodes, edges, weights, config)
    finally:
        ig.set_random_number_generator(random)
        random.setstate(previous_rng)


def _community_leiden(n_nodes: int, edges: np.ndarray, weights: np.ndarray, config: DetectionConfig) -> np.ndarray:
    """Leiden (CPM) with igraph's random numbers as they are set."""
    parts = (
        import_igraph()
        .Graph(n=n_nodes, edges=edges)
        .community_leiden(
            objective_function="CPM",
            weights=weights,
            resolution=config.resolution,
            n_iterations=-1,
        )
    )
    return np.asarray(parts.membership, dtype=np.int64)


def _remembered_leiden(
    n_nodes: int,
    edges: np.ndarray,
    weights: np.ndarray,
    config: DetectionConfig,
    seed: int,
    memo: CommunityMemo | None,
    rng: random.Random | None = None,
    *,
    whole: bool = False,
    key: bytes | None = None,
) -> np.ndarray:
    """``_leiden``, or its remembered answer for the very same input (``memo``). ``rng``: the
    generator igraph already uses, reseeded here (as ``random.Random(seed)`` would start).
    ``whole``: the nodes are one community without asking Leiden (``_whole_cliques``). ``key``:
    the input's ``leiden_digest``, when the caller has it."""
    if memo is not None and key is None:
        key = leiden_digest(n_nodes, edges, weights, config.resolution, seed)
    found = None if memo is None or key is None else memo.get(key)
    if found is None:
        if whole:
            found = np.zeros(n_nodes, dtype=np.int64)
        elif rng is None:
            found = _leiden(n_nodes, edges, weights, config, seed)
        else:
            import_igraph().set_random_number_generator(rng)
            rng.seed(seed)
            found = _community_leiden(n_nodes, edges, weights, config)
        if memo is not None and key is not None:
            memo.put(key, found)
    return found


def _refine_components(
    adjacency: sp.csr_matrix, nodes: np.ndarray, config: DetectionConfig, seed: int, memo: CommunityMemo | None = None
) -> np.ndarray:
    """Seeded Leiden over the accounts of all components above the size bound, in one call.

    The objective is the constant Potts model (CPM): a group stays together when its internal
    link weight beats ``resolution`` per pair of members. Unlike modularity it has no resolution
    limit, so a ring bridged to a family by one shared Wi-Fi address is cut there however big
    the rest of the graph is, and one call serves every component (communities never cross
    components). Returns a community label per node in ``nodes``. The call's random numbers
    are shared by all components, so its answer can be reused (``memo``) only when none of
    them changed.
    """
    sub = adjacency[nodes][:, nodes].tocoo()
    upper = sub.row < sub.col
    edges = np.column_stack([sub.row[upper], sub.col[upper]])
    return _remembered_leiden(len(nodes), edges, sub.data[upper].astype(np.float64), config, seed, memo)


# Leiden calls (cost as ``_refine_each_component`` weighs them: one a call, a tenth a clique) from
# which half go to a forked child: 14.5k calls at 1M accounts take 1.3 s; a fork and the answers'
# way back, some 0.05 s; a small world's few hundred calls stay in one process.
_FORK_FROM_COST = 3_000.0


def _refine_each_component(
    adjacency: sp.csr_matrix,
    nodes: np.ndarray,
    component: np.ndarray,
    config: DetectionConfig,
    seed: int,
    memo: CommunityMemo | None = None,
) -> np.ndarray:
    """Seeded Leiden on each component above the size bound on its own (``community_per_component``).

    ``nodes``: the accounts of those components (ascending), ``component``: the component of
    each. Each call sees one component, with its accounts numbered in row order, and the same
    seed, so its answer depends on that component only: a sweep after a delta reuses (``memo``)
    the answer of every component whose links did not change. Returns a community label per
    node, unique across components.
    """
    order = np.argsort(component, kind="stable")  # grouped by component, rows ascending inside
    grouped = nodes[order]
    comp = component[order]
    starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]])
    stops = np.r_[starts[1:], len(comp)]
    sub = adjacency[grouped][:, grouped].tocsr()
    sub.sort_indices()
    start_of_row = np.repeat(starts, stops - starts)
    rows = np.repeat(np.arange(len(grouped)), np.diff(sub.indptr))
    upper = rows < sub.indices
    local = np.column_stack([rows - start_of_row[rows], sub.indices - start_of_row[rows]])
    weights = sub.data.astype(np.float64)
    # Entry range of each component (rows are contiguous, so its entries are too).
    entry_start, entry_stop = sub.indptr[starts], sub.indptr[stops]
    whole = _whole_cliques(starts, stops, upper, weights, entry_start, entry_stop, config.resolution)
    tasks = list(zip(starts.tolist(), stops.tolist(), entry_start.tolist(), entry_stop.tolist(), whole.tolist()))

    def run(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, list[bytes | None], tuple[int, int]]:
        """Leiden on components ``lo:hi``: their memberships (one array, and each one's length),
        each one's memo key, and how many calls the memo answered and how many it recorded."""
        counts = (memo.reused, memo.computed) if memo is not None else (0, 0)
        # One generator for all calls, reseeded before each: every call starts where a fresh
        # random.Random(seed) would.
        previous_rng, rng = random.getstate(), random.Random(seed)
        found: list[np.ndarray] = []
        keys: list[bytes | None] = []
        try:
            for start, stop, e0, e1, clique in tasks[lo:hi]:
                keep = upper[e0:e1]
                edges, w = local[e0:e1][keep], weights[e0:e1][keep]
                key = None if memo is None else leiden_digest(stop - start, edges, w, config.resolution, seed)
                keys.append(key)
                # A clique needs no Leiden call, but is remembered as any other cut (a later
                # sweep counts it as reused).
                found.append(_remembered_leiden(stop - start, edges, w, config, seed, memo, rng, whole=clique, key=key))
        finally:
            if "igraph" in sys.modules:  # a call ran (and set igraph's generator to rng)
                sys.modules["igraph"].set_random_number_generator(random)
            random.setstate(previous_rng)
        packed = np.concatenate(found) if found else np.zeros(0, np.int64)
        sizes = np.array([len(f) for f in found], dtype=np.int64)
        done = (0, 0) if memo is None else (memo.reused - counts[0], memo.computed - counts[1])
        return packed, sizes, keys, done

    # The calls' cost, roughly: a clique costs only its digest; a Leiden call grows with its edges.
    cost = np.where(whole, 0.1, 1.0) + (entry_stop - entry_start) / 64
    memberships: list[np.ndarray] = []
    for (packed, sizes, keys, done), here in two_halves(run, cost, min_cost=_FORK_FROM_COST):
        found = np.split(packed, np.cumsum(sizes)[:-1]) if len(sizes) else []
        if not here and memo is not None:  # a child's calls, recorded as one process records them
            for key, membership in zip(keys, found, strict=True):
                if key is not None:
                    memo.used[key] = membership
            memo.reused, memo.computed = memo.reused + done[0], memo.computed + done[1]
        memberships += found
    labels = np.empty(len(grouped), dtype=np.int64)
    offset = 0
    for (start, stop, *_), membership in zip(tasks, memberships, strict=True):
        labels[start:stop] = membership + offset
        offset += int(membership.max()) + 1
    out = np.empty(len(nodes), dtype=np.int64)
    out[order] = labels
    return out


def _whole_cliques(
    starts: np.ndarray,
    stops: np.ndarray,
    upper: np.ndarray,
    weights: np.ndarray,
    entry_start: np.ndarray,
    entry_stop: np.ndarray,
    resolution: float,
) -> np.ndarray:
    """Per component (rows ``starts[i]:stops[i]``, entries ``entry_start[i]:entry_stop[i]``, ``upper``
    marking each pair's entry once): whether every pair of its accounts is linked with a weight
    above the CPM resolution. Such a component is one community, without a Leiden call: joining
    any two parts of it adds ``w - resolution > 0`` per pair across, so the whole is CPM's
    optimum, and Leiden, iterated until nothing moves (``n_iterations=-1``), leaves no two
    communities whose union scores higher (they are gamma-separated), so it ends there too. At
    1M accounts some 30k of the 45k components refined are such cliques (two thirds of the
    stage's Leiden time), households and rings whose members all share one thing."""
    n = stops - starts
    # Counts over each component's entry range, from running sums (a range may be empty).
    weak = np.r_[0, np.cumsum(upper & (weights <= resolution))]
    pairs = np.r_[0, np.cumsum(upper)]
    linked = weak[entry_stop] == weak[entry_start]
    pairs = pairs[entry_stop] - pairs[entry_start]
    return (pairs == n * (n - 1) // 2) & linked


def find_candidate_rings(
    graph: IdentityGraph,
    flow: MoneyFlow | None = None,
    config: DetectionConfig | None = None,
    *,
    seed: int = 0,
    cluster_fn=None,
    memo: CommunityMemo | None = None,
    focus: np.ndarray | None = None,
) -> CandidateRings:
    """Group accounts into candidate rings.

    Components of the thresholded projection (identities plus money flow) are candidates;
    components larger than ``max_community_size`` are refined by seeded Leiden (CPM). Singletons are not
    rings. Cluster numbers are arbitrary; ``assign_ring_ids`` gives stable ids.

    ``cluster_fn`` (adjacency CSR -> label per account, -1 = none) replaces components and
    Leiden, so another engine (Neo4j GDS) can do the clustering on the same projection.
    ``memo`` remembers Leiden answers by their exact input (``fraudgraph.detection.memo``): the
    same labels, without the calls whose input did not change.
    ``focus`` (bool per account): the accounts that may form rings (a delta sweep's reached
    accounts: whole components of the world's graph, so no edge of the world leaves them); the
    others are context, read for their counts and payments, and keep no edge.
    """
    config = config or DetectionConfig()
    n = graph.n_accounts
    identity = identity_projection(graph, config)
    adjacency = identity
    if flow is not None and flow.counts.nnz:
        money = money_edges(flow, config)
        adjacency = (identity + money).tocsr()
        adjacency.data[adjacency.data < config.link_threshold - 1e-6] = 0
        adjacency.eliminate_zeros()
    if focus is not None:
        inside = sp.diags(np.asarray(focus, dtype=np.float64))
        identity = (inside @ identity @ inside).tocsr()
        adjacency = (inside @ adjacency @ inside).tocsr()
        identity.eliminate_zeros()
        adjacency.eliminate_zeros()
    cluster_of = np.full(n, -1, dtype=np.int64)
    labels = None
    if cluster_fn is not None:
        found = np.asarray(cluster_fn(adjacency), dtype=np.int64)
        if found.shape != (n,):
            raise ValueError(f"cluster_fn returned {found.shape} labels; expected one per account ({n})")
        labelled = found >= 0
        sizes = np.bincount(found[labelled]) if labelled.any() else np.zeros(0, np.int64)
        keep = labelled.copy()
        keep[labelled] = sizes[found[labelled]] >= 2
        cluster_of[keep] = found[keep]
    else:
        n_comp, labels = connected_components(adjacency, directed=False)
        sizes = np.bincount(labels, minlength=n_comp)
        ring_like = sizes[labels] >= 2
        small = ring_like & (sizes[labels] <= config.max_community_size)
        cluster_of[small] = labels[small]
        big = np.flatnonzero(sizes[labels] > config.max_community_size)
        if len(big):
            if config.community_per_component:
                community = _refine_each_component(adjacency, big, labels[big], config, seed, memo)
            else:
                community = _refine_components(adjacency, big, config, seed, memo)
            community_sizes = np.bincount(community)
            keep = community_sizes[community] >= 2
            cluster_of[big[keep]] = n_comp + community[keep]

    in_ring = np.flatnonzero(cluster_of >= 0)
    # Renumber densely so clusters are 0..k-1 in order of first member.
    _, dense = np.unique(cluster_of[in_ring], return_inverse=True)
    cluster_of[in_ring] = dense
    clusters = pd.DataFrame({"cluster": dense.astype(np.int64), "account_id": graph.account_ids[in_ring].to_numpy()})
    return CandidateRings(
        clusters=clusters, cluster_of=cluster_of, identity_edges=identity, adjacency=adjacency, component=labels
    )


def _format_ring_id(number: int) -> str:
    return f"R-{number:06d}"


def assign_ring_ids(
    clusters: pd.DataFrame,
    previous_members: pd.DataFrame | None,
    next_number: int,
) -> tuple[pd.DataFrame, int]:
    """Give each cluster a ring id that is stable across sweeps.

    A cluster takes the id of a previous ring when it keeps most of that ring's members
    (overlap > half the old ring) or the two are mostly the same (Jaccard >= 0.5); matching is
    one-to-one, greedy by overlap. Other clusters get fresh ``R-000001``-style ids from
    ``next_number``, numbered in order of size (largest first) then smallest account id, so the
    same input gives the same ids.

    Returns (ring_members DataFrame[ring_id, account_id], next unused number).

    >>> import pandas as pd
    >>> old = pd.DataFrame({"ring_id": ["R-000007"] * 3, "account_id": ["a", "b", "c"]})
    >>> new = pd.DataFrame({"cluster": [0, 0, 1, 1], "account_id": ["a", "b", "x", "y"]})
    >>> members, nxt = assign_ring_ids(new, old, 8)
    >>> sorted(set(zip(members.ring_id, members.account_id)))
    [('R-000007', 'a'), ('R-000007', 'b'), ('R-000008', 'x'), ('R-000008', 'y')]
    >>> nxt
    9
    """
    if next_number < 1:
        raise ValueError(f"next_number must be >= 1, got {next_number!r}")
    clusters = clusters[["cluster", "account_id"]]
    new_sizes = clusters.groupby("cluster").size()
    first_member = clusters.groupby("cluster")["account_id"].min()
    ring_of_cluster: dict[object, str] = {}

    if previous_members is not None and len(previous_members):
        prev = previous_members[["ring_id", "account_id"]]
        old_sizes = prev.groupby("ring_id").size()
        overlap = clusters.merge(prev, on="account_id").groupby(["cluster", "ring_id"]).size()
        if len(overlap):
            ov = overlap.rename("overlap").reset_index()
            ov["new_size"] = new_sizes.reindex(ov["cluster"]).to_numpy()
            ov["old_size"] = old_sizes.reindex(ov["ring_id"]).to_numpy()
            ov["jaccard"] = ov["overlap"] / (ov["new_size"] + ov["old_size"] - ov["overlap"])
            ov = ov[(ov["overlap"] * 2 > ov["old_size"]) | (ov["jaccard"] >= 0.5)]
            ov = ov.sort_values(["overlap", "jaccard", "ring_id"], ascending=[False, False, True], kind="stable")
            used_rings: set[str] = set()
            for cluster, ring_id in zip(ov["cluster"].to_numpy(), ov["ring_id"].to_numpy()):
                if cluster in ring_of_cluster or ring_id in used_rings:
                    continue
                ring_of_cluster[cluster] = ring_id
                used_rings.add(ring_id)

    fresh = pd.DataFrame({"size": new_sizes, "first": first_member})
    fresh = fresh[~fresh.index.isin(list(ring_of_cluster))]
    fresh = fresh.sort_values(["size", "first"], ascending=[False, True], kind="stable")
    for cluster in fresh.index:
        ring_of_cluster[cluster] = _format_ring_id(next_number)
        next_number += 1

    members = pd.DataFrame(
        {
            "ring_id": clusters["cluster"].map(ring_of_cluster).astype(object).to_numpy(),
            "account_id": clusters["account_id"].to_numpy(),
        }
    )
    members = members.sort_values(["ring_id", "account_id"], kind="stable").reset_index(drop=True)
    return members, next_number
