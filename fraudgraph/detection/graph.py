"""The identity graph: a sparse account x identifier matrix with identifier weights and hub pruning.

Built once per sweep from the normalized ``links`` frame and passed to ring finding, features
and scoring. networkx views (``to_networkx``) are for people looking at a few accounts, never
for the hot path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from fraudgraph.detection.keys import factorize_keys, numbered_keys
from fraudgraph.model.codes import first_use_rows

# The detection settings live in the model layer (the workspace configuration builds them);
# re-exported here for the stages that read them.
from fraudgraph.model.config import (
    DEFAULT_KIND_WEIGHTS as DEFAULT_KIND_WEIGHTS,
    PLACE_KINDS as PLACE_KINDS,
    STRONG_KINDS as STRONG_KINDS,
    DetectionConfig as DetectionConfig,
)
from fraudgraph.model.frames import HUB_COLUMNS


@dataclass
class IdentityGraph:
    """Accounts x canonical identifiers, factorized once per sweep.

    account_ids: row order of ``incidence`` (position i is account ``account_ids[i]``).
    identifiers: one row per canonical (kind, key), indexed by column of ``incidence``:
        kind, key, n_accounts, weight (0 for hubs and unshared identifiers), is_hub, first_seen
        (earliest observation), last_first_seen (latest first observation by any account).
    incidence: CSR float32, 1 where the account was seen with the identifier.
    link_first_seen: CSR float64 of the same shape: the account's first use of the identifier in
        days since the epoch (NaN where unknown; an explicit stored value, so the pattern matches).
    hubs: the ``hubs`` frame (kind, key, n_accounts, reason).
    links: the input links that carry identity: ``identifier`` (code), and ``row`` (the link's
        position in the input links) when some input links carry none.
    link_values: the raw ``value`` column of the input links, as given (not copied): evidence
        reads the raw spellings of the few identifiers in rings from it.
    """

    account_ids: pd.Index
    identifiers: pd.DataFrame
    incidence: sp.csr_matrix
    link_first_seen: sp.csr_matrix
    hubs: pd.DataFrame
    links: pd.DataFrame
    kind_code: np.ndarray | None = None  # per identifier: its kind's position in kind_names
    kind_names: np.ndarray | None = None
    link_values: pd.Series | None = None
    hub_centres: dict[str, tuple[float, float]] = field(default_factory=dict)  # (``baseline``)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    def kind_mask(self, kinds) -> np.ndarray:
        """Per identifier: is its kind one of ``kinds`` (from the kind codes, no string compares
        over millions of identifiers)."""
        wanted = [kinds] if isinstance(kinds, str) else list(kinds)
        if self.kind_code is None or self.kind_names is None:
            return self.identifiers["kind"].isin(wanted).to_numpy(bool)
        return np.isin(self.kind_names, wanted).astype(bool)[self.kind_code]

    def kinds(self) -> list[str]:
        """The identifier kinds present, sorted."""
        if self.kind_names is None:
            return sorted(set(self.identifiers["kind"].unique()))
        return sorted(set(self.kind_names.tolist()))

    def keys_of(self, identifier_codes) -> np.ndarray:
        """The keys of some identifiers, as Python strings (only theirs: the ``key`` column may be
        Arrow-backed, and millions of Python strings would cost more than the column)."""
        codes = np.asarray(identifier_codes, dtype=np.int64)
        return self.identifiers["key"].take(codes).to_numpy(dtype=object)

    def linking_weights(self) -> np.ndarray:
        """Per identifier: the weight it contributes to a shared link (0 = never links)."""
        return self.identifiers["weight"].to_numpy()

    def drop_unread(self, values: Callable[[np.ndarray], pd.Series] | None = None) -> None:
        """Let go of what no stage after the graph reads (at 1M accounts about 0.4 GB): the raw
        values of the links to identifiers that link no two accounts (the reasons read the
        spellings of identifiers a ring's members share, which link), the identifiers' dates, and
        their kinds as objects (a category of the kind codes instead, which are narrowed).
        ``values``: when the graph was built from links without their ``value`` column, a reader
        of the values at some positions of those links (ascending), asked for the ones kept."""
        ident = self.links["identifier"].to_numpy()
        keep = self.linking_weights()[ident] > 0
        if self.link_values is not None or values is not None:
            rows = self.links["row"].to_numpy()[keep] if "row" in self.links else np.flatnonzero(keep)
            found = self.link_values.take(rows) if self.link_values is not None else values(rows)  # type: ignore[misc]
            self.link_values = found.reset_index(drop=True)
        self.links = pd.DataFrame({"identifier": ident[keep]})
        _let_go(self.identifiers, ("first_seen", "last_first_seen"))
        if self.kind_code is not None and self.kind_names is not None and len(self.kind_names) < 2**7:
            self.kind_code = self.kind_code.astype(np.int8)
            kinds = pd.Categorical.from_codes(self.kind_code, categories=pd.Index(self.kind_names, dtype=object))
            self.identifiers["kind"] = kinds
        release_memory()

    def raw_spellings(self, identifier_codes: np.ndarray, limit: int = 5) -> pd.Series:
        """The distinct raw values observed for each identifier code (up to ``limit``, in sorted
        order, a missing value last), as lists (after ``drop_unread``, of linking identifiers only)."""
        codes = np.asarray(identifier_codes)
        wanted = np.zeros(len(self.identifiers), dtype=bool)
        wanted[codes] = True
        link_ident = self.links["identifier"].to_numpy()
        picked = np.flatnonzero(wanted[link_ident])
        ids = link_ident[picked]
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        picked = picked[order]
        if "row" in self.links:
            picked = self.links["row"].to_numpy()[picked]
        if self.link_values is None:
            raise ValueError("raw_spellings: this identity graph holds no raw values of its links")
        values = self.link_values.take(picked).reset_index(drop=True)
        if not len(ids):
            return pd.Series([np.nan] * len(codes), index=codes, dtype=object)
        # Distinct (identifier, spelling) pairs in one sort: the spellings numbered in sorted
        # order (a missing one after them all), the pairs' numbers sorted and deduplicated, the
        # first ``limit`` of each identifier kept. Arrow numbers and sorts the spellings (UTF-8's
        # byte order is Python's order of code points): 0.1 s for the 1M picked at 1M accounts,
        # where Python's sort of 600k distinct strings took 1 s. Python only makes the lists.
        spelling, distinct = pd.factorize(values, sort=True, use_na_sentinel=True)
        distinct = np.asarray(distinct, dtype=object)
        missing = spelling < 0
        spelling[missing] = len(distinct)
        pairs = np.unique(ids.astype(np.int64) * (len(distinct) + 1) + spelling)
        pair_ids, pair_spellings = np.divmod(pairs, len(distinct) + 1)
        starts = np.flatnonzero(np.r_[True, pair_ids[1:] != pair_ids[:-1]])
        rank = np.arange(len(pairs)) - np.repeat(starts, np.diff(np.r_[starts, len(pairs)]))
        keep = rank < limit
        # One missing value stands for all of an identifier's: its first link's, as it came.
        first_missing = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
        at = np.flatnonzero(missing)
        holders, first = np.unique(ids[at], return_index=True)
        first_missing[holders] = at[first]
        shown = np.empty(len(distinct) + 1, dtype=object)
        shown[: len(distinct)] = distinct
        kept_ids, kept = pair_ids[keep], pair_spellings[keep]
        objects = shown[kept]
        gap = kept == len(distinct)
        objects[gap] = values.take(first_missing[kept_ids[gap]]).to_numpy(dtype=object)
        bounds = np.flatnonzero(np.r_[True, kept_ids[1:] != kept_ids[:-1], True])
        flat = objects.tolist()
        lists = [flat[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
        spellings = pd.Series(lists, index=kept_ids[bounds[:-1]], dtype=object)
        return spellings.reindex(codes)


def rarity_decay(n_accounts: np.ndarray, scale: float) -> np.ndarray:
    """How much an identifier shared by ``n`` accounts says, relative to one shared by two.

    Idf-like: 1 for a pair, decaying with the log of the crowd, so a device on six phones still
    counts but one on forty counts little.
    """
    n = np.maximum(np.asarray(n_accounts, dtype=np.float64), 2.0)
    return 1.0 / (1.0 + np.log(n / 2.0) / scale)


def epoch_days(values: pd.Series) -> np.ndarray:
    """datetime64 -> float days since the epoch, NaN for NaT."""
    v = pd.to_datetime(values)
    out = v.to_numpy(dtype="datetime64[ns]").view("int64").astype(np.float64) / 86_400e9
    out[v.isna().to_numpy()] = np.nan
    return out


def positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 when absent), as strings, hashed in Arrow:
    several times faster than Index.get_indexer on millions of Python strings. ``index`` must
    be unique (the first position is returned)."""
    found, wanted = _arrow_strings(values, cast=False), _arrow_strings(index)
    if found.type != wanted.type:  # the index takes the values' type: no copy of millions of values
        try:
            wanted = wanted.cast(found.type)
        except pa.ArrowInvalid:  # over 2 GB of index strings: the values take large_string after all
            found = found.cast(wanted.type)
    found = pc.index_in(found, value_set=wanted)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _arrow_strings(values, *, cast: bool = True) -> pa.Array | pa.ChunkedArray:
    """A pandas column or index of strings as an Arrow large_string array (or, without ``cast``,
    string or large_string as it is stored); zero-copy when the column already is Arrow-backed
    (pandas' ``str`` dtype) and needs no cast, so no Python string is created."""
    if values.dtype != object:
        try:
            arr = pa.array(values)
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                return arr.cast(pa.large_string()) if cast else arr
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
    objects = np.asarray(values, dtype=object)
    try:
        return pa.array(objects, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # non-string ids (ints from a hand-made frame)
        return pa.array([str(v) for v in objects], type=pa.large_string())


def _find_hubs(
    identifiers: pd.DataFrame,
    config: DetectionConfig,
    kind_code: np.ndarray,
    kind_names: np.ndarray,
    centres: dict[str, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[float, float]]]:
    """Reason per identifier that is a hub ('' otherwise): over the cap, or anomalous for its kind;
    which identifiers are hubs; and each kind's centre (median, MAD of log counts of its shared
    identifiers): ``centres`` when given (a kept baseline), else fitted here. ``kind_code``: per
    identifier, its kind's position in ``kind_names``."""
    n = identifiers["n_accounts"].to_numpy()
    reason = np.full(len(n), "", dtype=object)
    # Per kind, then per identifier (no string compares over millions of identifiers).
    place = np.isin(kind_names, list(PLACE_KINDS)).astype(bool)[kind_code]
    over_cap = n > np.where(place, min(config.place_hub_cap, config.hub_cap), config.hub_cap)
    is_hub = over_cap.copy()
    reason[over_cap & ~place] = f"shared by more than {config.hub_cap} accounts (hub cap)"
    reason[over_cap & place] = f"a place or network shared by more than {config.place_hub_cap} accounts (hub cap)"
    shared = n >= 2
    log_n = np.log(np.maximum(n, 1))
    fitted = dict(centres) if centres is not None else _hub_centres(log_n, shared, kind_code, kind_names)
    # Each kind's centre spread over its identifiers, one pass over all of them (not one per
    # kind); a kind the baseline never saw shared has none (NaN): only the cap applies to it.
    median_of, mad_of = (
        np.array([fitted[str(k)][part] if str(k) in fitted else np.nan for k in kind_names], dtype=np.float64)
        for part in (0, 1)
    )
    z = (log_n - median_of[kind_code]) / mad_of[kind_code] if len(kind_names) else np.zeros(len(n))
    anomalous = shared & (z > config.hub_robust_z) & (n >= config.hub_min_accounts) & ~over_cap
    said = np.array(
        [f"anomalously many accounts for a {k} (robust z > {config.hub_robust_z:g})" for k in kind_names], dtype=object
    )
    rows = np.flatnonzero(anomalous)
    reason[rows] = said[kind_code[rows]]
    is_hub |= anomalous
    return reason, is_hub, fitted


def _hub_centres(
    log_n: np.ndarray, shared: np.ndarray, kind_code: np.ndarray, kind_names: np.ndarray
) -> dict[str, tuple[float, float]]:
    """Median and MAD (scaled to a standard deviation) of log account counts per kind, over its
    shared identifiers."""
    centres: dict[str, tuple[float, float]] = {}
    for code in np.unique(kind_code[shared]):
        values = log_n[shared & (kind_code == code)]
        median = float(np.median(values))
        # Most shared identifiers are pairs, so the MAD is often 0: floor it at a factor of ~1.3,
        # which keeps small families and rings well below any sensible z.
        mad = max(float(np.median(np.abs(values - median))) * 1.4826, 0.25)
        centres[str(kind_names[code])] = (median, mad)
    return centres


def hub_rows(counts: pd.DataFrame, config: DetectionConfig, centres: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """The ``hubs`` rows (kind, key, n_accounts, reason) of the identifiers in ``counts`` (kind, key,
    n_accounts, counted over the whole world) that are hubs against ``centres``."""
    kinds = counts["kind"].astype(str).to_numpy()
    kind_names, kind_code = np.unique(kinds, return_inverse=True)
    frame = counts[["kind", "key", "n_accounts"]].reset_index(drop=True).astype({"n_accounts": np.int64})
    reason, is_hub, _ = _find_hubs(frame, config, kind_code, kind_names, centres)
    hubs = frame[is_hub].astype({"key": object}).assign(reason=reason[is_hub])
    return hubs.sort_values(["n_accounts", "kind", "key"], ascending=[False, True, True]).reset_index(drop=True)


def _used_links(links: pd.DataFrame, account_ids: pd.Index) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The links that carry an identity (``key`` not None), as numbers: the account's row
    (``account_pos``), first_seen in days and, when some links carry no identity, ``row`` (the
    link's position in ``links``); and those positions (None when every link is used). A link to
    an unknown account is an error.

    No string column is copied: at 1M accounts a copy of the links' strings is a gigabyte."""
    has_key = links["key"].notna().to_numpy()
    rows = None if bool(has_key.all()) else np.flatnonzero(has_key)
    account_pos = positions(links["account_id"], account_ids)
    if rows is not None:
        account_pos = account_pos[rows]
    if (account_pos < 0).any():
        ids = links["account_id"] if rows is None else links["account_id"].take(rows)
        bad = ids.to_numpy()[account_pos < 0][0]
        raise ValueError(
            f"links frame: account_id {bad!r} is not in the accounts frame; expected every link to name a known account"
        )
    used = pd.DataFrame({"account_pos": account_pos.astype(np.int32)})
    if "first_seen" in links:
        used["first_seen"] = epoch_days(links["first_seen"] if rows is None else links["first_seen"].take(rows))
    else:
        used["first_seen"] = np.nan
    if rows is not None:
        used["row"] = rows.astype(np.int32) if len(links) < 2**31 else rows
    return used, rows


def _factorize_identifiers(
    links: pd.DataFrame, rows: np.ndarray | None, used: pd.DataFrame
) -> tuple[np.ndarray, pd.Series, np.ndarray, np.ndarray]:
    """Number the (kind, key) identifiers of the links at ``rows`` (all when None; sets
    ``used["identifier"]``) by first use; returns the kind and key of each identifier number,
    the kind code of each identifier and the kind names (kind code -> name)."""
    # Factorize kind and key once each, then the pairs: the same key under two kinds is two
    # identifiers. Over the whole columns, then the used rows' codes: a missing key has no code,
    # and the kinds are renumbered by their first use, so the numbering is the used links' own.
    kind_codes, kind_names = pd.factorize(links["kind"])
    # pd.factorize's numbering: the load's own (``key_code``) when it has one that fits, else
    # hashed here, without a table of every key string.
    given = numbered_keys(links["key"], links["key_code"].to_numpy()) if "key_code" in links else None
    key_codes, key_names = given if given is not None else factorize_keys(links["key"])
    del given
    # The string hash table is let go at once (Arrow's allocator keeps freed pages otherwise,
    # and the pairs' numbering below would come on top of them: ~0.8 GB at 1M accounts).
    release_arrow_memory()
    if rows is not None:
        key_codes = key_codes[rows]
        kind_codes, seen = pd.factorize(kind_codes[rows])
        kind_names = np.asarray(kind_names, dtype=object)[seen]
    kind_names = np.asarray(kind_names, dtype=object)
    ident_codes, ident_kind_code, ident_key_code = _number_pairs(kind_codes, key_codes, len(key_names))
    del kind_codes, key_codes
    used["identifier"] = ident_codes.astype(np.int32)
    del ident_codes
    ident_kind = kind_names[ident_kind_code]
    # In the keys' own storage: Arrow-backed keys stay Arrow strings (a Python string per
    # identifier is ~0.5 GB at 1M accounts); object keys stay the links' own objects.
    key_index = pd.Index(key_names, dtype=key_names.dtype, copy=False)  # object stays object
    if ident_key_code is None:
        ident_key = pd.Series(key_index, copy=False)  # one identifier per key, numbered alike
    else:
        ident_key = pd.Series(key_index.take(ident_key_code), copy=False)
    return ident_kind, ident_key, ident_kind_code, kind_names


def _number_pairs(
    kind_codes: np.ndarray, key_codes: np.ndarray, n_keys: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Number the (kind code, key code) pairs of the used links by first use (``pd.factorize``'s
    numbering); returns each link's pair number and each pair's kind code and key code (None
    when pair i is key i). ``key_codes`` number the keys by first use (``pd.factorize``), none
    missing.

    When every key is used under one kind only (the usual case: a phone number is not also a
    device id), the pairs are the keys, numbered alike: no hash table of millions of pairs and
    no copy of the keys."""
    if not len(key_codes):
        return key_codes.astype(np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kind_of_key = kind_codes[first_use_rows(key_codes)].astype(np.int64)
    if len(kind_of_key) == n_keys and np.array_equal(kind_of_key[key_codes], kind_codes):
        return key_codes.astype(np.int64, copy=False), kind_of_key, None
    pair = kind_codes.astype(np.int64) * max(n_keys, 1) + key_codes
    ident_codes, ident_pairs = pd.factorize(pair)
    return ident_codes, ident_pairs // max(n_keys, 1), ident_pairs % max(n_keys, 1)


def release_arrow_memory() -> None:
    """Give the memory Arrow's allocator holds for reuse back to the system (mimalloc and
    jemalloc keep freed pages; numpy's arrays, allocated elsewhere, cannot use them)."""
    pa.default_memory_pool().release_unused()


def release_memory() -> None:
    """``release_arrow_memory``, and the C library's free heap pages back to the system (glibc's
    ``malloc_trim``; elsewhere nothing): a stage's freed temporaries otherwise stay resident, and
    the next stage's Python objects come on top of them."""
    release_arrow_memory()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


def _incidence(
    used: pd.DataFrame, n_acc: int, n_ident: int
) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    """The account x identifier incidence and first-use matrices of ``used``, and the identifier
    and first use (days) of each of their entries."""
    # Duplicated observations (same account, same identifier, different spelling) collapse to one
    # entry; first_seen keeps the earliest (NaN only when none is known). One sort by (account,
    # identifier) puts the entries in CSR order, so the matrices need no sorting of their own.
    account_pos = used["account_pos"].to_numpy(np.int64)
    pair = account_pos * max(n_ident, 1) + used["identifier"].to_numpy(np.int64)
    order = np.argsort(pair, kind="stable")
    pair_sorted = pair[order]
    first_of_pair = np.ones(len(pair_sorted), dtype=bool)
    first_of_pair[1:] = pair_sorted[1:] != pair_sorted[:-1]
    starts = np.flatnonzero(first_of_pair)
    fs_sorted = used["first_seen"].to_numpy(np.float64)[order]
    if len(starts) == len(pair_sorted):
        fs = fs_sorted
    else:
        fs = np.fmin.reduceat(fs_sorted, starts) if len(starts) else fs_sorted[:0]
    kept = pair_sorted[starts]
    rows = (kept // max(n_ident, 1)).astype(np.int32)
    cols = (kept % max(n_ident, 1)).astype(np.int32)
    indptr = np.zeros(n_acc + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_acc), out=indptr[1:])
    index_dtype = np.int32 if max(len(cols), n_ident) < 2**31 else np.int64
    indptr = indptr.astype(index_dtype)
    indices = cols.astype(index_dtype)

    incidence = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), indices, indptr), shape=(n_acc, n_ident))
    link_first_seen = sp.csr_matrix((fs.copy(), indices.copy(), indptr.copy()), shape=(n_acc, n_ident))
    incidence.has_sorted_indices = True
    link_first_seen.has_sorted_indices = True
    return cols, fs, incidence, link_first_seen


def _first_and_last(link_first_seen: sp.csr_matrix, n_ident: int) -> tuple[np.ndarray, np.ndarray]:
    """Per identifier (column): the earliest and latest first use by any account (NaN when no
    account's is known)."""
    by_identifier = link_first_seen.tocsc()
    starts = by_identifier.indptr[:-1]
    if n_ident == 0 or by_identifier.nnz == 0:
        return np.full(n_ident, np.nan), np.full(n_ident, np.nan)
    # Every identifier has at least one entry (identifiers are numbered from the links).
    return np.fmin.reduceat(by_identifier.data, starts), np.fmax.reduceat(by_identifier.data, starts)


def _known_counts(n_accounts: np.ndarray, kinds, keys, counts: pd.DataFrame) -> np.ndarray:
    """``n_accounts`` with the counts ``counts`` gives (kind, key, n_accounts) where it has one."""
    known = counts.drop_duplicates(["kind", "key"]).set_index(["kind", "key"])["n_accounts"]
    wanted = pd.MultiIndex.from_arrays([np.asarray(kinds, dtype=object), np.asarray(keys, dtype=object)])
    found = known.reindex(wanted).to_numpy(dtype=np.float64)
    return np.where(np.isnan(found), n_accounts, found).astype(np.int64)


def _let_go(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Remove ``columns`` from ``frame`` itself (their arrays go with them when nothing else holds them)."""
    for column in columns:
        if column in frame:
            del frame[column]


def _numbered_links(links: pd.DataFrame, account_ids: pd.Index, consume: bool) -> tuple[pd.DataFrame, tuple]:
    """``_used_links`` and ``_factorize_identifiers`` of ``links``. With ``consume``, each column
    goes from ``links`` once read (the account ids and dates after the numbering of accounts, the
    kinds and keys after that of identifiers: at 1M accounts about 0.4 GB less at the graph's
    height); only ``value`` stays."""
    used, rows = _used_links(links, account_ids)
    if consume:
        _let_go(links, ("account_id", "first_seen"))
    identifiers = _factorize_identifiers(links, rows, used)
    if consume:
        _let_go(links, ("kind", "key", "key_code"))
        release_arrow_memory()
    return used, identifiers


def account_index(accounts: pd.DataFrame) -> pd.Index:
    """The account ids of ``accounts`` as strings, in their order: the identity graph's rows. A
    duplicated id is an error."""
    account_ids = pd.Index(accounts["account_id"].astype(str).to_numpy(), name="account_id")
    if not account_ids.is_unique:
        dup = account_ids[account_ids.duplicated()][0]
        raise ValueError(f"accounts frame: account_id {dup!r} appears more than once; expected unique ids")
    return account_ids


def build_identity_graph(
    accounts: pd.DataFrame,
    links: pd.DataFrame,
    config: DetectionConfig | None = None,
    hub_centres: dict[str, tuple[float, float]] | None = None,
    counts: pd.DataFrame | None = None,
    *,
    consume: bool = False,
    ids: pd.Index | None = None,
) -> IdentityGraph:
    """Factorize canonical identifiers once and build the weighted account x identifier matrix.

    hub_centres: each kind's typical count (a kept ``Baseline``'s); fitted on these links when
    not given (the graph's ``hub_centres`` say which were used).
    counts: kind, key, n_accounts of identifiers whose holders are not all in ``links`` (a delta
    sweep reads part of the world): their account counts, which weights and hubs are judged by.
    consume: ``links`` is the caller's to give up: each column goes once read (``_numbered_links``).
    ids: ``account_index(accounts)``, when the caller has it already.
    Links whose ``key`` is None carry no identity and are dropped. Links to accounts missing from
    ``accounts`` are an error (the contract stage should have rejected them).

    >>> import pandas as pd
    >>> acc = pd.DataFrame({"account_id": ["a", "b", "c"]})
    >>> lk = pd.DataFrame({"account_id": ["a", "b", "c"], "kind": ["device"] * 3,
    ...                    "value": ["D1", "d1", "x"], "key": ["d1", "d1", None],
    ...                    "first_seen": pd.NaT})
    >>> g = build_identity_graph(acc, lk)
    >>> g.incidence.shape, int(g.identifiers["n_accounts"].iloc[0])
    ((3, 1), 2)
    """
    config = config or DetectionConfig()
    account_ids = account_index(accounts) if ids is None else ids
    used, (ident_kind, ident_key, ident_kind_code, kind_names) = _numbered_links(links, account_ids, consume)
    # Unknown kinds fail here, with the list of known ones.
    kind_weight = np.array([config.weight_of(k) for k in kind_names], dtype=np.float64)
    n_ident = len(ident_kind)
    n_acc = len(account_ids)

    cols, _, incidence, link_first_seen = _incidence(used, n_acc, n_ident)
    # What the rest does not read goes now, not when the graph is built (~0.2 GB at 1M accounts).
    used = used.drop(columns=["account_pos", "first_seen"])
    n_accounts = np.bincount(cols, minlength=n_ident).astype(np.int64)
    del cols
    if counts is not None and len(counts) and n_ident:
        n_accounts = _known_counts(n_accounts, ident_kind, ident_key, counts)
    first, last = _first_and_last(link_first_seen, n_ident)
    identifiers = pd.DataFrame(
        {
            "kind": pd.Series(ident_kind, dtype=object),
            "key": ident_key,
            "n_accounts": n_accounts,
            "first_seen": first,
            "last_first_seen": last,
        }
    )
    hub_reason, is_hub, centres = _find_hubs(identifiers, config, ident_kind_code, kind_names, hub_centres)
    base = kind_weight[ident_kind_code] if n_ident else np.zeros(0)
    weight = base * rarity_decay(n_accounts, config.rarity_scale)
    weight[(n_accounts < 2) | is_hub] = 0.0
    identifiers["weight"] = weight
    identifiers["is_hub"] = is_hub

    hubs = identifiers.loc[is_hub, ["kind", "key", "n_accounts"]].astype({"key": object})
    hubs["reason"] = hub_reason[is_hub]
    hubs = hubs.sort_values(["n_accounts", "kind", "key"], ascending=[False, True, True])
    hubs = hubs.reset_index(drop=True)[HUB_COLUMNS]

    return IdentityGraph(
        account_ids=account_ids,
        identifiers=identifiers,
        incidence=incidence,
        link_first_seen=link_first_seen,
        hubs=hubs,
        links=used,
        kind_code=ident_kind_code,
        kind_names=kind_names,
        link_values=links["value"].reset_index(drop=True) if "value" in links else None,
        hub_centres=centres,
    )


def to_networkx(graph: IdentityGraph, account_ids: list[str] | pd.Index, *, include_hubs: bool = False) -> nx.Graph:
    """Bipartite networkx view of some accounts and the identifiers they use.

    Account nodes are ``("account", id)``, identifier nodes ``(kind, key)``; identifiers used by
    only one of the chosen accounts are kept (a person wants to see them). Node attributes say
    ``type``, ``n_accounts``, ``weight``, ``is_hub``; edges carry ``first_seen`` (days since epoch).

    >>> import pandas as pd
    >>> acc = pd.DataFrame({"account_id": ["a", "b"]})
    >>> lk = pd.DataFrame({"account_id": ["a", "b"], "kind": ["phone", "phone"],
    ...                    "value": ["1", "1"], "key": ["1", "1"], "first_seen": pd.NaT})
    >>> sorted(to_networkx(build_identity_graph(acc, lk), ["a", "b"]).nodes)
    [('account', 'a'), ('account', 'b'), ('phone', '1')]
    """
    positions = graph.account_ids.get_indexer(pd.Index(list(account_ids), dtype=object))
    missing = [a for a, p in zip(account_ids, positions) if p < 0]
    if missing:
        raise ValueError(f"to_networkx: account_id {missing[0]!r} is not in the identity graph")
    g = nx.Graph()
    sub = graph.incidence[positions].tocoo()
    fs = graph.link_first_seen[positions].tocoo()
    idents = graph.identifiers
    for acc in graph.account_ids[positions]:
        g.add_node(("account", acc), type="account")
    for r, c, when in zip(sub.row, sub.col, fs.data):
        row = idents.iloc[c]
        if row["is_hub"] and not include_hubs:
            continue
        node = (row["kind"], row["key"])
        if node not in g:
            g.add_node(
                node,
                type="identifier",
                kind=row["kind"],
                n_accounts=int(row["n_accounts"]),
                weight=float(row["weight"]),
                is_hub=bool(row["is_hub"]),
            )
        g.add_edge(
            ("account", graph.account_ids[positions[r]]),
            node,
            first_seen=None if np.isnan(when) else float(when),
        )
    return g
