"""Read a data folder (CSV or Parquet) and validate it against the data contract.

Validation is lazy: every broken rule on every row is collected and raised as one ``InputError``
naming file, line, column, value and what was expected (the rules are DATA_CONTRACT.md's).

Choices the contract leaves open:

- CSV lines count records, header = line 1: the physical line unless a quoted value spans
  lines or blank lines precede the row. Parquet rows are numbered from 1 and the message says
  ``row N``.
- At most 50 rows are listed per rule and 1000 in all, each rule's rest as one "... and N more"
  problem; ``InputError.total`` is the real count.
- An empty link ``value`` is not an error: the contract lists empty strings among the values
  that carry no identity. It gets no key (``None`` in a check event; a missing value, NaN, in a
  folder's keys, which stay Arrow text) and a warning counts such rows.
- Enumerations (status, label, kind, ...) are exact: ``Active`` or `` active`` is an error.
- Datetimes without an offset are taken as UTC; with one they are converted to UTC.
- Ids and identifier values are read as text with NA parsing off, so ``N/A`` and ``007`` stay
  as written. In Parquet, each column's type is checked once against the contract: an id stored
  as a number (its leading zeros already lost), a float ``overdue_days`` (NaN is no day count)
  or a nested column is one problem for the column, not one per row.
- Values must keep the input limits (``fraudgraph.model.limits``): id and value lengths, no
  control characters, money within +/-1e9, dates from 1950 to a day after the as-of time.
- A file that cannot be read (I/O error, corrupt or truncated gzip) is an input problem naming
  the file, like any other.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fraudgraph.errors import InputError, Problem
from fraudgraph.ingest.normalize import encode_strings, keys_from_codes, keys_of_rows
from fraudgraph.model.codes import first_use
from fraudgraph.model.frames import (
    ACCOUNT_COLUMNS,
    ACCOUNT_STATUSES,
    COUNTERPARTY_KINDS,
    IDENTIFIER_KINDS,
    LABELS,
    LINK_COLUMNS,
    TRANSACTION_COLUMNS,
    TRANSACTION_STATUSES,
)
from fraudgraph.model.limits import ID_CONTROL, VALUE_CONTROL, InputLimits
from fraudgraph.model.merge import LINK_KEY, in_key_order, key_order, sorted_by_key

__all__ = ["Dataset", "read_dataset", "validate_records", "release_memory", "TABLE_COLUMNS", "REQUIRED_COLUMNS"]

#: Columns of each table in the contract, and which of them must be present.
TABLE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "accounts": ("account_id", "created_at", "credit_limit", "balance", "overdue_days", "status", "label"),
    "links": ("account_id", "kind", "value", "first_seen"),
    "transactions": tuple(TRANSACTION_COLUMNS),
}
REQUIRED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "accounts": ("account_id", "created_at"),
    "links": ("account_id", "kind", "value"),
    "transactions": ("txn_id", "account_id", "counterparty", "counterparty_kind", "amount", "timestamp"),
}
_SUFFIXES = (".csv", ".csv.gz", ".parquet")

# Rows listed per (file, column, rule) and in all; the rest are counted in one summary problem each.
_ROWS_PER_RULE = 50
_MAX_LISTED = 1000


@dataclass
class Dataset:
    """A validated data folder: the frames of ``fraudgraph.model.frames`` plus what was worth a warning."""

    accounts: pd.DataFrame
    links: pd.DataFrame
    transactions: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    config: dict[str, str] | None = None  # the workspace configuration it was read under (path, text)


@dataclass
class _Table:
    """One raw table as read: text columns for CSV, native columns for Parquet, and row positions."""

    name: str
    label: str  # the file name shown in problems, e.g. "links.csv"
    frame: pd.DataFrame
    is_parquet: bool
    lines: np.ndarray | None = None  # CSV line of each row when rows were skipped; else row + 2

    def line(self, position: int) -> int:
        if self.is_parquet:
            return position + 1
        return int(self.lines[position]) if self.lines is not None else position + 2


class _ProblemLog:
    """Collects problems; lists the first rows of each rule and counts the rest."""

    def __init__(self, *, every_row: bool = False) -> None:
        # every_row: list every failing row (for an errors file), not the first rows of each rule.
        self.per_rule = np.iinfo(np.int64).max if every_row else _ROWS_PER_RULE
        self.max_listed = np.iinfo(np.int64).max if every_row else _MAX_LISTED
        self.listed: list[Problem] = []
        self.summaries: set[int] = set()  # positions in ``listed`` of "... and N more" problems
        self.total = 0

    def file_problem(self, label: str, line: int | None, column: str | None, value: object, message: str) -> None:
        self.total += 1
        self.listed.append(Problem(label, line, column, value, message))

    def row_problems(
        self,
        table: _Table,
        failing: np.ndarray | pd.Series,
        column: str | None,
        values: pd.Series | None,
        describe: Callable[[object, int], str],
    ) -> int:
        """Record a problem per failing row; ``describe(value, position)`` is called only for listed rows."""
        positions = np.flatnonzero(np.asarray(failing, dtype=bool))
        if len(positions) == 0:
            return 0
        self.total += len(positions)
        room = max(0, min(self.per_rule, self.max_listed - len(self.listed)))
        shown = positions[:room]
        shown_values = values.iloc[shown].tolist() if values is not None else [None] * len(shown)
        for position, value in zip(shown.tolist(), shown_values):
            message = describe(value, position)
            if table.is_parquet:
                message = f"row {position + 1}: {message}"
            self.listed.append(Problem(table.label, table.line(position), column, value, message))
        hidden = len(positions) - len(shown)
        if hidden:
            first = int(positions[0])
            example = describe(values.iloc[first] if values is not None else None, first)
            self.summaries.add(len(self.listed))
            self.listed.append(
                Problem(table.label, None, column, None, f"... and {hidden:,} more row(s) like: {example}")
            )
        return len(positions)

    def raise_if_any(self, order: list[str]) -> None:
        if not self.listed:
            return
        rank = {label: i for i, label in enumerate(order)}
        # By file, then file-level problems, rows by line, and the "... and N more" counts last.
        order_keys = [
            (
                rank.get(p.file, len(rank)),
                2 if i in self.summaries else int(p.line is not None),
                p.line or 0,
                i,
            )
            for i, p in enumerate(self.listed)
        ]
        problems = [self.listed[k[-1]] for k in sorted(order_keys)]
        error = InputError(problems)
        error.total = self.total  # the real count; ``problems`` lists at most _MAX_LISTED rows
        if self.total != len(problems):
            shown = "; ".join(str(p) for p in problems[:20])
            error.args = (f"{self.total:,} problem(s) in input: {shown}; ...",)
        raise error


def read_dataset(
    path: str | Path,
    *,
    extra_kinds: Mapping[str, float] | None = None,
    progress: Callable[[str], None] | None = None,
    limits: InputLimits | None = None,
    as_of: object = None,
    every_problem: bool = False,
    known_accounts: Iterable[str] = (),
) -> Dataset:
    """Read and validate the data folder at ``path``; raise ``InputError`` listing every problem.

    ``extra_kinds`` are the identifier kinds the workspace configuration declares beyond the
    contract's eight (name -> weight); any other kind is an error. ``progress`` receives one
    short line per stage. ``limits`` bound lengths, money and dates (``InputLimits()`` when not
    given); dates after ``as_of`` (default: now) plus ``limits.future_days`` are errors.
    ``every_problem`` lists every failing row in the ``InputError`` (for an errors file), not the
    first 50 of each rule. ``known_accounts`` are stored accounts that links and transactions
    may name besides the folder's own (a delta folder).

    >>> ds = read_dataset("data/")                       # doctest: +SKIP
    >>> ds.links[["kind", "value", "key"]].head(1)       # doctest: +SKIP
        kind             value               key
    0  email  J.Doe+x@gmail.com  jdoe@gmail.com
    """
    say = progress or (lambda message: None)
    folder = Path(path)
    log = _ProblemLog(every_row=every_problem)
    files = _discover(folder, log)
    log.raise_if_any([])
    warnings: list[str] = []
    kinds = tuple(IDENTIFIER_KINDS) + tuple(k for k in (extra_kinds or {}) if k not in IDENTIFIER_KINDS)

    dataset = _read_in_turn(files, kinds, limits or InputLimits(), as_of, log, warnings, say, known_accounts)
    say(
        f"read {len(dataset.accounts):,} accounts, {len(dataset.links):,} links, {len(dataset.transactions):,} transactions"
    )
    dataset.files = files
    return dataset


def validate_records(
    records: Mapping[str, pd.DataFrame],
    *,
    known_accounts: Iterable[str] = (),
    extra_kinds: Mapping[str, float] | None = None,
    limits: InputLimits | None = None,
    as_of: object = None,
) -> Dataset:
    """Validate tables given in memory (one ``fraudgraph check`` event) by ``read_dataset``'s rules.

    ``records`` maps "accounts", "links" and optionally "transactions" to frames of text values,
    as a CSV file reads (empty text for a missing value). A problem's ``file`` is the table's
    name and its ``line`` the row's position (0-based). ``known_accounts`` are stored accounts
    that links and transactions may name besides the ones given.
    """
    log = _ProblemLog()
    warnings: list[str] = []
    tables: dict[str, _Table | None] = {}
    for name, frame in records.items():
        table = _Table(name, name, frame.reset_index(drop=True), is_parquet=False, lines=np.arange(len(frame)))
        _check_columns(table, log, warnings)
        tables[name] = table
    log.raise_if_any(list(records))
    kinds = tuple(IDENTIFIER_KINDS) + tuple(k for k in (extra_kinds or {}) if k not in IDENTIFIER_KINDS)
    return _validated(tables, kinds, limits or InputLimits(), as_of, log, warnings, None, known=known_accounts)


def _validated(
    tables: dict[str, _Table | None],
    kinds: tuple[str, ...],
    limits: InputLimits,
    as_of: object,
    log: _ProblemLog,
    warnings: list[str],
    progress: Callable[[str], None] | None,
    known: Iterable[str] = (),
    in_key_order: bool = False,
) -> Dataset:
    """The read tables validated, limits checked and links normalized; raises every problem at once.
    ``in_key_order``: the links sorted by (account_id, kind, value), as a workspace stores them."""
    say = progress or (lambda message: None)
    say("validating accounts")
    accounts, account_ids = _validate_accounts(tables.get("accounts"), log)
    known = list(known)
    if known:
        stored = pd.Series(known, dtype="str")
        account_ids = stored if account_ids is None else pd.concat([account_ids, stored], ignore_index=True)
    say("validating links")
    links_state = _validate_links(tables.get("links"), account_ids, kinds, log, warnings)
    transactions = _empty_transactions()
    txn_table = tables.get("transactions")
    if txn_table is not None:
        say("validating transactions")
        transactions = _validate_transactions(txn_table, account_ids, log)
    say("checking limits")
    _check_limits(tables, accounts, links_state, transactions, limits, as_of, log)
    log.raise_if_any([t.label for t in tables.values() if t is not None])

    say(f"normalizing {len(links_state['frame']):,} identifier observations")
    _drop_raw_text(tables, links_state)
    links = _finish_links(tables.get("links"), links_state, warnings, in_key_order=in_key_order)
    release_memory()
    return Dataset(accounts=accounts, links=links, transactions=transactions, warnings=warnings)


def _read_in_turn(
    files: dict[str, Path],
    kinds: tuple[str, ...],
    limits: InputLimits,
    as_of: object,
    log: _ProblemLog,
    warnings: list[str],
    say: Callable[[str], None],
    known: Iterable[str],
) -> Dataset:
    """``_validated`` for a data folder, a table at a time: each file is read, checked and its raw
    text let go of before the next is read (the links' sorting and keying, as a workspace stores
    them, goes on beside the transactions' reading: the raw text of those two at most is in memory
    at once). Every problem is still found before one is raised; the links are not normalized once
    a problem is found (the load is refused anyway)."""
    labels: list[str] = []

    def read(name: str) -> _Table | None:
        if name not in files:
            return None
        say(f"reading {files[name].name}")
        table = _read_table(name, files[name], log)
        labels.append(files[name].name)
        if table is not None:
            _check_columns(table, log, warnings)
        return table

    no_links: dict = {}
    table = read("accounts")
    say("validating accounts")
    accounts, account_ids = _validate_accounts(table, log)
    _check_limits({"accounts": table}, accounts, no_links, _empty_transactions(), limits, as_of, log)
    _drop_raw_text({"accounts": table}, no_links)
    known = list(known)
    if known:
        stored = pd.Series(known, dtype="str")
        account_ids = stored if account_ids is None else pd.concat([account_ids, stored], ignore_index=True)
    table = read("links")
    say("validating links")
    links_state = _validate_links(table, account_ids, kinds, log, warnings)
    _check_limits({"links": table}, accounts, links_state, _empty_transactions(), limits, as_of, log)
    links = _empty_links()
    # The links are sorted and normalized in the background while the transactions are read and
    # checked: their steps release the GIL, and both cores work (1M accounts: read in 9.6 s, was 11-13 s).
    with ThreadPoolExecutor(max_workers=1) as pool:
        finished: Future[pd.DataFrame] | None = None
        link_warnings: list[str] = []
        at = len(warnings)
        if not log.total:
            say(f"normalizing {len(links_state['frame']):,} identifier observations")
            _drop_raw_text({"links": table}, links_state)
            finished = pool.submit(_finish_links, table, links_state, link_warnings, in_key_order=True)
        del links_state
        table = read("transactions")
        transactions = _empty_transactions()
        if table is not None:
            say("validating transactions")
            transactions = _validate_transactions(table, account_ids, log)
            _check_limits({"transactions": table}, accounts, no_links, transactions, limits, as_of, log)
        del table
        if finished is not None:
            links = finished.result()
            warnings[at:at] = link_warnings  # in the order a reading one table at a time gives
    log.raise_if_any(labels)
    release_memory()
    return Dataset(accounts=accounts, links=links, transactions=transactions, warnings=warnings)


def _drop_raw_text(tables: dict[str, _Table | None], links_state: dict) -> None:
    """Let go of the raw text the valid frames do not share (dates, amounts as read, the raw links
    frame) before normalizing, the step that needs the most memory."""
    for table in tables.values():
        if table is not None:
            table.frame = table.frame.iloc[:0]
    links_state["frame"] = None
    release_memory()


def release_memory() -> None:
    """Hand the memory pyarrow's allocator keeps after frees back to the system, so the next step
    starts from what is really in use (a quarter less resident memory after reading a folder)."""
    pa.default_memory_pool().release_unused()


# ---------------------------------------------------------------------------------------------
# Files


def _discover(folder: Path, log: _ProblemLog) -> dict[str, Path]:
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        expected = "a folder with accounts.csv and links.csv, or .parquet"
        log.file_problem(str(folder), None, None, str(folder), f"data folder {what} (expected {expected})")
        return {}
    files: dict[str, Path] = {}
    for name in TABLE_COLUMNS:
        found = [folder / f"{name}{suffix}" for suffix in _SUFFIXES if (folder / f"{name}{suffix}").is_file()]
        if len(found) > 1:
            log.file_problem(
                str(folder),
                None,
                None,
                None,
                f"both {' and '.join(f.name for f in found)} exist; keep one {name} file",
            )
        elif found:
            files[name] = found[0]
        elif name != "transactions":
            log.file_problem(
                str(folder),
                None,
                None,
                None,
                f"missing {name} table: expected {name}.csv, {name}.csv.gz or {name}.parquet in {folder}",
            )
    return files


def _read_table(name: str, file: Path, log: _ProblemLog) -> _Table | None:
    label = file.name
    if file.name.endswith(".parquet"):
        try:
            arrow = pq.read_table(file)
        except (pa.ArrowException, OSError) as exc:
            log.file_problem(label, None, None, None, f"cannot read Parquet file: {exc}")
            return None
        arrow = _empty_text_as_null(name, arrow)
        if not _parquet_types_ok(name, label, arrow, log):
            return None
        return _Table(name, label, arrow.to_pandas(), is_parquet=True)
    try:
        return _read_csv(name, file, log)
    except OSError as exc:
        log.file_problem(label, None, None, None, _io_problem(file, exc))
        return None


def _io_problem(file: Path, exc: OSError) -> str:
    """An I/O failure as an input problem: what is wrong with the file, in words."""
    text = str(exc)
    if file.name.endswith(".gz") and any(w in text.lower() for w in ("zlib", "gzip", "compressed", "inflate")):
        return f"cannot read the file: the gzip data is corrupt or truncated ({text})"
    reason = exc.strerror or text or type(exc).__name__
    return f"cannot read the file: {reason}"


# Arrow types the contract's columns may have in a Parquet file.
_TEXT_COLUMNS = {
    "accounts": ("account_id", "status", "label"),
    "links": ("account_id", "kind", "value"),
    "transactions": ("txn_id", "account_id", "counterparty", "counterparty_kind", "status"),
}
_NUMBER_COLUMNS = ("credit_limit", "balance", "amount")
_INTEGER_COLUMNS = ("overdue_days",)
_DATE_COLUMNS = ("created_at", "first_seen", "timestamp")


def _type_expected(table: str, column: str, dtype: pa.DataType) -> str | None:
    """What the column should be when ``dtype`` is not allowed for it, else None."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_nested(dtype):
        return "plain values (nested lists, structs and maps are not supported)"
    if pa.types.is_null(dtype):
        return None  # an all-null column: its rules (required or not) decide
    text = pa.types.is_string(dtype) or pa.types.is_large_string(dtype)
    if column in _TEXT_COLUMNS.get(table, ()):
        return None if text else "text"
    if column in _NUMBER_COLUMNS:
        number = pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)
        return None if number or text else "a number"
    if column in _INTEGER_COLUMNS:
        return None if pa.types.is_integer(dtype) or text else "a whole number (an integer type)"
    if column in _DATE_COLUMNS:
        dated = pa.types.is_timestamp(dtype) or pa.types.is_date(dtype)
        return None if dated or text else "a date or timestamp"
    return None


