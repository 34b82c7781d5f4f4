"""The workbench as a Starlette application: server-rendered pages (Jinja2, autoescaped) and a
JSON API under ``/api/`` built from the same functions (``web.data``, ``web.actions``).

The workspace is opened once and used from one worker thread only (SQLite connections belong
to the thread that opened them; the Neo4j driver does not mind): every request hands its
workspace work to that thread, so the event loop never blocks and two requests never interleave
their reads and writes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from fraudgraph.decisions.policy import Policy
from fraudgraph.errors import FraudGraphError, LockedError, NotFoundError
from fraudgraph.model.config import WorkspaceConfig
from fraudgraph.model.frames import IDENTIFIER_KINDS
from fraudgraph.web import actions, routes
from fraudgraph.web.workbench import Workbench, analyst_of
from fraudgraph.workspace.base import Workspace


def templates() -> Environment:
    env = Environment(loader=PackageLoader("fraudgraph.web", "templates"), autoescape=True)
    env.filters["money"] = lambda v: "" if v is None else f"{float(v):,.2f}"
    env.filters["score"] = lambda v: "" if v is None else f"{float(v):.2f}"
    env.filters["count"] = lambda v: f"{int(v):,}"
    env.filters["when"] = lambda v: "" if not v else str(v).replace("T", " ")[:19]
    env.filters["words"] = lambda v: str(v or "").replace("_", " ")
    return env


def problem(status: int, message: str, request: Request, wb_env: Environment) -> Response:
    """An error as the client asked for it: JSON under /api/, else a page."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    path = request.url.path
    back = path.removesuffix("/actions").removesuffix("/reveal") if request.method == "POST" else None
    html = wb_env.get_template("error.html").render(
        status=status, message=message, analyst=analyst_of(request), back=back
    )
    return HTMLResponse(html, status_code=status)


def lifespan(wb: Workbench) -> Callable[[Starlette], Any]:
    """At start, read the queue's snapshot in the workspace thread (seconds on a million accounts)
    while the server already answers; at the end, close the workspace."""

    @contextlib.asynccontextmanager
    async def run(_app: Starlette) -> AsyncIterator[None]:
        warm = asyncio.create_task(wb.run(wb.queue_snapshot))
        warm.add_done_callback(lambda t: t.cancelled() or t.exception())  # errors show on the first request
        try:
            yield
        finally:
            wb.close()

    return run


def create_app(
    open_workspace: Callable[[], Workspace],
    *,
    hub_threshold: int,
    kinds: tuple[str, ...] = IDENTIFIER_KINDS,
    allowed_hosts: list[str] | None = None,
    policy: Policy | None = None,
    config: WorkspaceConfig | None = None,
) -> Starlette:
    """The workbench over the workspace ``open_workspace()`` opens (called once, in the worker thread).

    ``allowed_hosts``: the Host names requests may carry (a page of another site that points its
    own name at 127.0.0.1 is then refused); None accepts any. ``policy`` and ``config``: what
    ``POST /api/check`` and the previews decide with (default: the packaged policy, default config)."""
    wb = Workbench(open_workspace, hub_threshold=hub_threshold, kinds=kinds, policy=policy, config=config)
    env = templates()
    pages = routes.Pages(wb, env)
    static = Path(__file__).parent / "static"
    app = Starlette(
        routes=[
            Route("/", pages.home),
            Route("/queue", pages.queue),
            Route("/rings/{ring_id}", pages.ring),
            Route("/rings/{ring_id}/graph.svg", pages.ring_svg),
            Route("/rings/{ring_id}/export.{fmt}", pages.ring_export),
            Route("/rings/{ring_id}/report.html", pages.ring_report),
            Route("/rings/{ring_id}/actions", pages.ring_action, methods=["POST"]),
            Route("/rings/{ring_id}/reveal", pages.ring_reveal, methods=["POST"]),
            Route("/accounts/{account_id}", pages.account),
            Route("/accounts/{account_id}/actions", pages.account_action, methods=["POST"]),
            Route("/accounts/{account_id}/reveal", pages.account_reveal, methods=["POST"]),
            Route("/search", pages.search),
            Route("/sweeps", pages.sweeps),
            Route("/api/queue", pages.api_queue),
            Route("/api/rings/{ring_id}", pages.api_ring),
            Route("/api/rings/{ring_id}/preview", pages.api_ring_preview),
            Route("/api/rings/{ring_id}/actions", pages.api_ring_action, methods=["POST"]),
            Route("/api/rings/{ring_id}/reveal", pages.api_ring_reveal, methods=["POST"]),
            Route("/api/accounts/{account_id}", pages.api_account),
            Route("/api/accounts/{account_id}/preview", pages.api_account_preview),
            Route("/api/accounts/{account_id}/actions", pages.api_account_action, methods=["POST"]),
            Route("/api/accounts/{account_id}/reveal", pages.api_account_reveal, methods=["POST"]),
            Route("/api/check", pages.api_check, methods=["POST"]),
            Route("/api/search", pages.api_search),
            Route("/api/sweeps", pages.api_sweeps),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ],
        exception_handlers={
            NotFoundError: lambda r, e: problem(404, str(e), r, env),
            actions.ConflictError: lambda r, e: problem(409, str(e), r, env),
            actions.ForbiddenError: lambda r, e: problem(403, str(e), r, env),
            LockedError: lambda r, e: problem(503, str(e), r, env),  # a first load is writing it: try again
            FraudGraphError: lambda r, e: problem(400, str(e), r, env),
            ValueError: lambda r, e: problem(400, str(e), r, env),
        },
        lifespan=lifespan(wb),
    )
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.add_middleware(routes.ServerTiming)
    app.state.workbench = wb
    return app
