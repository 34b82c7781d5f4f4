"""The fraudgraph command line: parse, make one library call, format, map errors to exit codes.

Data goes to stdout; progress, logs and warnings to stderr. Exit codes: 0 success, 1 a
runtime or data error (one line, no traceback), 2 a usage error, 75 when another sweep holds
the lock or the workspace is taking its first load (temporary failure, as in sysexits:
schedulers retry).
"""

from __future__ import annotations

import gc
import logging
import os
import sys

import click

from fraudgraph import __version__
from fraudgraph.errors import FraudGraphError, InputError, LockedError
from fraudgraph.model import lifetime
from fraudgraph.workspace.base import Workspace

EX_TEMPFAIL = 75
log = logging.getLogger("fraudgraph")


# -- workspace selection ---------------------------------------------------------------------
class Context(dict):
    """Options of the top-level group; opens the workspace on first use."""

    def workspace(self, *, create: bool = False):
        if "ws" in self:
            return self["ws"]
        ws: Workspace
        if self.get("neo4j"):
            from fraudgraph.workspace.neo4j.store import connect

            password = os.environ.get("FRAUDGRAPH_NEO4J_PASSWORD")
            if password is None:
                if not sys.stdin.isatty():
                    raise FraudGraphError(
                        "no Neo4j password: set FRAUDGRAPH_NEO4J_PASSWORD (it is never taken as a flag)"
                    )
                password = click.prompt("Neo4j password", hide_input=True, err=True)
            ws = connect(self["neo4j"], self.get("neo4j_user") or "neo4j", password, self.get("neo4j_database"))
        else:
            from fraudgraph.workspace.sqlite.store import SqliteWorkspace

            ws = SqliteWorkspace(self["db"], create=create)
        self["ws"] = ws
        return ws

    def config(self):
        """The workspace configuration: ``--config`` when given (noted when the workspace was loaded
        with another), else the one the workspace was last loaded with, else the defaults."""
        from pathlib import Path

        from fraudgraph.model.config import config_from_text, load_config

        if "config" in self:
            return self["config"]
        remembered = self.remembered_config()
        if self.get("config_file"):
            config = load_config(self["config_file"])
            if remembered and remembered.get("text") != config.text:
                click.echo(
                    f"Note: using --config {self['config_file']}, not the configuration the workspace was "
                    f"loaded with ({remembered.get('path') or 'unnamed'})",
                    err=True,
                )
        elif remembered:
            config = config_from_text(str(remembered.get("text", "")), Path(str(remembered.get("path") or "config")))
            log.info("using the configuration the workspace was loaded with (%s)", remembered.get("path"))
        else:
            config = load_config(None)
        self["config"] = config
        return config

    def remembered_config(self) -> dict | None:
        """The configuration the workspace's last load recorded (path, text), if any."""
        if not self.get("neo4j") and not os.path.exists(self["db"]):
            return None
        last = self.workspace().last_load()
        remembered = (last or {}).get("config")
        return remembered if isinstance(remembered, dict) and remembered.get("text") is not None else None

    def hub_cap(self) -> int:
        """Investigation walks through the identifiers detection links by, and no others."""
        return self.config().detection_config().hub_cap

    def close(self):
        ws = self.pop("ws", None)
        if ws is not None:
            ws.close()


# The workspace options: given before or after the subcommand (`fraudgraph load DIR --db x.db`).
WORKSPACE_OPTIONS = ("--db", "--neo4j", "--neo4j-user", "--neo4j-database", "--config")


