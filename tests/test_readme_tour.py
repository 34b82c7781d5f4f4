"""The README's tour uses ids that exist in the world its first line generates."""

from __future__ import annotations

import re
from pathlib import Path

from fraudgraph.app.sweep import run_sweep
from fraudgraph.ingest.contract import read_dataset
from fraudgraph.synthetic.world import generate_world, write_world
from fraudgraph.workspace.sqlite import SqliteWorkspace

README = Path(__file__).resolve().parents[1] / "README.md"


def tour() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## A tour of the command line", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("fraudgraph")]


def test_every_ring_and_account_in_the_tour_exists(tmp_path):
    lines = tour()
    generate = re.search(r"generate \S+ --accounts (\d+) --seed (\d+)", lines[0])
    assert generate, "the tour starts by generating its world"
    n_accounts, seed = int(generate.group(1)), int(generate.group(2))
    write_world(generate_world(n_accounts, seed), tmp_path / "world")
    with SqliteWorkspace(tmp_path / "bank.db") as ws:
        ws.load(read_dataset(tmp_path / "world"))
        run_sweep(ws)
        rings = set(ws.table("rings")["ring_id"])
        accounts = set(ws.accounts()["account_id"])
    text = "\n".join(lines)
    ring_ids = set(re.findall(r"\bR-\d{6}\b", text))
    account_ids = set(re.findall(r"\bA\d{7}\b", text))
    assert ring_ids and account_ids
    assert ring_ids <= rings, ring_ids - rings
    assert account_ids <= accounts, account_ids - accounts
