"""Time a load step by step, side by side with the alternatives, on a data folder (e.g. 1M accounts).

Usage:
    python benchmarks/bench_load.py --folder /work/bench/1000000/world [--work /tmp/bench-load]
        [--baseline-src /path/to/another/checkout] [--only floor,sqlite,baseline,duckdb,adbc,cli]

Each variant runs in a fresh process, one after the other, and reports wall and CPU seconds per
step and the peak memory of its process (the machine may be shared: CPU seconds are the steadier
figure):

- ``floor``: pandas reads the three CSVs as strings (the issue's read floor), and pyarrow does.
- ``sqlite``: this checkout: ``read_dataset`` (read + validate + normalize), then
  ``SqliteWorkspace.load`` per stage (plan + accounts, links, transactions, indexes, snapshot and
  commit), then ``status`` (query time).
- ``baseline``: the same with the ``fraudgraph`` of another checkout (``--baseline-src``, e.g. the
  main branch before a change), so a before/after runs in the same conditions.
- ``duckdb``: the validated frames into a DuckDB file instead (CREATE TABLE AS from Arrow, then the
  same secondary indexes): the bulk-load alternative. Needs ``duckdb`` installed (not a dependency).
- ``adbc``: the two bulk tables the load still binds from Python (accounts, transactions), both
  ways on the same validated frames: as the load binds them (``insert_columns``, many rows per
  statement), and through Arrow ADBC's SQLite driver (Arrow columns bound in C) into a staging
  file, then copied into the workspace by SQL. The driver carries its own copy of SQLite, which
  must never open a file the process's ``sqlite3`` has open (SQLite's POSIX locks are per
  process: two copies in one process can corrupt a database), hence the staging file. Checks
  that both ways store the same rows. Needs ``adbc-driver-sqlite`` installed (not a dependency).
- ``cli``: ``fraudgraph load`` and ``fraudgraph status`` as whole processes (start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
SRC = HERE.parent.parent


def _clock():
    start, cpu = time.perf_counter(), time.process_time()
    return lambda: (time.perf_counter() - start, time.process_time() - cpu)


def _peak_mb() -> float:
    """This process's peak resident memory so far (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Steps:
    """Progress messages turned into (step, wall, cpu, peak memory at its end) intervals."""

    def __init__(self) -> None:
        self.clock = _clock()
        self.events: list[tuple[str, float, float, float]] = [("start", 0.0, 0.0, _peak_mb())]

    def mark(self, name: str) -> None:
        self.events.append((name, *self.clock(), _peak_mb()))

    def intervals(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for (_, w0, c0, _), (name, w1, c1, peak) in zip(self.events, self.events[1:]):
            wall, cpu, _ = out.get(name, [0.0, 0.0, 0.0])
            out[name] = [round(wall + w1 - w0, 2), round(cpu + c1 - c0, 2), round(peak)]
        return out


def _load_step(message: str) -> str | None:
    """The stage a SqliteWorkspace.load progress message ends (None: a message inside a stage)."""
    # Schema 3's order: accounts, transactions, then who holds which identifier (the links' only
    # SQLite rows), the transactions' indexes, the snapshot, the status counts.
    for prefix, step in (
        ("accounts:", "plan + accounts"),
        ("transactions:", "transactions"),
        ("indexing", None),
        ("updating the columnar snapshot", "indexes"),
        ("counting identifiers", "snapshot"),
    ):
        if message.startswith(prefix):
            return step
    if message.startswith("links:") and "indexed" in message:
        return "links (identifier index)"
    return None


def child_sqlite(folder: str, db: str) -> dict:
    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    steps = Steps()
    dataset = read_dataset(folder)
    steps.mark("read + validate + normalize")
    ws = SqliteWorkspace(db)
    last = {"step": "plan + accounts"}

    def say(message: str) -> None:
        step = _load_step(message)
        if step is not None:
            steps.mark(step)
        if message.startswith("counting identifiers"):
            last["step"] = "status counts + commit"

    ws.load(dataset, progress=say)
    steps.mark(last["step"])
    del dataset
    clock = _clock()
    ws.status()
    status_s = clock()[0]
    ws.close()
    return {"steps": steps.intervals(), "status_query_s": round(status_s, 4), "db_mb": _size_mb(db)}


def _stored_accounts(acc):
    """The accounts as the load stores them (``store._account_columns``), as Arrow
    columns made without a Python object per value."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    def ns(col):
        values = pd.to_datetime(col).to_numpy(dtype="datetime64[ns]").astype("int64")
        return pa.array(values, mask=pd.isna(col).to_numpy())

    def floats(col):
        values = col.astype("float64").to_numpy()
        return pa.array(values, mask=np.isnan(values))

    label = pa.array(acc["label"].astype(object).where(acc["label"].notna(), None), pa.string())
    return pa.table(
        {
            "account_id": pa.array(acc["account_id"], pa.string()),
            "created_at": ns(acc["created_at"]),
            "credit_limit": floats(acc["credit_limit"]),
            "balance": floats(acc["balance"]),
            "overdue_days": pa.array(acc["overdue_days"].astype("int64").to_numpy()),
            "status": pa.array(acc["status"], pa.string()),
            "label": pc.if_else(pc.equal(label, ""), pa.scalar(None, pa.string()), label),
            "properties": pa.array(acc["properties"], pa.string()),
        }
    )


def _stored_transactions(txns):
    """The transactions as the load stores them (``store._transaction_columns``), as Arrow columns."""
    import pandas as pd
    import pyarrow as pa

    stamps = pd.to_datetime(txns["timestamp"]).to_numpy(dtype="datetime64[ns]").astype("int64")
    return pa.table(
        {
            **{
                c: pa.array(txns[c], pa.string()) for c in ("txn_id", "account_id", "counterparty", "counterparty_kind")
            },
            "amount": pa.array(txns["amount"].astype("float64").to_numpy()),
            "timestamp": pa.array(stamps, mask=pd.isna(txns["timestamp"]).to_numpy()),
            "status": pa.array(txns["status"], pa.string()),
        }
    )


def _bare_workspace(db: str):
    """A new workspace's tables, without the secondary indexes a first load builds after its rows."""
    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    ws = SqliteWorkspace(db)
    names = [r[0] for r in ws._db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
    for name in names:
        ws._db.execute(f"DROP INDEX {name}")
    return ws


def child_adbc(folder: str, db: str) -> dict:
    import sqlite3

    import adbc_driver_sqlite.dbapi as adbc

    from fraudgraph.ingest.contract import read_dataset
    from fraudgraph.model.frames import ACCOUNT_COLUMNS, TRANSACTION_COLUMNS
    from fraudgraph.workspace.sqlite.schema import upsert_clause

    dataset = read_dataset(folder)
    steps = Steps()
    python_db = f"{db}.python.db"
    ws = _bare_workspace(python_db)
    with ws._transaction():
        ws._upsert_accounts(dataset.accounts)
        steps.mark("accounts, bound from Python")
        ws._upsert_transactions(dataset.transactions)
        steps.mark("transactions, bound from Python")
    steps.mark("commit (the load's way)")
    schema = {
        t: ws._db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
        for t in ("accounts", "transactions")
    }
    ws.close()

    tables = {
        "accounts": _stored_accounts(dataset.accounts),
        "transactions": _stored_transactions(dataset.transactions),
    }
    steps.mark("both as Arrow columns")
    stage = f"{db}.stage.db"
    with adbc.connect(stage, autocommit=True) as con, con.cursor() as cur:
        for pragma in ("journal_mode=OFF", "synchronous=OFF"):
            cur.execute(f"PRAGMA {pragma}")
        for name, table in tables.items():
            cur.execute(schema[name])
            cur.execute("BEGIN")
            cur.adbc_ingest(name, table, mode="append")
            cur.execute("COMMIT")
            steps.mark(f"{name}, ADBC into staging")
    ws = _bare_workspace(db)
    ws.close()
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-262144"):  # the workspace's
        con.execute(f"PRAGMA {pragma}")
    con.execute(f"ATTACH '{stage}' AS staged")
    con.execute("BEGIN IMMEDIATE")
    for name, key, cols in (
        ("accounts", "account_id", ACCOUNT_COLUMNS),
        ("transactions", "txn_id", TRANSACTION_COLUMNS),
    ):
        names = ", ".join(cols)
        con.execute(
            f"INSERT INTO {name} ({names}) SELECT {names} FROM staged.{name} WHERE true {upsert_clause(name, key, cols)}"
        )
        steps.mark(f"{name}, copied in by SQL")
    con.execute("COMMIT")
    steps.mark("commit (the ADBC way)")
    con.execute("DETACH staged")
    con.execute(f"ATTACH '{python_db}' AS python")
    same = all(
        con.execute(f"SELECT count(*) FROM (SELECT * FROM {a}.{t} EXCEPT SELECT * FROM {b}.{t})").fetchone()[0] == 0
        for t in ("accounts", "transactions")
        for a, b in (("main", "python"), ("python", "main"))
    )
    con.close()
    for path in (python_db, stage):
        os.remove(path)
    return {"steps": steps.intervals(), "db_mb": _size_mb(db), "same_rows": same}


def child_duckdb(folder: str, db: str) -> dict:
    import duckdb
    import pyarrow as pa

    from fraudgraph.ingest.contract import read_dataset

    steps = Steps()
    dataset = read_dataset(folder)
    steps.mark("read + validate + normalize")
    con = duckdb.connect(db)
    for name in ("accounts", "links", "transactions"):
        frame = getattr(dataset, name)
        con.register("frame_in", pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame_in")
        con.unregister("frame_in")
        steps.mark(f"{name} (CREATE TABLE AS)")
    con.execute("CREATE INDEX links_by_identifier ON links (kind, key)")
    con.execute("CREATE INDEX links_by_account ON links (account_id)")
    con.execute("CREATE INDEX transactions_by_account ON transactions (account_id)")
    con.execute("CREATE INDEX transactions_by_counterparty ON transactions (counterparty)")
    steps.mark("indexes")
    con.execute("CHECKPOINT")
    steps.mark("checkpoint")
    # The workspace must serve an analyst (another process) while a sweep writes: can it be read?
    reader = "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True).execute('SELECT count(*) FROM accounts')"
    read = subprocess.run([sys.executable, "-c", reader, db], capture_output=True, text=True)
    con.close()
    return {"steps": steps.intervals(), "db_mb": _size_mb(db), "readable_while_writer_open": read.returncode == 0}


# Other ways to store the links in SQLite, each timed on the same rows (a loaded workspace's
# snapshot): the table and the index(es) the point queries need, then the commit.
LINK_SCHEMAS = {
    "today: links (account_id, kind, value) + index (kind, key)": [
        "CREATE TABLE links (account_id TEXT, kind TEXT, value TEXT, key TEXT, first_seen INTEGER, "
        "PRIMARY KEY (account_id, kind, value)) WITHOUT ROWID",
        "INSERT links",
        "CREATE INDEX links_by_identifier ON links (kind, key)",
    ],
    "identifiers table (integer id) + links (account_id, identifier_id, value) + index": [
        "CREATE TABLE identifiers (identifier_id INTEGER PRIMARY KEY, kind TEXT, key TEXT)",
        "CREATE TABLE links (account_id TEXT, identifier_id INTEGER, value TEXT, first_seen INTEGER, "
        "PRIMARY KEY (account_id, identifier_id, value)) WITHOUT ROWID",
        "INSERT identifiers",
        "INSERT links by identifier_id",
        "CREATE UNIQUE INDEX identifiers_by_key ON identifiers (kind, key)",
        "CREATE INDEX links_by_identifier ON links (identifier_id)",
    ],
    "rowid links + index (kind, key) + index (account_id)": [
        "CREATE TABLE links (account_id TEXT, kind TEXT, value TEXT, key TEXT, first_seen INTEGER)",
        "INSERT links",
        "CREATE INDEX links_by_identifier ON links (kind, key)",
        "CREATE INDEX links_by_account ON links (account_id)",
    ],
    "today's links + a (kind, key, account_id, value) table inserted sorted, no index": [
        "CREATE TABLE links (account_id TEXT, kind TEXT, value TEXT, key TEXT, first_seen INTEGER, "
        "PRIMARY KEY (account_id, kind, value)) WITHOUT ROWID",
        "CREATE TABLE link_keys (kind TEXT, key TEXT, account_id TEXT, value TEXT, "
        "PRIMARY KEY (kind, key, account_id, value)) WITHOUT ROWID",
        "INSERT links",
        "INSERT link_keys sorted",
    ],
}


def child_schema(source_db: str, db: str, schema: str) -> dict:
    """One of LINK_SCHEMAS, on the links of the workspace ``source_db`` (its columnar snapshot)."""
    import sqlite3

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from fraudgraph.workspace.sqlite.store import SqliteWorkspace

    with SqliteWorkspace(source_db, create=False) as ws:
        links = pa.Table.from_pandas(ws.links(), preserve_index=False)
    text = pa.schema(
        [pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type) for f in links.schema]
    )
    links = links.cast(text)
    links = links.set_column(4, "first_seen", pc.cast(links.column("first_seen"), pa.int64()))
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-262144"):
        con.execute(f"PRAGMA {pragma}")
    steps = Steps()
    con.execute("BEGIN")

    def columns(table: pa.Table, names: list[str]):
        return zip(*(table.column(n).to_pylist() for n in names))

    for statement in LINK_SCHEMAS[schema]:
        if statement == "INSERT links":
            names = ["account_id", "kind", "value", "key", "first_seen"]
            con.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?)", columns(links, names))
        elif statement == "INSERT identifiers":
            joined = pc.binary_join_element_wise(links.column("kind"), pc.fill_null(links.column("key"), ""), "\x1f")
            encoded = joined.combine_chunks().dictionary_encode()
            order = pc.sort_indices(encoded.dictionary).to_numpy()
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(1, len(order) + 1)
            identifier = rank[encoded.indices.to_numpy()]
            first = np.zeros(len(order), np.int64)
            first[encoded.indices.to_numpy()[::-1]] = np.arange(links.num_rows)[::-1]
            distinct = links.select(["kind", "key"]).take(pa.array(first[order]))
            ids = range(1, len(order) + 1)
            con.executemany(
                "INSERT INTO identifiers VALUES (?, ?, ?)",
                ((i, *row) for i, row in zip(ids, columns(distinct, ["kind", "key"]))),
            )
        elif statement == "INSERT links by identifier_id":
            rows = zip(*(links.column(n).to_pylist() for n in ("account_id",)), identifier.tolist())
            values = zip(rows, links.column("value").to_pylist(), links.column("first_seen").to_pylist())
            con.executemany("INSERT INTO links VALUES (?, ?, ?, ?)", ((a, i, v, f) for (a, i), v, f in values))
        elif statement == "INSERT link_keys sorted":
            keyed = links.filter(pc.is_valid(links.column("key")))
            names = ["kind", "key", "account_id", "value"]
            keyed = keyed.take(pc.sort_indices(keyed, sort_keys=[(n, "ascending") for n in names]))
            con.executemany("INSERT INTO link_keys VALUES (?, ?, ?, ?)", columns(keyed, names))
        else:
            con.execute(statement)
        steps.mark(statement.split(" (")[0] if statement.startswith("CREATE TABLE") else statement.split(" ON ")[0])
    con.execute("COMMIT")
    steps.mark("commit")
    con.close()
    intervals = steps.intervals()
    total = [round(sum(v[i] for v in intervals.values()), 1) for i in (0, 1)]
    return {"steps": intervals, "total": total, "db_mb": _size_mb(db)}


def child_floor(folder: str) -> dict:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    steps = Steps()
    for name in ("accounts", "links", "transactions"):
        pd.read_csv(Path(folder) / f"{name}.csv", dtype=str, keep_default_na=False)
        steps.mark(f"pandas {name}.csv")
    for name in ("accounts", "links", "transactions"):
        path = Path(folder) / f"{name}.csv"
        header = path.open().readline().strip().replace('"', "").split(",")
        pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}))
        steps.mark(f"pyarrow {name}.csv")
    intervals = steps.intervals()
    return {
        "steps": intervals,
        "pandas_s": round(sum(v[0] for k, v in intervals.items() if k.startswith("pandas")), 2),
        "pyarrow_s": round(sum(v[0] for k, v in intervals.items() if k.startswith("pyarrow")), 2),
    }


