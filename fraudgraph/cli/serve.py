"""`fraudgraph serve`: the investigator workbench, a local web app over the workspace."""

from __future__ import annotations

import importlib.util
import ipaddress
import socket

import click

from fraudgraph.cli.main import cli
from fraudgraph.cli.render import policy_from

WEB_MODULES = ("starlette", "jinja2", "uvicorn", "multipart")


def missing_web_modules() -> list[str]:
    return [name for name in WEB_MODULES if importlib.util.find_spec(name) is None]


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (in use, no such address), or None."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        return f"cannot listen on {host}: {e.strerror or e}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            return f"cannot listen on {host}:{port}: {e.strerror or e} (choose another with --port)"
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (this machine only by default)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Policy TOML file for POST /api/check and the previews (default: the packaged policy).",
)
@click.pass_context
def serve(ctx, host, port, policy_file):
    """The investigator workbench: queue, rings, accounts, actions and search in a browser.

    It has no login: every analyst types a name, which goes into the audit trail. Keep it on
    127.0.0.1 (the default) or behind a proxy that authenticates.

    \b
    Example:
      fraudgraph --db bank.db serve
      fraudgraph --db bank.db serve --port 9000
    """
    missing = missing_web_modules()
    if missing:
        click.echo(
            f"Error: the workbench needs the web extra ({', '.join(missing)} missing): pip install 'fraudgraph[web]'",
            err=True,
        )
        ctx.exit(2)
    import uvicorn

    from fraudgraph.model.frames import IDENTIFIER_KINDS
    from fraudgraph.web.app import create_app

    obj = ctx.obj
    ws = obj.workspace()  # opens (or refuses) now, before the server starts
    config = obj.config()
    policy = policy_from(policy_file)
    kinds = tuple(dict.fromkeys([*IDENTIFIER_KINDS, *getattr(config, "extra_kinds", {})]))
    if ws.backend == "sqlite":  # a SQLite connection belongs to its thread: the server opens its own
        from fraudgraph.workspace.sqlite.store import SqliteWorkspace

        db = obj["db"]

        def open_workspace():
            return SqliteWorkspace(db, create=False)
    else:

        def open_workspace():
            return ws

    problem = port_problem(host, port)
    if problem:
        click.echo(f"Error: {problem}", err=True)
        ctx.exit(1)
    # On this machine only, requests must name it: another site's page cannot reach the workbench
    # by pointing its own name at 127.0.0.1.
    hosts = ["127.0.0.1", "localhost", "[::1]", host] if is_loopback(host) else None
    app = create_app(
        open_workspace, hub_threshold=obj.hub_cap(), kinds=kinds, allowed_hosts=hosts, policy=policy, config=config
    )
    if not is_loopback(host):
        click.echo(
            f"Warning: listening on {host}: the workbench has no login; anyone who reaches it can act.", err=True
        )
    click.echo(f"fraudgraph workbench on http://{host}:{port}/  (Ctrl+C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
