"""`evaluate` reads the truth file `generate` writes, as CSV or as Parquet (issue 11, item 2)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fraudgraph.cli.main import cli


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == 0, r.output + r.stderr
    return r


def test_evaluate_reads_the_parquet_truth_of_generate_parquet(tmp_path):
    run("generate", tmp_path / "csv", "--accounts", 400, "--seed", 5)
    run("generate", tmp_path / "pq", "--accounts", 400, "--seed", 5, "--parquet")
    assert (tmp_path / "pq" / "truth.parquet").exists()
    db = tmp_path / "ws.db"
    run("--db", db, "-q", "load", tmp_path / "pq")
    run("--db", db, "-q", "sweep")
    from_parquet = json.loads(run("--db", db, "evaluate", tmp_path / "pq" / "truth.parquet", "--format", "json").stdout)
    from_csv = json.loads(run("--db", db, "evaluate", tmp_path / "csv" / "truth.csv", "--format", "json").stdout)
    assert from_parquet == from_csv
    assert from_parquet["accounts"]["n_fraud"] > 0


def test_a_truth_file_that_is_not_parquet_is_one_clear_line(tmp_path, db_copy):
    bad = tmp_path / "truth.parquet"
    bad.write_text("account_id,is_fraud\n")
    r = CliRunner().invoke(cli, ["--db", str(db_copy), "evaluate", str(bad)])
    assert r.exit_code == 1 and "cannot read truth file" in r.stderr and len(r.stderr.strip().splitlines()) == 1