def _size_mb(path: str) -> float:
    files = [Path(path), Path(path + "-wal")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 1e6, 1)


def _fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".lock", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def run(args: list[str], src: Path | None = None) -> tuple[float, float, str]:
    """Run a process; its wall seconds, its peak RSS in MB and its stdout."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed with exit code {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, out


def variant(name: str, folder: str, work: Path, src: Path, keep: bool = False) -> dict:
    db = work / f"{name}.{'duckdb' if name == 'duckdb' else 'db'}"
    _fresh(db)
    kind = "sqlite" if name in ("sqlite", "baseline") else name
    cmd = [sys.executable, str(HERE), "--child", kind, "--folder", folder, "--db", str(db)]
    wall, rss, out = run(cmd, src)
    result = json.loads(out.strip().splitlines()[-1])
    result.update(wall_s=round(wall, 1), peak_rss_mb=round(rss))
    if not keep:
        _fresh(db)
    return result


def schemas(work: Path) -> dict:
    """LINK_SCHEMAS, each in a fresh process, on the links of the ``sqlite`` variant's workspace."""
    out = {}
    for schema in LINK_SCHEMAS:
        db = work / "schema.db"
        _fresh(db)
        cmd = [sys.executable, str(HERE), "--child", "schema", "--schema", schema, "--db", str(db)]
        _, rss, text = run([*cmd, "--folder", "-", "--source-db", str(work / "sqlite.db")], SRC)
        out[schema] = {**json.loads(text.strip().splitlines()[-1]), "peak_rss_mb": round(rss)}
        _fresh(db)
    _fresh(work / "sqlite.db")
    return out