def _float_days_problem(column: pa.ChunkedArray) -> str | None:
    """A float ``overdue_days`` column (pandas writes integers with gaps as floats) is fine when every
    value is a whole number; NaN is no day count."""
    values = column.to_numpy()
    nan = int(np.isnan(values).sum())
    if nan:
        return f"expected a whole number, found {nan:,} NaN value(s)"
    return None


def _empty_text_as_null(table: str, arrow: pa.Table) -> pa.Table:
    """A text column with no value at all, written by pandas as all-NaN float64 (an empty
    ``label`` column, say), is an empty text column: read it as nulls, not as numbers."""
    for i, field_ in enumerate(arrow.schema):
        if field_.name not in _TEXT_COLUMNS.get(table, ()) or not pa.types.is_floating(field_.type):
            continue
        column = arrow.column(i)
        values = column.to_numpy()
        if column.null_count == len(column) or bool(np.isnan(values).all()):
            arrow = arrow.set_column(i, pa.field(field_.name, pa.string()), pa.nulls(len(column), pa.string()))
    return arrow


def _parquet_types_ok(table: str, label: str, arrow: pa.Table, log: _ProblemLog) -> bool:
    """Check each column's Arrow type against the contract: one problem per column, not per row."""
    ok = True
    for field_ in arrow.schema:
        expected = _type_expected(table, field_.name, field_.type)
        if field_.name in _INTEGER_COLUMNS and pa.types.is_floating(field_.type):
            problem = _float_days_problem(arrow.column(field_.name))
            if problem is not None:
                log.file_problem(label, None, field_.name, None, problem)
                ok = False
            continue
        if expected is not None:
            log.file_problem(label, None, field_.name, None, f"expected {expected}, found {field_.type}")
            ok = False
    return ok