def workspace_options_first(args: list[str]) -> list[str]:
    """`args` with every workspace option (and its value) moved to the front, in order.

    No subcommand has an option of these names, so moving them cannot change a meaning; an
    argument after `--` is left alone.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if name in WORKSPACE_OPTIONS:
            takes = 1 if "=" in arg else 2
            front.extend(args[i : i + takes])
            i += takes
            continue
        rest.append(arg)
        i += 1
    return front + rest


class FraudGraphGroup(click.Group):
    """Turns library errors into one line on stderr and the documented exit codes."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, workspace_options_first(list(args)))

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LockedError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(EX_TEMPFAIL)
        except FraudGraphError as e:
            first, *rest = error_lines(e)
            click.echo(f"Error: {first}", err=True)
            for line in rest:
                click.echo(f"  {line}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `fraudgraph rings | head`: the reader left; nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # an internal error is still one line unless -v asked for more
            if log.isEnabledFor(logging.DEBUG):
                raise
            click.echo(f"Error: internal error: {type(e).__name__}: {e} (run with -v for the traceback)", err=True)
            ctx.exit(1)
        finally:
            obj = ctx.obj
            if isinstance(obj, Context):
                obj.close()


@click.group(cls=FraudGraphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="FRAUDGRAPH_DB",
    default="fraudgraph.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite workspace file.",
)
@click.option(
    "--neo4j",
    envvar="FRAUDGRAPH_NEO4J_URI",
    default=None,
    metavar="URI",
    help="Use the Neo4j workspace at this bolt:// or neo4j:// URI instead of SQLite.",
)
@click.option("--neo4j-user", envvar="FRAUDGRAPH_NEO4J_USER", default=None, metavar="U", help="Neo4j user.")
@click.option("--neo4j-database", envvar="FRAUDGRAPH_NEO4J_DATABASE", default=None, metavar="D", help="Neo4j database.")
@click.option(
    "--config",
    "config_file",
    envvar="FRAUDGRAPH_CONFIG",
    default=None,
    type=click.Path(dir_okay=False),
    help="Workspace configuration (TOML): extra identifier kinds and their weights, detection settings.",
)
@click.option("-v", "--verbose", count=True, help="More logging on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Less logging on stderr (no progress).")
@click.version_option(__version__, prog_name="fraudgraph")
@click.pass_context
def cli(ctx, db, neo4j, neo4j_user, neo4j_database, config_file, verbose, quiet):
    """fraudgraph: find fraud rings in account data and act on them.

    The password for Neo4j comes from FRAUDGRAPH_NEO4J_PASSWORD or a prompt, never a flag.

    \b
    Example:
      fraudgraph demo
      fraudgraph --db bank.db load ./extract && fraudgraph --db bank.db sweep
    """
    level = logging.WARNING if not verbose else (logging.INFO if verbose == 1 else logging.DEBUG)
    if quiet:
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = Context(
        db=db,
        neo4j=neo4j,
        neo4j_user=neo4j_user,
        neo4j_database=neo4j_database,
        quiet=quiet,
        config_file=config_file,
    )


# Where each library setting named by an error is given on the command line.
FLAG_OF_SETTING = {
    "config": "--config FILE or FRAUDGRAPH_CONFIG",
    "note": "--note",
    "reason": "--reason",
    "engine": "--engine",
}


def error_line(error: FraudGraphError) -> str:
    """An error as the CLI prints it: the library's words, plus the flag that changes the setting."""
    flag = FLAG_OF_SETTING.get(error.setting or "")
    return f"{error} ({flag})" if flag else str(error)


# Problems of a rejected data folder printed one per line; the rest are counted.
PROBLEMS_SHOWN = 20


def error_lines(error: FraudGraphError) -> list[str]:
    """The lines of an error: one for most; for bad input, the first problem on the ``Error:`` line
    (so it names a file), then one problem per line, the first 20, then how many more."""
    if not isinstance(error, InputError) or len(error.problems) < 2:
        return [error_line(error)]
    total = max(getattr(error, "total", 0), len(error.problems))
    shown = [str(p) for p in error.problems[:PROBLEMS_SHOWN]]
    lines = [f"{shown[0]}   [{total:,} problems; load --errors FILE writes them all]", *shown[1:]]
    if total > len(shown):
        lines.append(f"... and {total - len(shown):,} more")
    return lines


def main() -> None:
    # A load or a sweep holds millions of Python objects (ids, reason and feature dicts). CPython's
    # default collects the young generation every 700 new container objects, and each third level
    # of those walks the older ones: 2,100 collections, 8 s of a 55 s sweep at 1M accounts (5 s of
    # the load). Every 100,000: cycles are still collected, results and peak memory are the same.
    gc.set_threshold(100_000, 50, 100)
    lifetime.command_process()
    try:
        cli(prog_name="fraudgraph")
    except SystemExit as stop:
        # Output flushed and the workspace closed: the process ends without freeing what its
        # command built (fraudgraph.model.lifetime; a 1M-account sweep returns 1.5 s sooner).
        lifetime.exit_now(stop.code)


if __name__ == "__main__":  # pragma: no cover
    main()
