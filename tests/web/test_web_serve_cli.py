"""`fraudgraph serve` from the command line: it serves the workspace on 127.0.0.1, refuses a
missing workspace, and says how to install the web extra when it is missing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

from click.testing import CliRunner

from fraudgraph.cli import cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_without_the_web_extra_says_how_to_install_it(monkeypatch, db_copy):
    from fraudgraph.cli import serve

    monkeypatch.setattr(serve, "missing_web_modules", lambda: ["starlette"])
    result = CliRunner().invoke(cli, ["--db", str(db_copy), "serve"])
    assert result.exit_code == 2
    assert "pip install 'fraudgraph[web]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_serve_refuses_a_missing_workspace(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "serve", "--port", str(free_port())])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_serve_binds_to_this_machine_by_default():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output


def test_serve_answers_on_its_port_and_checks_events_under_its_policy(db_copy, tmp_path):
    from test_web_check import NEW, suspended_strong_link

    _, _, kind, value = suspended_strong_link(db_copy)
    policy = tmp_path / "policy.toml"
    policy.write_text('[realtime]\nstrong_tie_cap = "review"\n')
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fraudgraph",
            "--db",
            str(db_copy),
            "serve",
            "--port",
            str(port),
            "--policy",
            str(policy),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/queue?limit=3", timeout=5) as r:
                    answer = json.load(r)
                    timing = r.headers["Server-Timing"]
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the workbench did not answer within 60 s"
                time.sleep(0.2)
        assert len(answer["rows"]) == 3 and answer["total"] > 3
        assert timing.startswith("app;dur=")
        event = json.dumps({"account": NEW, "links": [{"kind": kind, "value": value}]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/check", data=event, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            checked = json.load(r)
        assert checked["action"] == "review" and checked["held"]  # the policy given caps a strong tie
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in err


def test_serve_refuses_a_bad_policy_file(db_copy, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[realtime]\nstrong_tie_cap = 3\n")
    result = CliRunner().invoke(cli, ["--db", str(db_copy), "serve", "--port", str(free_port()), "--policy", str(bad)])
    assert result.exit_code == 1 and "strong_tie_cap" in result.output


def test_serve_says_when_its_port_is_taken(db_copy):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["--db", str(db_copy), "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output