def _read_csv_header(file: Path, label: str, log: _ProblemLog) -> list[str] | None:
    with pa.input_stream(str(file), compression="detect") as stream:
        head = b""
        while b"\n" not in head:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            head += chunk
    first_line = head.split(b"\n", 1)[0]
    if not first_line.strip(b"\r\xef\xbb\xbf \t"):
        log.file_problem(label, 1, None, first_line, "no header row (the first line must name the columns)")
        return None
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.file_problem(label, 1, None, first_line, f"header is not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return None
    return next(csv.reader(io.StringIO(text)))


@contextmanager
def _quiet_undecodable_rows() -> Iterator[None]:
    """pyarrow decodes a ragged row's text as UTF-8 before it calls ``invalid_row_handler``; when
    the row is not UTF-8 either, the decode error would be printed as an "Exception ignored"
    traceback, and the row fails the read instead (``_report_ragged_rows`` then finds it)."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, UnicodeDecodeError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _report_ragged_rows(file: Path, label: str, expected: int, log: _ProblemLog) -> None:
    """Every row of ``file`` whose number of fields is not the header's, with its line, read by
    Python's csv module (the slow path, for a file pyarrow could not hand a ragged row of)."""
    with pa.input_stream(str(file), compression="detect") as stream:
        reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=""))
        next(reader, None)
        line = reader.line_num + 1
        for fields in reader:
            if fields and len(fields) != expected:
                message = f"row has {len(fields)} field(s), the header has {expected}"
                log.file_problem(label, line, None, ",".join(fields), message)
            line = reader.line_num + 1


