"""A command's process ends without freeing what it built (fraudgraph.model.lifetime): what a user
sees of it must not change (output whole, exit codes, atexit work, threads finished), and nothing
is held anywhere but in that process."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import weakref

import pandas as pd

from fraudgraph.model import lifetime

# Output through a pipe is buffered, as a user's is (this machine's shells may say otherwise).
_BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _fraudgraph(*args: str) -> subprocess.CompletedProcess:
    return _python("-m", "fraudgraph", *args)


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, env=_BUFFERED)


def test_a_sweep_process_prints_all_it_has_and_the_next_command_reads_what_it_wrote(world_dir, tmp_path):
    db = str(tmp_path / "ws.db")
    assert _fraudgraph("--db", db, "-q", "load", str(world_dir)).returncode == 0
    swept = _fraudgraph("--db", db, "-q", "sweep", "--format", "json")
    assert swept.returncode == 0, swept.stderr
    summary = json.loads(swept.stdout)  # whole: a lost buffer would cut the JSON short
    # Many rows through a pipe: every one arrives, the last line ends.
    listed = _fraudgraph("--db", db, "decisions", "--all", "--limit", "100000", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert listed.stdout.endswith("\n") and len(rows) > 100
    assert rows[0].startswith("account_id")
    shown = _fraudgraph("--db", db, "sweeps", "--format", "json")
    assert json.loads(shown.stdout)[0]["sweep_id"] == summary["sweep_id"]


def test_exit_codes_and_error_lines_are_the_ones_the_command_gives(tmp_path):
    missing = _fraudgraph("--db", str(tmp_path / "ws.db"), "load", str(tmp_path / "no-such-folder"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert "no-such-folder" in missing.stderr
    empty = _fraudgraph("--db", str(tmp_path / "none.db"), "rings")
    assert empty.returncode == 1 and empty.stderr.startswith("Error: ") and empty.stderr.count("\n") == 1


_SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from fraudgraph.model import lifetime
out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
def late():
    time.sleep(0.5)
    (out / "thread").write_text("finished")
if sys.argv[2] == "thread":
    threading.Thread(target=late).start()
print("x" * 200_000)  # more than a pipe holds: flushed before the process ends
lifetime.exit_now({code})
"""


def test_exit_now_flushes_runs_atexit_and_waits_for_a_running_thread(tmp_path):
    for thread in ("thread", "none"):
        folder = tmp_path / thread
        folder.mkdir()
        done = _python("-c", _SCRIPT.format(code="3"), str(folder), thread)
        assert done.returncode == 3
        assert done.stdout == "x" * 200_000 + "\n"
        assert (folder / "atexit").read_text() == "ran"
    assert (tmp_path / "thread" / "thread").read_text() == "finished"


def test_exit_now_takes_what_sys_exit_takes(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from fraudgraph.model import lifetime
        print("out")
        lifetime.exit_now(sys.argv[1] if sys.argv[1] != "none" else None)
        """
    )
    for arg, code, err in (("none", 0, ""), ("stopped here", 1, "stopped here\n")):
        done = _python("-c", script, arg)
        assert (done.returncode, done.stdout, done.stderr) == (code, "out\n", err)


def test_nothing_is_kept_and_the_collector_runs_outside_the_command_process():
    """Tests, the workbench and library callers free what a sweep built, as usual."""
    frame = pd.DataFrame({"a": [1, 2, 3]})
    ref = weakref.ref(frame)
    assert lifetime.one_shot() is False
    lifetime.keep(frame)
    del frame
    assert ref() is None and not lifetime.holding()
    assert gc.isenabled()


def test_an_in_process_sweep_leaves_nothing_held(db_copy):
    from click.testing import CliRunner

    from fraudgraph.cli.main import cli

    done = CliRunner().invoke(cli, ["--db", str(db_copy), "-q", "sweep", "--full", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert not lifetime.holding() and gc.isenabled()
