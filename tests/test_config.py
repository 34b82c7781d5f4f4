"""Workspace configuration: extra identifier kinds are accepted only when declared, then they link."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fraudgraph.cli.main import cli
from fraudgraph.model.config import ConfigError, load_config


def _world(folder):
    folder.mkdir()
    accounts = ["account_id,created_at,credit_limit,balance"]
    links = ["account_id,kind,value,first_seen"]
    for i in range(40):
        accounts.append(f"L{i:03d},2025-0{1 + i % 9}-1{i % 10},1000,{100 + i}")
        links.append(f"L{i:03d},email,person{i}@example.com,2025-01-01")
    for i in range(3):  # three accounts share one loyalty card, and nothing else
        links.append(f"L{i:03d},loyalty_card,LC-777,2025-01-02")
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n")
    (folder / "links.csv").write_text("\n".join(links) + "\n")


def test_undeclared_kind_is_rejected_and_declared_kind_links(tmp_path):
    _world(tmp_path / "data")
    db = tmp_path / "ws.db"
    r = CliRunner().invoke(cli, ["--db", str(db), "-q", "load", str(tmp_path / "data")])
    assert r.exit_code == 1 and "loyalty_card" in r.stderr
    cfg = tmp_path / "fraudgraph.toml"
    cfg.write_text("[kinds]\nloyalty_card = 3.0\n")
    r = CliRunner().invoke(cli, ["--db", str(db), "--config", str(cfg), "-q", "load", str(tmp_path / "data")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["--db", str(db), "--config", str(cfg), "-q", "sweep"])
    assert r.exit_code == 0, r.output
    ring = json.loads(CliRunner().invoke(cli, ["--db", str(db), "account", "L000", "--format", "json"]).stdout)[
        "ring_id"
    ]
    assert ring is not None
    members = json.loads(CliRunner().invoke(cli, ["--db", str(db), "ring", ring, "--format", "json"]).stdout)["members"]
    assert sorted(m["account_id"] for m in members) == ["L000", "L001", "L002"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[kinds]\nloyalty_card = -1\n", "fraudgraph.toml:2: kinds.loyalty_card: weight -1"),
        ("[kinds]\ndevice = 1\n", "built-in kind"),
        ("[detection]\nhub_kap = 3\n", "fraudgraph.toml:2: detection.hub_kap: unknown setting"),
        ("[colours]\nx = 1\n", "colours: unknown section"),
        ("[kinds\n", "not valid TOML"),
        ('[detection]\nhub_cap = "60"\n', "fraudgraph.toml:2: detection.hub_cap: '60' is not a number"),
        ("[detection]\nhub_cap = true\n", "fraudgraph.toml:2: detection.hub_cap: True is not a number"),
        (
            '[detection]\nkind_weights = { device = "x" }\n',
            "detection.kind_weights.device: Input should be a valid number",
        ),
        ("[limits]\nmax_money = -1\n", "fraudgraph.toml:2: limits.max_money: max_money must be > 0"),
        ("[limits]\nmax_monee = 1\n", "fraudgraph.toml:2: limits.max_monee: unknown setting"),
    ],
)
def test_invalid_configuration_is_a_clear_error(tmp_path, text, message):
    cfg = tmp_path / "fraudgraph.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_config(cfg)


def test_detection_settings_reach_the_detection_config(tmp_path):
    cfg = tmp_path / "fraudgraph.toml"
    cfg.write_text("[kinds]\nloyalty_card = 0.5\n[detection]\nhub_cap = 77\n")
    dc = load_config(cfg).detection_config()
    assert dc.hub_cap == 77 and dc.extra_kinds == {"loyalty_card": 0.5}


def test_a_sweep_under_a_configuration_without_the_declared_kind_says_what_is_missing(tmp_path):
    _world(tmp_path / "data")
    db = tmp_path / "ws.db"
    cfg = tmp_path / "fraudgraph.toml"
    cfg.write_text("[kinds]\nloyalty_card = 3.0\n")
    other = tmp_path / "other.toml"
    other.write_text("[detection]\n")
    assert (
        CliRunner().invoke(cli, ["--db", str(db), "--config", str(cfg), "-q", "load", str(tmp_path / "data")]).exit_code
        == 0
    )
    r = CliRunner().invoke(cli, ["--db", str(db), "-q", "sweep", "--config", str(other)])
    assert r.exit_code == 1 and "loyalty_card" in r.stderr and "--config" in r.stderr
    assert "not the configuration the workspace was loaded with" in r.stderr


def test_the_workspace_remembers_the_configuration_it_was_loaded_with(tmp_path):
    _world(tmp_path / "data")
    db = tmp_path / "ws.db"
    cfg = tmp_path / "fraudgraph.toml"
    cfg.write_text("[kinds]\nloyalty_card = 3.0\n")
    load = CliRunner().invoke(cli, ["--db", str(db), "--config", str(cfg), "-q", "load", str(tmp_path / "data")])
    assert load.exit_code == 0, load.output
    cfg.unlink()  # the workspace keeps the text, not just the path
    r = CliRunner().invoke(cli, ["--db", str(db), "-q", "sweep"])
    assert r.exit_code == 0, r.stderr
    status = CliRunner().invoke(cli, ["--db", str(db), "status"])
    assert "fraudgraph.toml" in status.output