def _read_csv(name: str, file: Path, log: _ProblemLog) -> _Table | None:
    label = file.name
    header = _read_csv_header(file, label, log)
    if header is None:
        return None
    names: list[str] = []
    for i, column in enumerate(header):
        if column in names:
            log.file_problem(label, 1, column, column, f"column '{column}' appears more than once in the header")
            column = f"{column} (column {i + 1})"
        names.append(column)

    def attempt(column_type: pa.DataType, use_threads: bool) -> tuple[pa.Table, list]:
        ragged: list = []

        def on_ragged_row(row) -> str:
            ragged.append(row)
            return "skip"

        table = pacsv.read_csv(
            str(file),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=use_threads),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_ragged_row),
            convert_options=pacsv.ConvertOptions(
                column_types={n: column_type for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        return table, ragged

    undecodable = False
    try:
        with _quiet_undecodable_rows():
            table, ragged = attempt(pa.string(), use_threads=True)
            # Threaded parsing does not know the line of a ragged row; parse again in one thread.
            if ragged and any(row.number is None for row in ragged):
                table, ragged = attempt(pa.string(), use_threads=False)
    except pa.ArrowInvalid as exc:
        if "Expected" in str(exc) and "columns" in str(exc):  # a ragged row pyarrow could not hand over
            _report_ragged_rows(file, label, len(names), log)
            return None
        if "UTF8" not in str(exc):
            log.file_problem(label, None, None, None, f"cannot parse CSV: {exc}")
            return None
        undecodable = True
        table, ragged = attempt(pa.binary(), use_threads=False)

    lines = None
    if ragged:
        bad_lines = np.array([row.number for row in ragged], dtype=np.int64)
        for row in ragged:
            log.total += 1
            if len(log.listed) < log.max_listed:
                log.listed.append(
                    Problem(
                        label,
                        row.number,
                        None,
                        row.text,
                        f"row has {row.actual_columns} field(s), the header has {row.expected_columns}",
                    )
                )
        all_lines = np.arange(2, table.num_rows + len(ragged) + 2, dtype=np.int64)
        lines = all_lines[~np.isin(all_lines, bad_lines)]
    result = _Table(name, label, None, is_parquet=False, lines=lines)
    if undecodable:
        table = _decode_utf8(table, result, log)
    result.frame = table.to_pandas()
    return result


def _decode_utf8(table: pa.Table, where: _Table, log: _ProblemLog) -> pa.Table:
    """Turn binary columns into text, reporting every cell that is not valid UTF-8."""
    columns = []
    for column_name, column in zip(table.column_names, table.columns):
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        pieces, bad_positions = [], []
        step = 1 << 16
        for start in range(0, len(column), step):
            chunk = column.slice(start, step)
            try:
                pieces.append(chunk.cast(pa.string()))
                continue
            except pa.ArrowInvalid:
                pass
            cells = chunk.to_pylist()
            decoded = []
            for offset, cell in enumerate(cells):
                try:
                    decoded.append(cell.decode("utf-8"))
                except UnicodeDecodeError:
                    bad_positions.append(start + offset)
                    decoded.append(cell.decode("utf-8", errors="replace"))
            pieces.append(pa.array(decoded, pa.string()))
        failing = np.zeros(len(column), dtype=bool)
        failing[bad_positions] = True
        raw = pd.Series(column.to_pylist() if bad_positions else [None] * len(column), dtype=object)
        log.row_problems(where, failing, column_name, raw, lambda v, _: f"{v!r} is not valid UTF-8 text")
        columns.append(pa.concat_arrays(pieces) if pieces else pa.array([], pa.string()))
    return pa.table(columns, names=table.column_names)


def _check_columns(table: _Table, log: _ProblemLog, warnings: list[str]) -> None:
    present = list(table.frame.columns)
    for column in REQUIRED_COLUMNS[table.name]:
        if column not in present:
            near = [c for c in present if str(c).strip().lower() == column]
            hint = f" (found '{near[0]}'; column names are exact and lower-case)" if near else ""
            log.file_problem(
                table.label,
                None,
                column,
                None,
                f"missing required column '{column}'{hint}; columns found: {', '.join(map(str, present)) or 'none'}",
            )
    extra = [c for c in present if c not in TABLE_COLUMNS[table.name]]
    if extra and table.name != "accounts":
        warnings.append(
            f"{table.label}: ignored extra column(s) {', '.join(repr(str(c)) for c in extra)} "
            f"(the contract's columns are {', '.join(TABLE_COLUMNS[table.name])})"
        )


# ---------------------------------------------------------------------------------------------
# Column parsers: each returns parsed values and records a problem per bad row.


def _text(table: _Table, column: str) -> pd.Series:
    """The column as ``str`` values, missing (Parquet null) as empty text."""
    series = table.frame[column]
    if pd.api.types.is_string_dtype(series.dtype) and not isinstance(series.dtype, np.dtypes.ObjectDType):
        return series.fillna("")
    if pd.api.types.is_float_dtype(series.dtype):
        # Parquet float ids: 7.0 -> "7"; leading zeros are lost upstream and cannot be recovered.
        whole = series.notna() & (series == np.floor(series))
        text = series.astype(object).where(~whole, series.where(whole).astype("Int64").astype(object))
        return text.map(_spelled).astype("str")
    return series.map(_spelled).astype("str")


def _arrow_text(values) -> pa.Array:
    arr = pa.array(values.array if isinstance(values, pd.Series) else list(values), pa.string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _is_in(text: pd.Series, allowed) -> np.ndarray:
    """``text.isin(allowed)`` through pyarrow's hash lookup (pandas loops in Python for ``str``)."""
    value_set = allowed if isinstance(allowed, pa.Array) else _arrow_text(allowed)
    found = pc.is_in(_arrow_text(text), value_set=value_set)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _spelled(value: object) -> str:
    missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
    return "" if missing else str(value)


def _blank(text: pd.Series) -> np.ndarray:
    """Rows of ``text`` empty or all whitespace (missing: blank). Arrow text is judged where it lies
    (empty, or only Unicode spaces), without a stripped copy of every value: 8.5M link account ids
    0.22-0.29 -> 0.13-0.15 s."""
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow" and not text.hasnans:
        blank = _blank_arrow(pa.array(text.array, from_pandas=True))
        return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)
    return (text.str.strip() == "").to_numpy(dtype=bool, na_value=True)


def _blank_arrow(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Arrow text empty or only Unicode spaces (missing stays missing): what stripping leaves empty
    (``utf8_trim_whitespace`` and ``utf8_is_space`` know the same spaces), without the copy."""
    return pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))


def _require_text(table: _Table, column: str, log: _ProblemLog) -> pd.Series:
    text = _text(table, column)
    log.row_problems(table, _blank(text), column, text, lambda v, _: f"empty {column} (a value is required)")
    return text


def _enumeration(
    table: _Table, column: str, allowed: tuple[str, ...], default: str | None, log: _ProblemLog
) -> pd.Series:
    """Values of an enumerated column; empty -> ``default`` (``None`` = empty is an error)."""
    text = _text(table, column) if column in table.frame else pd.Series("", index=table.frame.index, dtype="str")
    empty = (text == "").to_numpy(dtype=bool)
    wrong = ~_is_in(text, allowed) & (~empty if default is not None else True)
    choices = ", ".join(allowed)
    log.row_problems(
        table,
        wrong,
        column,
        text,
        lambda v, _: f"empty {column} (expected one of {choices})" if v == "" else f"{v!r} is not one of {choices}",
    )
    if default is not None and empty.any():
        text = text.where(~empty, default)
    return text


def _dates(table: _Table, column: str, required: bool, log: _ProblemLog) -> pd.Series:
    """ISO-8601 dates or datetimes as naive UTC ``datetime64[ns]``; NaT where empty."""
    series = table.frame[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        parsed, out_of_range = _to_ns(series.to_numpy())
        missing = np.isnat(parsed) & ~out_of_range
        text = series.astype(str)
    else:
        text = _text(table, column)
        if _mostly_distinct(text):
            parsed, missing, out_of_range = _parse_iso(text)
        else:
            # Dates often repeat (one per day): then parse each distinct spelling once.
            codes, spellings = encode_strings(text)
            distinct = _parse_iso(pd.Series(spellings.to_pylist(), dtype="str"))
            parsed, missing, out_of_range = (values[codes] for values in distinct)
    bad = np.isnat(parsed) & ~missing & ~out_of_range
    log.row_problems(
        table,
        bad,
        column,
        text,
        lambda v, _: f"{v!r} is not an ISO-8601 date or datetime (e.g. 2024-03-01 or 2024-03-01T14:30:00Z)",
    )
    log.row_problems(
        table,
        out_of_range,
        column,
        text,
        lambda v, _: f"{v!r} is outside the supported dates {pd.Timestamp.min.date()} .. {pd.Timestamp.max.date()}",
    )
    if required:
        log.row_problems(table, missing, column, text, lambda v, _: f"empty {column} (a date is required)")
    return pd.Series(parsed, index=series.index, dtype="datetime64[ns]")


_PARSE_ROWS = 500_000  # dates parsed per slice: pandas makes a Python string of each value it parses


def _parse_iso(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Naive UTC datetime64[ns] values (NaT where empty, unparseable or out of range), which were
    empty and which were out of the nanosecond range. Parsed in slices of _PARSE_ROWS rows, so
    the parser's Python strings never cover a whole table (0.9 GB at 8.5M links)."""
    if len(text) > _PARSE_ROWS:
        slices = [_parse_iso(text.iloc[start : start + _PARSE_ROWS]) for start in range(0, len(text), _PARSE_ROWS)]
        return tuple(np.concatenate(part) for part in zip(*slices))  # type: ignore[return-value]
    fast = _parse_iso_by_arrow(text)
    return fast if fast is not None else _parse_iso_by_pandas(text)


def _parse_iso_by_arrow(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``_parse_iso`` by Arrow's ISO-8601 cast (8.5M date-times in 0.2 s; pandas takes 1.5 s) when
    it takes every value: naive dates and date-times in the nanosecond range, none blank. A value
    it takes it reads as pandas does (``tests/test_contract.py`` compares them); anything else (a
    zone offset, a blank, a bad or far date) fails the cast, and pandas parses the slice and finds
    the problems (None)."""
    try:
        arr = _arrow_text(text)
        if arr.null_count:
            return None
        ns = pc.cast(arr, pa.timestamp("ns")).to_numpy(zero_copy_only=False).astype("datetime64[ns]", copy=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return ns, np.zeros(len(ns), dtype=bool), np.zeros(len(ns), dtype=bool)


def _parse_iso_by_pandas(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = _blank(text)
    parsed = pd.to_datetime(text.where(~missing), format="ISO8601", utc=True, errors="coerce")
    ns, out_of_range = _to_ns(parsed.dt.tz_convert(None).to_numpy())
    return ns, missing, out_of_range


def _to_ns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datetime64 values of any unit as [ns], NaT where they do not fit, and which did not fit
    (the frames use nanoseconds: 1677-09-21 .. 2262-04-11; year 9999 would wrap around silently)."""
    lowest = np.datetime64(pd.Timestamp.min.ceil("s")).astype(values.dtype)
    highest = np.datetime64(pd.Timestamp.max.floor("s")).astype(values.dtype)
    present = ~np.isnat(values)
    out_of_range = present & ((values < lowest) | (values > highest))
    ns = np.where(out_of_range, np.datetime64("NaT"), values).astype("datetime64[ns]")
    return ns, out_of_range


def _mostly_distinct(text: pd.Series, sample_size: int = 2000) -> bool:
    sample = text.iloc[:: max(1, len(text) // sample_size)]
    return sample.nunique() > len(sample) // 2


def _parsed_numbers(text: pd.Series, missing: np.ndarray) -> pd.Series:
    """``pd.to_numeric(text.where(~missing), errors="coerce")`` as float64 (NaN where missing or
    not a number). Arrow's cast reads a column of numbers 10x faster than pandas (2.9M amounts:
    0.05 s, 0.7 s) and gives the same doubles (both round correctly), but refuses the whole column
    at the first value it cannot read (a space around a number, which pandas takes, or a word):
    then pandas reads it. A "-0" Arrow reads as -0.0 and pandas as 0: pandas reads those too."""
    try:
        arr = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), _arrow_text(text))
        parsed = np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        parsed = None
    if parsed is None or bool(((parsed == 0) & np.signbit(parsed)).any()):
        return pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
    return pd.Series(parsed, index=text.index, dtype="float64")


def _numbers(table: _Table, column: str, log: _ProblemLog) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Parsed float64 values (NaN where empty or bad), the text shown in problems, which rows were
    not numbers (already reported) and which were empty."""
    series = table.frame[column]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype("float64")
        missing = values.isna().to_numpy()
        text = series.astype(str)
        bad = np.zeros(len(series), dtype=bool)
    else:
        text = _text(table, column)
        missing = _blank(text)
        values = _parsed_numbers(text, missing)
        bad = ~missing & ~np.isfinite(values.to_numpy(na_value=np.nan))
        values = values.where(~bad)
    log.row_problems(table, bad, column, text, lambda v, _: f"{v!r} is not a number")
    return values, text, bad, missing


# ---------------------------------------------------------------------------------------------
# Tables


def _validate_accounts(table: _Table | None, log: _ProblemLog) -> tuple[pd.DataFrame, pd.Series | None]:
    if table is None:
        return _empty_accounts(), None
    frame = table.frame
    n = len(frame)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    account_ids = None
    if "account_id" in frame:
        ids = _require_text(table, "account_id", log)
        duplicated = _repeated(ids) & ~_blank(ids)
        if duplicated.any():
            first_position = _first_positions(ids)
            log.row_problems(
                table,
                duplicated,
                "account_id",
                ids,
                lambda v, pos: f"duplicate account_id {v!r} (first on {_where(table, first_position[str(v)])})",
            )
        out["account_id"] = ids.reset_index(drop=True)
        account_ids = ids
    else:
        out["account_id"] = pd.Series([""] * n, dtype="str")
    if "created_at" in frame:
        out["created_at"] = _dates(table, "created_at", True, log).reset_index(drop=True)
    else:
        out["created_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")

    for column, minimum in (("credit_limit", 0.0), ("balance", None)):
        if column not in frame:
            out[column] = np.nan
            continue
        values, text, _, _ = _numbers(table, column, log)
        if minimum is not None:
            negative = (values < minimum).to_numpy(dtype=bool, na_value=False)
            log.row_problems(
                table,
                negative,
                column,
                text,
                lambda v, _, c=column: f"{c} {v!s} is negative (expected a number >= 0)",  # type: ignore[misc]
            )
        out[column] = values.reset_index(drop=True)

    if "overdue_days" in frame:
        values, text, bad, missing = _numbers(table, "overdue_days", log)
        v = values.to_numpy(na_value=np.nan)
        # 2**53: beyond it a float is no longer an exact whole number (and int64 would overflow)
        not_whole = ~bad & ~missing & ((v < 0) | (v != np.floor(v)) | (v >= 2**53))
        log.row_problems(
            table,
            not_whole,
            "overdue_days",
            text,
            lambda v, _: f"overdue_days {v!s} is not a whole number >= 0",
        )
        out["overdue_days"] = np.where(np.isnan(v) | not_whole, 0, v).astype(np.int64)
    else:
        out["overdue_days"] = np.zeros(n, dtype=np.int64)

    out["status"] = _enumeration(table, "status", ACCOUNT_STATUSES, "active", log).reset_index(drop=True)
    label = _enumeration(table, "label", LABELS, "", log).reset_index(drop=True)
    out["label"] = label.astype(object).where(label != "", None)
    out["properties"] = _properties(frame[[c for c in frame.columns if c not in TABLE_COLUMNS["accounts"]]])
    return out[ACCOUNT_COLUMNS], account_ids


def _repeated(values: pd.Series) -> np.ndarray:
    """``values.duplicated(keep="first")``: each row whose value an earlier row has. Arrow's hash
    encoding numbers the values in the order they first appear, so a row is a repeat when its
    number is not above every number before it (2.9M ids: 0.45 s instead of pandas' 0.9 s). Ids
    in ascending order (an extract ordered by its key) are told apart by comparing neighbours
    alone: none repeats when each comes strictly before the next (2.9M ids: 0.04 s)."""
    if len(values) > 1 and not values.hasnans and in_key_order(values.to_frame("id"), ["id"]):
        return np.zeros(len(values), dtype=bool)
    codes, _ = encode_strings(values)
    if bool((codes < 0).any()):  # a missing value: pandas decides, as it did
        return values.duplicated(keep="first").to_numpy()
    return ~first_use(codes)


def _first_positions(values: pd.Series) -> dict[str, int]:
    """Position of the first occurrence of each duplicated value."""
    duplicated_any = values.duplicated(keep=False).to_numpy()
    subset = values[duplicated_any]
    firsts = ~subset.duplicated(keep="first").to_numpy()
    return dict(zip(subset[firsts].tolist(), np.flatnonzero(duplicated_any)[firsts].tolist()))


def _where(table: _Table, position: int) -> str:
    return f"row {position + 1}" if table.is_parquet else f"line {table.line(position)}"


def _properties(extra: pd.DataFrame) -> pd.Series:
    """The extra account columns as one JSON object per row ("{}" when there are none)."""
    if extra.shape[1] == 0:
        return pd.Series(["{}"] * len(extra), dtype="str")
    extra = extra.copy()
    extra.columns = [str(c) for c in extra.columns]
    for column in extra.columns:
        if pd.api.types.is_datetime64_any_dtype(extra[column].dtype):
            extra[column] = extra[column].astype(str)
    lines = extra.reset_index(drop=True).to_json(orient="records", lines=True, force_ascii=False)
    # pandas escapes "/" as "\/": valid JSON, but noisy for URLs and dates; every "\/" is that escape.
    rows = lines.replace("\\/", "/").rstrip("\n").split("\n")
    return pd.Series(rows, dtype="str")


def _validate_links(
    table: _Table | None,
    account_ids: pd.Series | None,
    kinds: tuple[str, ...],
    log: _ProblemLog,
    warnings: list[str],
) -> dict:
    if table is None or not all(c in table.frame for c in REQUIRED_COLUMNS["links"]):
        return {"frame": pd.DataFrame(columns=LINK_COLUMNS)}
    # The dates are parsed beside the checks of ids and kinds (Arrow's parsing and dictionary
    # encoding release the GIL): at 1M accounts both took a second of a core nothing else used.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fraudgraph-dates") as pool:
        dated = pool.submit(_dates, table, "first_seen", False, log) if "first_seen" in table.frame else None
        state = _checked_links(table, account_ids, kinds, log)
        state["first_seen"] = (
            dated.result() if dated is not None else pd.Series(pd.NaT, index=table.frame.index, dtype="datetime64[ns]")
        )
    empty_values = _blank(state["value_text"])
    if empty_values.any():
        warnings.append(
            f"{table.label}: {int(empty_values.sum()):,} row(s) with an empty value; an empty value "
            "carries no identity and never links accounts"
        )
    return state


def _checked_links(table: _Table, account_ids: pd.Series | None, kinds: tuple[str, ...], log: _ProblemLog) -> dict:
    """The links' account ids and kinds checked (unknown accounts, undeclared kinds), and their
    text and codes as ``_validate_links`` gives them (without ``first_seen``)."""
    account_text = _require_text(table, "account_id", log)
    kind_text = _text(table, "kind")
    value_text = _text(table, "value")
    kind_codes, kind_dict = encode_strings(kind_text)

    # Rules checked once per distinct value, then spread to the rows through the codes.
    kind_known = np.asarray(pc.is_in(kind_dict, value_set=pa.array(kinds, pa.string())).to_numpy(zero_copy_only=False))
    choices = ", ".join(kinds)
    bad_kind = ~kind_known[kind_codes] if len(kind_dict) else np.zeros(len(kind_codes), dtype=bool)
    log.row_problems(
        table,
        bad_kind,
        "kind",
        kind_text,
        lambda v, _: (
            f"empty kind (expected one of {choices})"
            if v == ""
            else f"{v!r} is not one of {choices}"
            + (" (other kinds must be declared in the workspace configuration)" if v else "")
        ),
    )
    if account_ids is not None and len(account_text):
        runs, lengths = _runs(account_text)
        known = pc.is_in(runs, value_set=_arrow_text(account_ids))
        blank = _blank_arrow(runs)
        unknown = np.asarray(pc.and_(pc.invert(known), pc.invert(blank)).to_numpy(zero_copy_only=False))
        log.row_problems(
            table,
            np.repeat(unknown, lengths),
            "account_id",
            account_text,
            lambda v, _: f"account_id {v!r} is not in the accounts table",
        )
    return {
        "frame": table.frame,
        "account_text": account_text,
        "kind_text": kind_text,
        "kind_codes": kind_codes,
        "kind_dict": kind_dict,
        "value_text": value_text,
    }


def _runs(text: pd.Series) -> tuple[pa.ChunkedArray, np.ndarray]:
    """The values of consecutive rows alike, once per run, and each run's length (rows). Links
    come grouped by account (an extract by account): their 8.5M account ids at 1M accounts are
    checked as 1M runs (0.1 s to find them, where numbering every row took 0.5 s); links in any
    other order are checked as runs of a row or a few. Chunk by chunk (no copy of the column):
    a run that crosses from one chunk to the next is two."""
    arr = pa.array(text.array, pa.string())
    values, lengths = [], []
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        encoded = pc.run_end_encode(chunk)
        values.append(encoded.values)
        lengths.append(np.diff(np.asarray(encoded.run_ends.to_numpy(zero_copy_only=False), dtype=np.int64), prepend=0))
    return pa.chunked_array(values, pa.string()), np.concatenate(lengths) if lengths else np.zeros(0, np.int64)


_LINK_TEXT = {"account_id": "account_text", "kind": "kind_text", "value": "value_text"}  # the text of LINK_KEY


_NEVER = np.iinfo(np.int64).max  # NaT sorts after every date: a known date wins


def _earliest_seen(first_seen: np.ndarray, earliest: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The earliest known first_seen of each merged observation: ``earliest`` takes the rows' dates
    as int64 nanoseconds (NaT as _NEVER) and returns the least of each observation's rows."""
    least = earliest(np.where(np.isnat(first_seen), _NEVER, first_seen.view(np.int64)))
    return np.where(least == _NEVER, np.datetime64("NaT"), least.view("datetime64[ns]"))


def _note_repeats(table: _Table | None, n_repeated: int, warnings: list[str]) -> None:
    warnings.append(
        f"{table.label if table is not None else 'links'}: {n_repeated:,} repeated (account_id, kind, value) observation(s) "
        "merged, keeping the earliest first_seen"
    )


def _finish_links(table: _Table | None, state: dict, warnings: list[str], in_key_order: bool = False) -> pd.DataFrame:
    """Drop repeated observations (keeping the earliest first_seen) and add the canonical keys;
    ``in_key_order``: sorted by (account_id, kind, value) (``_finish_links_in_key_order``);
    otherwise in the order the rows came (one ``check`` event: hashing a few values is nothing)."""
    if "value_text" not in state:
        return _empty_links()
    if in_key_order:
        return _finish_links_in_key_order(table, state, warnings)
    value_codes, value_dict = encode_strings(state["value_text"])
    account_codes, _ = encode_strings(state["account_text"])
    kind_codes = state["kind_codes"]
    n_kinds, n_values = max(len(state["kind_dict"]), 1), max(len(value_dict), 1)
    observation = (account_codes * n_kinds + kind_codes) * n_values + value_codes
    first_seen = state["first_seen"].to_numpy(dtype="datetime64[ns]")
    # factorize numbers observations in order of first appearance, so a row is the first of its
    # observation exactly when its code exceeds every code before it.
    codes, _ = pd.factorize(observation)
    running_max = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    keep = np.flatnonzero(codes > running_max)
    n_repeated = len(codes) - len(keep)
    if n_repeated:

        def earliest_by_code(seen_ns: np.ndarray) -> np.ndarray:
            earliest = np.full(len(keep), _NEVER, dtype=np.int64)
            np.minimum.at(earliest, codes, seen_ns)
            return earliest

        first_seen = _earliest_seen(first_seen, earliest_by_code)
        _note_repeats(table, n_repeated, warnings)
    else:
        first_seen = first_seen[keep]
    keys = keys_from_codes(kind_codes[keep], state["kind_dict"], value_codes[keep], value_dict)
    columns = {c: _rows(state.pop(t), keep, bool(n_repeated)) for c, t in _LINK_TEXT.items()}
    links = pd.DataFrame(
        {
            **columns,
            "key": pd.Series(keys, dtype=object),
            "first_seen": pd.Series(first_seen, dtype="datetime64[ns]"),
        }
    )
    return links[LINK_COLUMNS]


def _finish_links_in_key_order(table: _Table | None, state: dict, warnings: list[str]) -> pd.DataFrame:
    """``_finish_links`` for a workspace load: sorted by (account_id, kind, value) first, so repeated
    observations are neighbours and merge without hashing millions of values; each raw column
    is let go once its sorted copy is taken. Links already in that order (an export ordered by
    that key: checked, one comparison of neighbours) are neither sorted nor copied."""
    text = {c: state.pop(t) for c, t in _LINK_TEXT.items()}
    first_seen = state["first_seen"].to_numpy(dtype="datetime64[ns]")
    if sorted_by_key(text, LINK_KEY):  # 8.5M links: 0.4 s instead of 2.1 s to sort and reorder
        arrays = {c: _large_text(text.pop(c)) for c in LINK_KEY}
    else:
        order = key_order(pd.DataFrame(text), LINK_KEY)
        taken = pa.array(order)
        arrays = {c: _large_text(text.pop(c)).take(taken) for c in LINK_KEY}
        first_seen = first_seen[order]
    n = len(first_seen)
    same = np.ones(max(n - 1, 0), dtype=bool)
    for arr in arrays.values():  # a row repeats the one before when all three texts are equal
        later, earlier = arr.slice(1), arr.slice(0, max(n - 1, 0))
        equal = pc.or_(pc.equal(later, earlier).fill_null(False), pc.and_(pc.is_null(later), pc.is_null(earlier)))
        same &= equal.to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate(([True], ~same))) if n else np.zeros(0, dtype=np.int64)
    n_repeated = n - len(starts)
    if n_repeated:
        first_seen = _earliest_seen(first_seen, lambda seen_ns: np.minimum.reduceat(seen_ns, starts))
        for c in LINK_KEY:  # one column at a time: each raw column goes once its merged copy is taken
            arrays[c] = arrays[c].take(pa.array(starts))
        _note_repeats(table, n_repeated, warnings)
    keys = keys_of_rows(arrays["kind"], arrays["value"])
    links = pd.DataFrame({c: pd.Series(arrays.pop(c).to_pandas(), dtype="str") for c in LINK_KEY})
    links["key"] = pd.Series(keys.to_pandas(), dtype="str")  # Arrow text, NaN = no identity
    links["first_seen"] = pd.Series(first_seen, dtype="datetime64[ns]")
    return links[LINK_COLUMNS]


def _large_text(column: pd.Series) -> pa.Array:
    """A text column as one Arrow string array (Arrow-backed columns are not copied; 64-bit offsets,
    so tens of millions of values fit)."""
    arr = pa.array(column.array, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type) else arr.cast(pa.large_string())


def _rows(column: pd.Series, rows: np.ndarray, taken: bool) -> pd.Series:
    column = column.iloc[rows] if taken else column
    return column.reset_index(drop=True)


def _validate_transactions(table: _Table, account_ids: pd.Series | None, log: _ProblemLog) -> pd.DataFrame:
    frame = table.frame
    if not all(c in frame for c in REQUIRED_COLUMNS["transactions"]):
        return _empty_transactions()
    txn_ids = _require_text(table, "txn_id", log)
    duplicated = _repeated(txn_ids) & ~_blank(txn_ids)
    if duplicated.any():
        first_position = _first_positions(txn_ids)
        log.row_problems(
            table,
            duplicated,
            "txn_id",
            txn_ids,
            lambda v, _: f"duplicate txn_id {v!r} (first on {_where(table, first_position[str(v)])})",
        )
    payer = _require_text(table, "account_id", log)
    counterparty = _require_text(table, "counterparty", log)
    counterparty_kind = _enumeration(table, "counterparty_kind", COUNTERPARTY_KINDS, None, log)
    if account_ids is not None:
        # Payers and the counterparties that are accounts looked up in one pass: the accounts'
        # hash table is built once (1M accounts, 2.9M payments: 2.2 -> 1.0 s).
        to_account = (counterparty_kind == "account").to_numpy()
        paid = np.flatnonzero(to_account)
        asked = pa.chunked_array([_arrow_text(payer), _arrow_text(counterparty).take(pa.array(paid))], pa.string())
        found = np.asarray(
            pc.is_in(asked, value_set=_arrow_text(account_ids)).to_numpy(zero_copy_only=False), dtype=bool
        )
        unknown_payer = ~found[: len(payer)] & ~_blank(payer)
        log.row_problems(
            table,
            unknown_payer,
            "account_id",
            payer,
            lambda v, _: f"account_id {v!r} is not in the accounts table",
        )
        unknown_counterparty = np.zeros(len(counterparty), dtype=bool)
        unknown_counterparty[paid] = ~found[len(payer) :]
        unknown_counterparty &= ~_blank(counterparty)
        log.row_problems(
            table,
            unknown_counterparty,
            "counterparty",
            counterparty,
            lambda v, _: f"counterparty {v!r} has counterparty_kind account but is not in the accounts table",
        )
    amount, amount_text, _, amount_missing = _numbers(table, "amount", log)
    log.row_problems(
        table, amount_missing, "amount", amount_text, lambda v, _: "empty amount (a number > 0 is required)"
    )
    not_positive = (amount <= 0).to_numpy(dtype=bool, na_value=False)
    log.row_problems(table, not_positive, "amount", amount_text, lambda v, _: f"amount {v!s} is not > 0")
    timestamp = _dates(table, "timestamp", True, log)
    status = _enumeration(table, "status", TRANSACTION_STATUSES, "settled", log)
    out = pd.DataFrame(
        {
            "txn_id": txn_ids,
            "account_id": payer,
            "counterparty": counterparty,
            "counterparty_kind": counterparty_kind,
            "amount": amount,
            "timestamp": timestamp,
            "status": status,
        }
    ).reset_index(drop=True)
    return out[TRANSACTION_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Limits (fraudgraph.model.limits): lengths, control characters, money and dates

# Ids checked for length and control characters. A link's or payer's account_id must be in the
# accounts table, whose ids are checked, so checking them again would only cost time.
_ID_COLUMNS = {
    "accounts": ("account_id",),
    "links": (),
    "transactions": ("txn_id", "counterparty"),
}


def _shown(value: object, width: int = 40) -> str:
    """A value as one short line: control characters escaped, long text cut with its length."""
    text = repr(value)[1:-1] if isinstance(value, str) else str(value)
    return text[:width] + "..." if len(text) > width else text


def _check_text(
    table: _Table,
    column: str,
    max_length: int,
    control: str,
    what: str,
    log: _ProblemLog,
    text: pd.Series | None = None,
) -> None:
    text = _text(table, column) if text is None else text
    arrow = _arrow_text(text)
    lengths = np.asarray(pc.utf8_length(arrow).to_numpy(zero_copy_only=False))
    too_long = lengths > max_length
    if too_long.any():  # the problem keeps the first 80 characters of the value, not all of it
        log.row_problems(
            table,
            too_long,
            column,
            text.str.slice(0, 80),
            lambda v, pos: f"{what} '{_shown(v, 20)}' has {int(lengths[pos]):,} characters (at most {max_length})",
        )
    # Most values are printable ASCII (a fast check); the regex runs only on the rest.
    rest = np.flatnonzero(~np.asarray(pc.ascii_is_printable(arrow).to_numpy(zero_copy_only=False), dtype=bool))
    bad = np.zeros(len(text), dtype=bool)
    if len(rest):
        found = pc.match_substring_regex(arrow.take(pa.array(rest)), control)
        bad[rest] = np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    log.row_problems(
        table, bad & ~too_long, column, text, lambda v, _: f"{what} '{_shown(v)}' holds a control character"
    )


def _check_money(table: _Table, column: str, values: pd.Series, limit: float, log: _ProblemLog) -> None:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.abs(v) > limit
    log.row_problems(
        table, out, column, values.reset_index(drop=True), lambda x, _: f"{column} {x!s} is beyond +/-{limit:,.0f}"
    )


def _check_dates(
    table: _Table, column: str, values: pd.Series, bounds: tuple[pd.Timestamp, pd.Timestamp], log: _ProblemLog
) -> None:
    earliest, latest = bounds
    v = pd.Series(values).reset_index(drop=True)
    early = (v < earliest).to_numpy(dtype=bool, na_value=False)
    late = (v > latest).to_numpy(dtype=bool, na_value=False)
    log.row_problems(table, early, column, v, lambda x, _: f"{column} {x} is before {earliest.date()}")
    log.row_problems(table, late, column, v, lambda x, _: f"{column} {x} is after {latest} (in the future)")


def _check_limits(
    tables: dict[str, _Table | None],
    accounts: pd.DataFrame,
    links_state: dict,
    transactions: pd.DataFrame,
    limits: InputLimits,
    as_of: object,
    log: _ProblemLog,
) -> None:
    """Values past the input limits, as ordinary row problems (positions align with the tables)."""
    bounds = limits.date_range(as_of)
    for name, table in tables.items():
        if table is None:
            continue
        for column in _ID_COLUMNS[name]:
            if column in table.frame:
                _check_text(table, column, limits.max_id_length, ID_CONTROL, column, log)
    links = tables.get("links")
    if links is not None and "value" in links.frame:
        text = links_state.get("value_text")
        _check_text(links, "value", limits.max_value_length, VALUE_CONTROL, "value", log, text)
    if links is not None and "first_seen" in links_state:
        _check_dates(links, "first_seen", links_state["first_seen"], bounds, log)
    acc = tables.get("accounts")
    if acc is not None and len(accounts) == len(acc.frame):
        for column in ("credit_limit", "balance"):
            _check_money(acc, column, accounts[column], limits.max_money, log)
        _check_dates(acc, "created_at", accounts["created_at"], bounds, log)
    txn = tables.get("transactions")
    if txn is not None and len(transactions) == len(txn.frame):
        _check_money(txn, "amount", transactions["amount"], limits.max_money, log)
        _check_dates(txn, "timestamp", transactions["timestamp"], bounds, log)


def _empty_accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": pd.Series([], dtype="str"),
            "created_at": pd.Series([], dtype="datetime64[ns]"),
            "credit_limit": pd.Series([], dtype="float64"),
            "balance": pd.Series([], dtype="float64"),
            "overdue_days": pd.Series([], dtype="int64"),
            "status": pd.Series([], dtype="str"),
            "label": pd.Series([], dtype=object),
            "properties": pd.Series([], dtype="str"),
        }
    )


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": pd.Series([], dtype="str"),
            "kind": pd.Series([], dtype="str"),
            "value": pd.Series([], dtype="str"),
            "key": pd.Series([], dtype=object),
            "first_seen": pd.Series([], dtype="datetime64[ns]"),
        }
    )


def _empty_transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "txn_id": pd.Series([], dtype="str"),
            "account_id": pd.Series([], dtype="str"),
            "counterparty": pd.Series([], dtype="str"),
            "counterparty_kind": pd.Series([], dtype="str"),
            "amount": pd.Series([], dtype="float64"),
            "timestamp": pd.Series([], dtype="datetime64[ns]"),
            "status": pd.Series([], dtype="str"),
        }
    )