def cli(folder: str, work: Path) -> dict:
    db = work / "cli.db"
    _fresh(db)
    fg = [sys.executable, "-m", "fraudgraph", "--db", str(db)]
    load_s, load_rss, _ = run([*fg, "-q", "load", folder], SRC)
    status_s, _, _ = run([*fg, "status"], SRC)
    _fresh(db)
    return {"load_s": round(load_s, 1), "load_peak_rss_mb": round(load_rss), "status_s": round(status_s, 2)}


def report(results: dict) -> None:
    floor = results.get("floor")
    if floor:
        print(f"read floor: pandas {floor['pandas_s']} s, pyarrow {floor['pyarrow_s']} s (three CSVs as text)")
    for name in ("baseline", "sqlite", "duckdb", "adbc"):
        r = results.get(name)
        if not r:
            continue
        print(f"\n{name}: {r['wall_s']} s wall, peak {r['peak_rss_mb']:,} MB, file {r['db_mb']:,} MB")
        print(f"  {'step':32} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
        for step, (wall, cpu, peak) in r["steps"].items():
            print(f"  {step:32} {wall:8.1f} {cpu:8.1f} {peak:8,}")
        if "readable_while_writer_open" in r:
            print(f"  another process can read while the writer is open: {r['readable_while_writer_open']}")
        if "same_rows" in r:
            print(f"  both ways store the same rows: {r['same_rows']}")
        if "status_query_s" in r:
            print(f"  status query: {r['status_query_s']} s")
    for schema, r in results.get("schemas", {}).items():
        print(f"\nlinks as {schema}: {r['total'][0]} s wall, {r['total'][1]} s CPU, file {r['db_mb']:,} MB")
        for step, (wall, cpu, _) in r["steps"].items():
            print(f"  {step:60} {wall:8.1f} {cpu:8.1f}")
    if results.get("cli"):
        c = results["cli"]
        print(
            f"\nfraudgraph load: {c['load_s']} s, peak {c['load_peak_rss_mb']:,} MB; fraudgraph status: {c['status_s']} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--work", default="/tmp/bench-load")
    parser.add_argument("--baseline-src", default=None, help="another checkout whose fraudgraph is the baseline")
    parser.add_argument("--only", default="floor,baseline,sqlite,duckdb,adbc,cli")
    parser.add_argument("--schemas", action="store_true", help="also time LINK_SCHEMAS on the loaded links")
    parser.add_argument("--schema", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--source-db", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        out = {
            "sqlite": lambda: child_sqlite(args.folder, args.db),
            "duckdb": lambda: child_duckdb(args.folder, args.db),
            "adbc": lambda: child_adbc(args.folder, args.db),
            "floor": lambda: child_floor(args.folder),
            "schema": lambda: child_schema(args.source_db, args.db, args.schema),
        }[args.child]()
        print(json.dumps(out))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    for name in args.only.split(","):
        if name == "baseline" and not args.baseline_src:
            continue
        if name in ("duckdb", "adbc") and not _has(name):
            print(f"{name} is not installed: skipped")
            continue
        if name == "floor":
            _, rss, out = run([sys.executable, str(HERE), "--child", "floor", "--folder", args.folder])
            results[name] = json.loads(out.strip().splitlines()[-1])
        elif name == "cli":
            results[name] = cli(args.folder, work)
        else:
            src = Path(args.baseline_src) if name == "baseline" else SRC
            results[name] = variant(name, args.folder, work, src, keep=args.schemas and name == "sqlite")
            if args.schemas and name == "sqlite":
                results["schemas"] = schemas(work)
        print(f"{name}: done", file=sys.stderr, flush=True)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _has(variant: str) -> bool:
    """Whether the optional package a variant needs is installed."""
    module = {"duckdb": "duckdb", "adbc": "adbc_driver_sqlite"}[variant]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
