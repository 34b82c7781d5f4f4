"""A delta sweep: detection recomputed only where the changes since the last sweep reach.

A ring's result depends only on its own component's data and the kept baseline
(``fraudgraph.detection.baseline``). So after a small delta a sweep:

1. reads what changed since the last sweep from the workspace's change log: the accounts whose
   rows were written and the identifiers a written link holds or held;
2. finds what that reaches, by keyed reads: every account on a changed identifier whose weight
   or hub status the change moves, the accounts they pay, their neighbours (identity edges as
   detection draws them, with a margin, and money edges from pass-through accounts), and the
   whole components of the last sweep that hold any of them (``components_of``);
3. detects in that part of the world alone (``detect(focus=...)``): rings only among the reached
   accounts, identifiers counted over the whole world, holders and counterparties read as context;
4. splices the result into the stored one: the rows of reached accounts, of their old and new
   rings and of the identifiers they use are replaced; every other row is kept.

The result is the one a full sweep with the same baseline gives (``tests/test_delta.py``
compares them after random deltas, ring ids included).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fraudgraph.detection.baseline import Baseline
from fraudgraph.detection.graph import DetectionConfig, build_identity_graph, hub_rows
from fraudgraph.detection.pipeline import Detection, Focus, detect
from fraudgraph.detection.rings import identity_projection, money_edges, money_flow
from fraudgraph.model.frames import ACCOUNT_SCORE_COLUMNS, HUB_COLUMNS

# Identity edges within this much of the threshold count as edges while the reach is drawn: the
# reach may hold a little more than the components (harmless), never less (the float32 sums
# of a pair's weights may be added in another order than a full sweep adds them).
_MARGIN = 1e-3
_NO_LIMIT = 1 << 62
_CHUNK = 5_000


def rows_of(ws, name: str, column: str, values) -> pd.DataFrame:
    """``ws.table(name)`` rows whose ``column`` is one of ``values``, asked in chunks (a query
    names at most a few thousand values)."""
    values = sorted(set(values))
    chunks = [ws.table(name, **{column: values[i : i + _CHUNK]}) for i in range(0, len(values), _CHUNK)]
    return pd.concat(chunks, ignore_index=True) if chunks else ws.table(name, **{column: []})


@dataclass
class Reach:
    """What a delta reaches: ``accounts`` (whole components; detection reruns for them),
    ``counts`` (kind, key, n_accounts over the whole world) of every identifier they use or the
    delta touched, and which of those are hubs against the baseline."""

    accounts: list[str]
    counts: pd.DataFrame
    hubs: pd.DataFrame  # the hub rows (``hub_rows``) of the identifiers in ``counts``
    links: pd.DataFrame  # the links of ``accounts``
    holders: pd.DataFrame  # other accounts' links on an identifier they use that is not a hub
    paid: _Transactions  # the transactions read so far, by account


class _Counts:
    """Account counts of identifiers over the whole world, read once each."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.known = pd.DataFrame(columns=["kind", "key", "n_accounts"])

    def of(self, pairs: pd.DataFrame) -> pd.DataFrame:
        pairs = pairs[["kind", "key"]].drop_duplicates()
        have = pd.MultiIndex.from_frame(self.known[["kind", "key"]]) if len(self.known) else None
        wanted = pd.MultiIndex.from_frame(pairs)
        missing = pairs[~wanted.isin(have)] if have is not None else pairs
        if len(missing):
            # The count alone where the workspace can give it (SQLite: on the identifier index).
            count = getattr(self.ws, "identifier_account_counts", None) or self.ws.identifier_counts
            found = count(missing)[["kind", "key", "n_accounts"]]
            # An identifier no link holds any more (a key changed away from it) counts 0.
            gone = missing.merge(found[["kind", "key"]], how="left", indicator=True)
            gone = gone[gone["_merge"] == "left_only"][["kind", "key"]].assign(n_accounts=0)
            self.known = pd.concat([self.known, found, gone], ignore_index=True)
        return self.known.merge(pairs, on=["kind", "key"])


