"""Who holds an identifier, kept as small columnar parts instead of a row per link in SQLite.

Each link that carries an identity makes one holder row (h, account_id, value): h the
identifier's 64-bit hash (``linkrows.identifier_hashes``), the account and the raw spelling.
At 1M accounts that is 8.5M rows: inserted into a SQLite table one by one they were the biggest
part of a load's own work (8 s, bound one value at a time, and 435 MB of B-tree). A load that
rewrites the snapshot whole now writes them as the ``holders`` snapshot instead: sorted by hash
in parts of about ``ROWS_PER_PART`` rows, each Arrow IPC (uncompressed) and knowing its first and
last hash, a hash never split between two parts; they are encoded in a background thread while
SQLite writes the other tables (about 390 MB at 1M accounts), and one part is read and decoded in
about 0.08 ms.

The loads in between (a ``check --apply`` event, a daily delta) change a few holders: the rows
they add go into ``identifier_accounts`` and the parts' rows they remove into ``identifier_gone``,
both small SQLite tables emptied by the next whole rewrite. Who holds an identifier is its
parts' rows less the gone ones, with the added ones (``rows``). A workspace of schema 3 has every
holder in ``identifier_accounts`` and no parts: read the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudgraph.workspace.sqlite import linkrows

NAME = "holders"  # the snapshot's name in the ``snapshots`` table
ADDED = linkrows.IDENTIFIER_ACCOUNTS
GONE = "identifier_gone"
COLUMNS = ["h", "account_id", "value"]

# Rows per part (a part runs on to the end of the hash it reaches, so one identifier's holders are
# in one part). 4k rows: a part is read in about 0.06 ms and decoded in 0.02 ms.
ROWS_PER_PART = 4096

# Parts whose rows are taken from the links' columns at once (``Parts.encoded``): some 64 MB of text.
_PARTS_TAKEN = 256

_SCHEMA = pa.schema([("h", pa.int64()), ("account_id", pa.string()), ("value", pa.string())])
# Not compressed: LZ4 saved only 15% of the bytes (random hashes, short texts) and took ten times
# as long to decode (0.2 ms a part; an account's page reads a hundred parts, a check a few).
# Parts written compressed (before) are read all the same.
_OPTIONS = pa.ipc.IpcWriteOptions(compression=None)


def hash_text(h: int) -> str:
    """A hash as the text a part's range holds: 16 hex digits of it as unsigned, so that text order
    is number order."""
    return format(int(h) + (1 << 63), "016x")


def encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, _SCHEMA, options=_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode(data: bytes) -> pa.Table:
    with pa.ipc.open_stream(pa.BufferReader(data)) as reader:
        return reader.read_all()


def _part_ends(h: np.ndarray, size: int) -> list[int]:
    """Where each part ends: every ``size`` rows, moved on to the end of the hash it falls in."""
    ends, at = [], 0
    while at < len(h):
        end = min(at + size, len(h))
        if end < len(h) and h[end] == h[end - 1]:
            end = int(np.searchsorted(h, h[end - 1], side="right"))
        ends.append(end)
        at = end
    return ends


@dataclass
class Parts:
    """The ``holders`` parts of every link of ``links`` (its rows with a key), made by ``encoded``
    (in a load's background thread). Known once their hashes are ordered: ``collisions``, the
    hashes two of its identifiers share; and, worked out from that order (``numbered``), the
    links' key numbers the snapshot stores (``key_codes``) and the counts ``status`` shows
    (``kind_counts``): no second hashing of every key."""

    links: pd.DataFrame
    lock: Any = field(default_factory=threading.Lock)  # held while every key is hashed and ordered
    collisions: list[int] = field(default_factory=list)
    _numbers: tuple[np.ndarray, dict[str, list[int]]] | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    def encoded(self) -> Iterator[tuple[str, int, int, bytes, str | None, str | None]]:
        try:
            with self.lock:
                h, rows = linkrows.index_rows(self.links)
                self.collisions = linkrows.colliding(h, rows, self.links["kind"], self.links["key"])
                self._numbers = None if self.collisions else numbered(self.links, h, rows)
        finally:
            self._ready.set()  # whatever happened: nobody waits for ever
        # The columns as they are (chunks and all): a copy of them would be gigabytes at 10M accounts.
        account = linkrows.text_array(self.links["account_id"], combine=False)
        value = linkrows.text_array(self.links["value"], combine=False)
        ends = _part_ends(h, ROWS_PER_PART)
        start, i = 0, 0
        while i < len(ends):
            # The rows of many parts taken at once, then sliced: a take from a column of hundreds
            # of chunks costs milliseconds a call (2,000 parts at 1M accounts: 3.6 s of one core).
            last = min(i + _PARTS_TAKEN, len(ends))
            first = start
            taken = pa.array(rows[first : ends[last - 1]])
            texts = [column.take(taken).cast(pa.string()) for column in (account, value)]
            for at in range(i, last):
                end = ends[at]
                sliced = [t.slice(start - first, end - start) for t in texts]
                table = pa.table([pa.array(h[start:end]), *sliced], schema=_SCHEMA)
                yield NAME, at, end - start, encode(table), hash_text(h[start]), hash_text(h[end - 1])
                start = end
            i = last

    def key_codes(self) -> np.ndarray | None:
        """``detection.keys.key_codes`` of the links' keys, once ``encoded`` has ordered the hashes;
        None when it could not tell them (hashes shared, or it failed)."""
        self._ready.wait()
        return None if self._numbers is None else self._numbers[0]

    def kind_counts(self) -> dict[str, list[int]] | None:
        """``store.kind_counts`` of the links, as ``key_codes`` is."""
        self._ready.wait()
        return None if self._numbers is None else self._numbers[1]


def _key_numbers(ordered: np.ndarray) -> np.ndarray:
    """The key number of each identifier in first-use order, from its key's string hash
    (``ordered``, in that order): numbered in that order, an identifier whose key hash an earlier
    one has taking that one's number. Which hashes repeat is screened by counts of three windows
    of their bits, a slice at a time, and only the few that share all three are sorted. The 7.4M
    identifiers of 1M accounts in about 0.5 s (a factorize of their hashes took 1.7 s)."""
    m = len(ordered)
    ix = np.int32 if m < 2**31 else np.int64
    maybe: np.ndarray | None = None  # None: every identifier
    for shift in (0, 21, 42):  # three windows of the hash's bits: a repeated hash stays in all three
        count = m if maybe is None else len(maybe)
        if count < _SCREEN_FROM:  # few enough to sort as they are
            break
        bits = min(24, max(16, int(2 * count - 1).bit_length()))  # at most 16M buckets (128 MB)
        mask, by = np.uint64((1 << bits) - 1), np.uint64(shift)

        def buckets(at: int, maybe: np.ndarray | None = maybe, mask=mask, by=by) -> np.ndarray:
            window = ordered[at : at + _SLICE] if maybe is None else ordered[maybe[at : at + _SLICE]]
            return ((window >> by) & mask).astype(np.uint32)

        tally = np.zeros(1 << bits, dtype=np.int64)
        for at in range(0, count, _SLICE):
            tally += np.bincount(buckets(at), minlength=1 << bits)
        crowded = [np.flatnonzero(tally[buckets(at)] > 1).astype(ix) + at for at in range(0, count, _SLICE)]
        found = np.concatenate(crowded) if crowded else np.zeros(0, dtype=ix)
        maybe = found if maybe is None else maybe[found]
        del tally, crowded, found
    if maybe is None:
        maybe = np.arange(m, dtype=ix)
    code = np.ones(m, dtype=ix)  # 1 where a key is first used
    if len(maybe):
        earliest = _earliest_alike(ordered, maybe)
        code[maybe[earliest != maybe]] = 0
        code = np.cumsum(code, dtype=ix) - 1
        code[maybe] = code[earliest]
    else:
        code = np.cumsum(code, dtype=ix) - 1
    return code


def _earliest_alike(ordered: np.ndarray, maybe: np.ndarray) -> np.ndarray:
    """For each of the identifiers ``maybe`` (ascending), the first of them with its key hash.
    By groups of the hash's top bits (equal hashes share them), each sorted on its own: at 10M
    accounts the screen keeps nearly all 74M identifiers, and one ``np.unique`` of them all (a copy,
    its order, its sorted values and inverse, 8 bytes each) put the load's peak 1.8 GiB higher."""
    groups = 1 << max(0, min(8, (len(maybe) // _GROUP).bit_length()))  # ~_GROUP identifiers a group, at most 256
    top = (ordered[maybe] >> np.uint64(64 - groups.bit_length() + 1)).astype(np.uint8) if groups > 1 else None
    earliest = np.empty(len(maybe), dtype=maybe.dtype)
    for g in range(groups):
        at = np.arange(len(maybe)) if top is None else np.flatnonzero(top == g)
        if not len(at):
            continue
        ids = maybe[at]
        _, first_at, inverse = np.unique(ordered[ids], return_index=True, return_inverse=True)
        earliest[at] = ids[first_at][inverse.ravel()]
    return earliest


_GROUP = 1 << 22  # identifiers sorted at a time by _earliest_alike (4M: 32 MB a temporary)
_SLICE = 1 << 23  # identifiers screened at a time: the windows' temporaries stay tens of MB
_SCREEN_FROM = 1 << 16


def _same_keys(keys: pd.Series, first: np.ndarray, ident_code: np.ndarray) -> bool:
    """Whether identifiers numbered as one key (``ident_code``, from key hashes: the same key under
    several kinds, or two keys whose hashes clash) have the same key: each compared with that
    number's first identifier, by their first links (``first``)."""
    shared = np.bincount(ident_code)[ident_code] > 1
    if not shared.any():
        return True
    text = linkrows.text_array(keys, combine=False)  # in its chunks: no copy of the column
    mine = first[shared]
    key_first = np.full(int(ident_code.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(key_first, ident_code[shared], mine)
    theirs = key_first[ident_code[shared]]
    return bool(pc.all(pc.equal(text.take(pa.array(mine)), text.take(pa.array(theirs)))).as_py())


def _starts(h: np.ndarray, ix: type) -> np.ndarray:
    """Where each run of equal hashes starts in ``h``, as ``ix`` numbers, a slice at a time."""
    out: list[np.ndarray] = [np.zeros(1, dtype=ix)]
    for at in range(1, len(h), _SLICE):
        end = min(at + _SLICE, len(h))
        out.append(np.flatnonzero(h[at:end] != h[at - 1 : end - 1]).astype(ix) + ix(at))
    return np.concatenate(out)


def numbered(links: pd.DataFrame, h: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, dict[str, list[int]]] | None:
    """From the holder rows of ``links`` ordered by hash (``h``, no hash shared by two identifiers;
    ``rows``: their links' positions, in link order within a hash): each link's key number by first
    use (``detection.keys.key_codes``: -1 without a key, int32 while they fit) and, per kind in
    order of first use, [links, distinct keys, links without a key]. An identifier's hash is its
    key's string hash mixed with its kind's number (``linkrows.identifier_hashes``), so unmixed it
    numbers the keys: the identifiers are ordered by their first link and their key hashes
    numbered in that order. Keys that share a key hash are compared (None if two differ)."""
    n = len(links)
    kinds, kind_hashes, name_of = linkrows.kind_codes(links["kind"])
    codes: np.ndarray = np.full(n, -1, dtype=np.int32 if n < 2**31 else np.int64)
    if len(h):
        # Positions in 4 bytes while they fit, slices at a time, arrays let go early: at 10M
        # accounts (74M identifiers) each array of 8-byte numbers is 0.6 GB, beside the hashes.
        ix = np.int32 if n < 2**31 else np.int64
        starts = _starts(h, ix)
        first = rows[starts]  # each identifier's first link (ties kept link order)
        # The identifiers in the order of their first link: a scatter over the positions, no sort.
        slot: np.ndarray = np.full(n, -1, dtype=ix)
        slot[first] = np.arange(len(first), dtype=ix)
        order = slot[slot >= 0]
        del slot
        ordered = h[starts[order]].view(np.uint64)
        ordered ^= kind_hashes[kinds[first[order]]]  # unmixed, in place: each key's own string hash
        in_order = _key_numbers(ordered)
        del ordered
        ident_code = np.empty(len(first), dtype=ix)
        ident_code[order] = in_order
        del order, in_order
        if not _same_keys(links["key"], first, ident_code):
            return None
        sizes = np.diff(np.append(starts, ix(len(h))))
        del starts
        codes[rows] = np.repeat(ident_code.astype(codes.dtype, copy=False), sizes)
        del sizes, ident_code
        per_kind_keys = np.bincount(kinds[first], minlength=len(kind_hashes))
        del first
    else:
        per_kind_keys = np.zeros(len(kind_hashes), dtype=np.int64)
    kinds_valid = kinds[kinds >= 0]
    per_kind_links = np.bincount(kinds_valid, minlength=len(kind_hashes))
    per_kind_none = np.bincount(kinds[(codes < 0) & (kinds >= 0)], minlength=len(kind_hashes))
    counts = {
        name_of[k]: [int(per_kind_links[k]), int(per_kind_keys[k]), int(per_kind_none[k])]
        for k in pd.unique(kinds_valid)
    }
    return codes, counts


class PartCache:
    """Decoded holder parts of one snapshot generation (meta ``snapshot_generation``: a whole
    rewrite makes a new one), the last ``size`` asked for, and where every part starts and ends:
    an investigation asks for the same identifiers' holders more than once (who holds them, then
    how many and how spelled), and a stream of ``check`` events for many."""

    def __init__(self, size: int = 256) -> None:  # some 40 MB at most
        self.size = size
        self.generation: str | None = None
        self.parts: dict[int, pa.Table] = {}
        self._ranges: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def check(self, db: sqlite3.Connection) -> None:
        """Forget the parts of another generation than the one ``db`` reads now."""
        row = db.execute("SELECT value FROM meta WHERE key = 'snapshot_generation'").fetchone()
        generation = row[0] if row else None
        if generation != self.generation:
            self.generation, self.parts, self._ranges = generation, {}, None

    def holding(self, db: sqlite3.Connection, wanted: np.ndarray) -> list[int]:
        """The parts whose hash range holds one of the sorted hashes ``wanted``, in hash order. The
        ranges are read once per generation, off the covering index ``snapshot_ranges`` (2 ms for
        the 2,000 parts of 1M accounts: a seek per hash read each part's row past its data)."""
        if self._ranges is None:
            found = db.execute(
                f"SELECT part, first_id, last_id FROM snapshots WHERE name = '{NAME}' ORDER BY part"
            ).fetchall()
            self._ranges = (
                np.array([r[0] for r in found], dtype=np.int64),
                np.array([r[1] for r in found], dtype="<U16"),
                np.array([r[2] for r in found], dtype="<U16"),
            )
        parts, firsts, lasts = self._ranges
        if not len(parts) or not len(wanted):
            return []
        texts = np.array([hash_text(h) for h in wanted], dtype="<U16")
        at = np.searchsorted(firsts, texts, side="right") - 1  # the last part starting at or before each
        inside = (at >= 0) & (texts <= lasts[np.maximum(at, 0)])
        return parts[np.unique(at[inside])].tolist()

    def get(self, db: sqlite3.Connection, part: int) -> pa.Table:
        found = self.parts.get(part)
        if found is None:
            (data,) = db.execute(f"SELECT data FROM snapshots WHERE name = '{NAME}' AND part = ?", (part,)).fetchone()
            found = decode(data)
            if self.size > 0:
                if len(self.parts) >= self.size:
                    self.parts.pop(next(iter(self.parts)))
                self.parts[part] = found
        return found


def rows(db: sqlite3.Connection, hashes: Sequence[int], cache: PartCache | None = None) -> pd.DataFrame:
    """Every holder row (h, account_id, value) of the identifiers hashed ``hashes``, unique and
    sorted by h, account, value: their parts' rows less those gone, with those added since. Run
    in a read transaction (the caller's) so the three are of one state; ``cache``: decoded parts
    kept between calls."""
    return as_frame(table(db, hashes, cache))


def table(db: sqlite3.Connection, hashes: Sequence[int], cache: PartCache | None = None) -> pa.Table:
    """``rows`` as an Arrow table: counted and grouped in Arrow, a hub's tens of thousands of
    holders are never made Python strings."""
    wanted = np.unique(np.fromiter((int(h) for h in hashes), dtype=np.int64))
    if not len(wanted):
        return _SCHEMA.empty_table()
    cache = cache if cache is not None else PartCache(0)
    cache.check(db)
    tables = _part_rows([cache.get(db, part) for part in cache.holding(db, wanted)], wanted)
    listed = wanted.tolist()
    gone = set(_asked(db, GONE, listed))
    added = _asked(db, ADDED, listed)
    if not gone and not added:  # the parts alone (a whole rewrite since): in hash order, then account and spelling
        return pa.concat_tables(tables).cast(_SCHEMA) if tables else _SCHEMA.empty_table()
    return _merged(tables, gone, added)


def counted(found: pa.Table, spellings: bool) -> tuple[list[int], list[int], list[list[str]] | None]:
    """Per hash of ``found`` (``table``'s rows: in hash order, each hash's rows grouped by account,
    as the parts and the merge keep them): the hashes, how many accounts hold each, and (when
    ``spellings``) each one's distinct spellings, sorted. Told from where the hash or the account
    changes, not grouped by a hash table: a hub's 35k holders in 1 ms instead of Arrow's group_by
    (5-6 ms; an account's page counts a few hubs twice)."""
    h = found.column("h").to_numpy()
    if not len(h):
        return [], [], [] if spellings else None
    if (h[1:] < h[:-1]).any():  # not as ``table`` gives them: put in that order
        found = found.sort_by([("h", "ascending"), ("account_id", "ascending")])
        h = found.column("h").to_numpy()
    starts = _starts(h, np.int64)
    account = found.column("account_id")
    new_account = np.zeros(len(h), dtype=bool)  # where a hash's next holder begins
    new_account[starts] = True
    if len(h) > 1:
        same = pc.equal(account.slice(1), account.slice(0, len(h) - 1))
        new_account[1:] |= ~np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    n_accounts = np.add.reduceat(new_account.astype(np.int64), starts).tolist()
    spelled = _spellings(found.column("value"), starts, len(h)) if spellings else None
    return h[starts].tolist(), n_accounts, spelled


_FEW_HOLDERS = 64  # a run of holder rows this short is spelled from Python values, a longer one in Arrow


def _spellings(values: pa.ChunkedArray, starts: np.ndarray, n: int) -> list[list[str]]:
    """The distinct spellings, sorted, of each run of ``values`` (runs start at ``starts``; ``n``
    rows in all). Most identifiers have a holder or two: their values are taken in one go and made
    Python strings (a hundred runs: 0.3 ms, where an Arrow call for each took 2.5 ms); a hub's tens
    of thousands are told apart in Arrow."""
    ends = np.append(starts[1:], n)
    sizes = ends - starts
    few = sizes <= _FEW_HOLDERS
    out: list[list[str]] = [[] for _ in range(len(starts))]
    if few.any():
        at, size = starts[few], sizes[few]
        taken = np.repeat(at - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
        texts = values.take(pa.array(taken)).to_pylist()
        offset = 0
        for i, k in zip(np.flatnonzero(few).tolist(), size.tolist(), strict=True):
            out[i] = sorted(set(texts[offset : offset + k]))
            offset += k
    for i in np.flatnonzero(~few).tolist():
        out[i] = sorted(pc.unique(values.slice(int(starts[i]), int(sizes[i]))).to_pylist())
    return out


def _part_rows(tables: list[pa.Table], wanted: np.ndarray) -> list[pa.Table]:
    """The rows of the parts ``tables`` (in hash order, each sorted by hash) under the sorted hashes
    ``wanted``: each hash's run found by a binary search, not a set test of every row, and kept as
    a slice of its part, not copied (a hub's part is all its own): the 66k holders of an account's
    page, in 98 parts, in 1.3-2.0 ms instead of 5.2-8.0 by a take."""
    out = []
    for table in tables:
        h = table.column("h").to_numpy()
        lo = np.searchsorted(h, wanted, side="left")
        hi = np.searchsorted(h, wanted, side="right")
        hit = hi > lo
        if not hit.any():
            continue
        starts, ends = lo[hit].tolist(), hi[hit].tolist()
        a = starts[0]
        for i in range(1, len(starts)):
            if starts[i] != ends[i - 1]:  # a run that does not go on from the last one
                out.append(table.slice(a, ends[i - 1] - a))
                a = starts[i]
        out.append(table.slice(a, ends[-1] - a))
    return out


def _merged(tables: list[pa.Table], gone: set[tuple], added: list[tuple]) -> pa.Table:
    """The rows of the parts' ``tables`` less those ``gone``, with those ``added``, unique and sorted."""
    base = [r for t in tables for r in zip(*(t.column(c).to_pylist() for c in COLUMNS), strict=True)]
    kept = sorted({r for r in base if r not in gone} | set(added))
    columns = list(zip(*kept, strict=True)) if kept else [(), (), ()]
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, _SCHEMA, strict=True)], schema=_SCHEMA)


def _asked(db: sqlite3.Connection, table: str, wanted: list[int]) -> list[tuple]:
    """The rows of ``table`` (added or gone holders) under the hashes ``wanted``."""
    if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:
        return []
    out: list[tuple] = []
    for at in range(0, len(wanted), 500):  # below SQLite's limit on bound parameters
        chunk = wanted[at : at + 500]
        sql = f"SELECT h, account_id, value FROM {table} WHERE h IN ({', '.join('?' * len(chunk))})"
        out += db.execute(sql, chunk).fetchall()
    return out


def as_frame(found: pa.Table) -> pd.DataFrame:
    """Holder rows as ``rows`` gives them: h int64, account and spelling Python strings."""
    if not found.num_rows:
        return pd.DataFrame(
            {
                "h": np.zeros(0, np.int64),
                "account_id": pd.Series([], dtype=object),
                "value": pd.Series([], dtype=object),
            }
        )
    return pd.DataFrame({c: found.column(c).to_numpy() for c in COLUMNS})


def all_rows(db: sqlite3.Connection) -> pd.DataFrame:
    """Every holder row, as ``rows`` gives them (for checks and tests: the whole index)."""
    tables = [decode(data) for (data,) in db.execute(f"SELECT data FROM snapshots WHERE name = '{NAME}' ORDER BY part")]
    gone = set(db.execute(f"SELECT h, account_id, value FROM {GONE}").fetchall())
    added = db.execute(f"SELECT h, account_id, value FROM {ADDED}").fetchall()
    return as_frame(_merged(tables, gone, added))


def clear(db: sqlite3.Connection) -> None:
    """Before a whole rewrite of the parts: no row added or gone since."""
    db.execute(f"DELETE FROM {ADDED}")
    db.execute(f"DELETE FROM {GONE}")
    db.execute(f"DELETE FROM snapshots WHERE name = '{NAME}'")


def has_parts(db: sqlite3.Connection) -> bool:
    return db.execute(f"SELECT 1 FROM snapshots WHERE name = '{NAME}' LIMIT 1").fetchone() is not None


__all__ = [
    "ADDED",
    "COLUMNS",
    "GONE",
    "NAME",
    "Parts",
    "all_rows",
    "as_frame",
    "clear",
    "decode",
    "encode",
    "hash_text",
    "rows",
    "table",
]