class _Transactions:
    """Transactions of accounts (either side), each account's read from the workspace once: the
    reach and the detection frames ask for overlapping sets of accounts."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.rows: pd.DataFrame | None = None
        self.read: set[str] = set()

    def of(self, ids) -> pd.DataFrame:
        """``ws.transactions(ids)``: every transaction paid or received by one of ``ids``, by txn_id."""
        ids = set(ids)
        missing = sorted(ids - self.read)
        if missing or self.rows is None:
            fresh = self.ws.transactions(missing)
            if self.rows is None or self.rows.empty:
                self.rows = fresh
            elif len(fresh):
                both = pd.concat([self.rows, fresh], ignore_index=True)
                self.rows = both.drop_duplicates("txn_id").reset_index(drop=True)
            self.read |= set(missing)
        rows = self.rows
        mine = _among(rows["account_id"], ids) | _among(rows["counterparty"], ids)
        return rows[mine].sort_values("txn_id").reset_index(drop=True)


def find_reach(
    ws, changed: tuple[set[str], set[tuple[str, str]]], baseline: Baseline, config: DetectionConfig
) -> Reach:
    """The accounts a delta reaches (see the module's docstring), from its changed accounts and
    identifiers. ``ws.table('hubs')`` says which identifiers were hubs at the last sweep, and
    ``ws.components_of`` which accounts its components held."""
    accounts, pairs = changed
    counts = _Counts(ws)
    seeds = set(accounts)
    before = ws.table("hubs")  # the hubs of the last sweep
    if pairs:
        touched = counts.of(pd.DataFrame(sorted(pairs), columns=["kind", "key"]))
        was_hub = pd.MultiIndex.from_frame(touched[["kind", "key"]]).isin(
            pd.MultiIndex.from_frame(before[["kind", "key"]].astype(str))
        )
        now_hub = pd.MultiIndex.from_frame(touched[["kind", "key"]]).isin(
            pd.MultiIndex.from_frame(hub_rows(touched, config, baseline.hub_centres)[["kind", "key"]])
        )
        # A hub before and after links nobody either way; any other change moves its holders' weights.
        moved = touched[~(was_hub & now_hub)]
        if len(moved):
            holders = ws.accounts_of(list(moved[["kind", "key"]].itertuples(index=False, name=None)), _NO_LIMIT)
            seeds |= set(holders["account_id"].astype(str))
    paid = _Transactions(ws)
    reached = sorted(_components(ws, seeds, (counts, paid), baseline, config))
    links = ws.links(reached)
    used = links.loc[links["key"].notna(), ["kind", "key"]].drop_duplicates()
    holders = _count_used(ws, (used, before, set(reached)), counts, pairs, baseline, config)
    everything = pd.concat([used, pd.DataFrame(sorted(pairs), columns=["kind", "key"])], ignore_index=True)
    known = counts.of(everything)
    hubs = hub_rows(known, config, baseline.hub_centres)
    return Reach(accounts=reached, counts=known, hubs=hubs, links=links, holders=holders, paid=paid)


def _count_used(ws, identifiers: tuple, counts: _Counts, changed: set, baseline: Baseline, config) -> pd.DataFrame:
    """Count the identifiers ``used`` by the reached accounts (``identifiers``: them, the last
    sweep's hub rows and the reached accounts) and read the other accounts' links on those that
    are not hubs (returned: detection reads those holders as context; the reached accounts' own
    links are read already). An identifier the delta did not touch (not in ``changed``) has the
    count it had at the last sweep, so it is a hub now exactly when it was then: those are
    counted on the index, the others from their holders (one pass over the index, not two)."""
    used, hubs_before, inside = identifiers
    before = hubs_before[["kind", "key"]].astype(str).assign(hub=True)
    fresh = used.merge(counts.known[["kind", "key"]].assign(counted=True), how="left").merge(before, how="left")
    untouched = ~pd.MultiIndex.from_frame(fresh[["kind", "key"]]).isin(list(changed))
    counts.of(fresh[fresh["counted"].isna() & fresh["hub"].notna() & untouched])  # the last sweep's hubs
    uncounted = fresh[fresh["counted"].isna() & ~(fresh["hub"].notna() & untouched)][["kind", "key"]]
    counted = counts.known.merge(used, on=["kind", "key"])
    hubs_now = hub_rows(counted, config, baseline.hub_centres)[["kind", "key"]].assign(hub=True)
    read = pd.concat([uncounted, counted.merge(hubs_now, how="left").query("hub.isna()")[["kind", "key"]]])
    read = read.drop_duplicates()
    # Who holds each (the identifier index alone: no link row is read for it).
    on = ws.accounts_of(list(read.itertuples(index=False, name=None)), _NO_LIMIT)
    found = on.groupby(["kind", "key"], sort=False)["account_id"].nunique().rename("n_accounts").reset_index()
    counts.known = pd.concat([counts.known, found.merge(uncounted, on=["kind", "key"])], ignore_index=True)
    outside = sorted(set(on["account_id"].astype(str)) - inside)
    theirs = ws.links(outside)  # by account: their rows lie together
    return theirs.merge(read.astype({"kind": str}), on=["kind", "key"])


def _components(ws, seeds: set[str], read: tuple, baseline: Baseline, config: DetectionConfig) -> set[str]:
    """Every account connected to ``seeds`` by an identity or money edge now.

    Only the edges of ``seeds`` and of the accounts they pay can have changed since the last
    sweep: an identifier's weight moves only with its count (its holders are seeds), an
    account's money edges only with its own payments (it is a seed) or, for a collector, with
    whether its payers pass money on (it is paid by a seed). Every other edge joins two
    accounts of one of the last sweep's components. So the accounts joined now are those
    accounts, their neighbours, and whole components of the last sweep around them: one hop,
    then one keyed read (``ws.components_of``), however far the components stretch."""
    counts, txns = read  # the identifier counts and transactions read so far (``_Counts``, ``_Transactions``)
    paid = _payees(txns.of(seeds), seeds)
    changed = sorted(seeds | paid)
    first = txns.of(changed)  # the transactions of every changed account
    loose = dataclasses.replace(config, link_threshold=config.link_threshold - _MARGIN)
    near = set(changed) | _identity_neighbours(ws, changed, counts, baseline, loose)
    near |= _money_neighbours(txns, changed, config, first)
    stored = ws.components_of(sorted(near))
    return near | set(stored["account_id"].astype(str))


def _payees(transactions: pd.DataFrame, ids: set[str]) -> set[str]:
    """The accounts ``ids`` pay in ``transactions``."""
    paid = transactions
    paid = paid[(paid["counterparty_kind"] == "account") & _among(paid["account_id"], ids)]
    return set(paid["counterparty"].astype(str))


def _identity_neighbours(ws, ids: list[str], counts: _Counts, baseline: Baseline, loose: DetectionConfig) -> set[str]:
    """Accounts whose shared identifiers with one of ``ids`` weigh (nearly) a link: the pair's
    weight is summed over the identifiers of ``ids``, which are all the pair shares."""
    own = ws.identifiers_of(ids)
    if own.empty:
        return set()
    known = counts.of(own)
    linking = known.merge(hub_rows(known, loose, baseline.hub_centres)[["kind", "key"]], how="left", indicator=True)
    linking = linking[(linking["_merge"] == "left_only") & (linking["n_accounts"] >= 2)]
    if linking.empty:
        return set()
    holders = ws.accounts_of(list(linking[["kind", "key"]].itertuples(index=False, name=None)), _NO_LIMIT)
    holders = holders.assign(account_id=holders["account_id"].astype(str), value=holders["key"], first_seen=pd.NaT)
    accounts = pd.DataFrame({"account_id": sorted(set(holders["account_id"]) | set(ids))})
    graph = build_identity_graph(accounts, holders, loose, baseline.hub_centres, known)
    projection = identity_projection(graph, loose).tocsr()
    rows = np.flatnonzero(graph.account_ids.isin(ids))
    return set(graph.account_ids.to_numpy()[projection[rows].indices])


def _money_neighbours(txns: _Transactions, ids: list[str], config: DetectionConfig, first: pd.DataFrame) -> set[str]:
    """Accounts a money edge may join to one of ``ids``: a pass-through account's payees (any
    could be a collector), and the pass-through payers of a collector among ``ids``. Pass-through
    is judged on every transaction of the account (its counterparties' are read too).
    ``first``: the transactions of ``ids`` (``txns.of(ids)``)."""
    paid = first[(first["counterparty_kind"] == "account") & (first["status"] != "declined")]
    if paid.empty:
        return set()
    others = sorted(_parties(paid) - set(ids))
    both = pd.concat([first, txns.of(others)], ignore_index=True).drop_duplicates("txn_id")
    index = pd.Index(sorted(_parties(both) | set(ids)))
    flow = money_flow(both, index, config)
    mine = index.isin(ids)
    edges = money_edges(flow, config).tocsr()
    near = set(index[edges[np.flatnonzero(mine)].indices])
    spreading = sp.diags((flow.pass_through & mine).astype(np.float64)) @ flow.counts
    return near | set(index[spreading.tocsr().indices])


def detect_reach(
    ws, reach: Reach, *, as_of, seed: int, config, baseline: Baseline, memo, previous, next_number
) -> tuple[Detection, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """Detection in the reached part of the world (``detect(focus=...)``); ``previous``: the
    reached accounts' ring members before it (whole rings: a ring lies in one component). Also
    returns the frames it read (``decided_frames`` takes the reached accounts' rows from them)."""
    accounts, links, transactions = frames = _reach_frames(ws, reach)
    return detect(
        accounts,
        links,
        transactions,
        as_of=as_of,
        seed=seed,
        config=config,
        previous_members=previous,
        next_ring_number=next_number,
        memo=memo,
        baseline=baseline,
        focus=Focus(accounts=reach.accounts, counts=reach.counts),
    ), frames


def decided_frames(
    ws, frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None, inside: list[str], outside: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The accounts, links and transactions of the accounts a delta sweep decides: of the reached
    ones (``inside``) taken from the ``frames`` detection read (their own rows are all there; the
    context accounts' are not, and are left out), of the others read now."""
    if frames is None:
        ids = sorted(set(inside) | set(outside))
        return ws.accounts(ids), ws.links(ids), ws.transactions(ids)
    accounts, links, transactions = frames
    mine = set(inside)
    accounts = accounts[_among(accounts["account_id"], mine)]
    links = links[_among(links["account_id"], mine)]
    if outside:
        accounts = pd.concat([accounts, ws.accounts(outside)], ignore_index=True)
        links = pd.concat([links, ws.links(outside)], ignore_index=True)
        transactions = pd.concat([transactions, ws.transactions(outside)], ignore_index=True)
        transactions = transactions.drop_duplicates("txn_id").sort_values("txn_id", kind="stable")
    return _in_order(accounts, links, transactions)


def _reach_frames(ws, reach: Reach) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The reached accounts with their links and transactions, and as context: the other holders
    of their linking identifiers (with their links on those only: raw spellings), and their
    account counterparties with every transaction of theirs (whether a payer passes money
    through is judged on all its payments), whose own counterparties are rows too (counted as
    payers)."""
    accounts = ws.accounts(reach.accounts)
    links = reach.links
    transactions = reach.paid.of(reach.accounts)
    hubs = reach.hubs[["kind", "key"]].assign(hub=True)
    used = links.loc[links["key"].notna(), ["kind", "key"]].drop_duplicates().merge(hubs, how="left")
    used = used[used["hub"].isna()][["kind", "key"]]
    inside = set(reach.accounts)
    holders = reach.holders.merge(used, on=["kind", "key"])  # other accounts' links: all context
    context = set(holders["account_id"].astype(str))
    payers = _parties(transactions) - inside
    if payers:
        transactions = reach.paid.of(inside | payers)
    context |= _parties(transactions) - inside
    if context:
        accounts = pd.concat([accounts, ws.accounts(sorted(context))], ignore_index=True)
        links = pd.concat([links, holders[links.columns]], ignore_index=True)
    return _in_order(accounts, links, transactions)


def _in_order(
    accounts: pd.DataFrame, links: pd.DataFrame, transactions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The frames as the workspace gives them: accounts by id, links by (account, kind, value),
    transactions (sorted by txn_id already) indexed from 0."""
    accounts = accounts.sort_values("account_id", kind="stable").reset_index(drop=True)
    links = links.sort_values(["account_id", "kind", "value"], kind="stable").reset_index(drop=True)
    return accounts, links, transactions.reset_index(drop=True)


def _among(values: pd.Series, ids: set[str]) -> np.ndarray:
    """Which of ``values`` (account ids) are in ``ids``: a set lookup per value, 3-4x faster than
    ``Series.isin`` on Arrow-backed strings, which converts the set to an Arrow array per call."""
    return np.fromiter((v in ids for v in values.tolist()), dtype=bool, count=len(values))


def _parties(transactions: pd.DataFrame) -> set[str]:
    """Every account on either side of ``transactions``."""
    account_paid = transactions["counterparty_kind"] == "account"
    return set(transactions["account_id"].astype(str)) | set(transactions.loc[account_paid, "counterparty"].astype(str))


def scoped(
    ws, stored_members: pd.DataFrame, part: Detection | None, reach: Reach, baseline: Baseline, *, as_of
) -> tuple[Detection, list[str]]:
    """What a delta sweep writes in place of the reached part of the stored results: the reached
    accounts' rings, members, identifiers and scores (``part``'s; default rows included) and the
    hub rows of every identifier the reach counted; and the ids of the rings it replaces (the old
    rings of ``stored_members``, the reached accounts' ring members before it, and the new ones)."""
    inside = set(reach.accounts)
    if part is None:  # the changes reached no account (an unchanged reload): nothing but hubs
        part = Detection(
            rings=rows_of(ws, "rings", "ring_id", []),
            ring_members=stored_members.iloc[:0],
            account_scores=pd.DataFrame(columns=ACCOUNT_SCORE_COLUMNS),
            hubs=pd.DataFrame(columns=HUB_COLUMNS),
            ring_identifiers=rows_of(ws, "ring_identifiers", "ring_id", []),
            account_features=pd.DataFrame(),
            next_ring_number=ws.next_ring_number(),
            as_of=pd.Timestamp(as_of),
        )
    scores = part.account_scores[part.account_scores["account_id"].isin(inside)].reset_index(drop=True)
    detection = Detection(
        rings=part.rings,
        ring_members=part.ring_members,
        account_scores=scores,
        hubs=reach.hubs[HUB_COLUMNS],
        ring_identifiers=part.ring_identifiers,
        account_features=pd.DataFrame(),
        next_ring_number=part.next_ring_number,
        as_of=pd.Timestamp(as_of),
        baseline=baseline,
        components=part.components
        if part.components is not None
        else pd.DataFrame(columns=["account_id", "component"]),
    )
    replaced = sorted(set(stored_members["ring_id"]) | set(part.ring_members["ring_id"]))
    return detection, replaced
