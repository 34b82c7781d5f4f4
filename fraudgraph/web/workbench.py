"""The workbench's state: the open workspace, the one thread that uses it, the queue cache, and
the few helpers the handlers share (downloads, cookies, links)."""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from fraudgraph.app.check import Checker
from fraudgraph.decisions.policy import Policy
from fraudgraph.model.config import WorkspaceConfig
from fraudgraph.model.masking import MASKED
from fraudgraph.web import data
from fraudgraph.workspace.base import Workspace

ANALYST_COOKIE = "fraudgraph_analyst"
EXPORT_FORMATS = {
    "graphml": "application/graphml+xml",
    "gexf": "application/xml",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "cypher": "text/plain; charset=utf-8",
}
QUEUE_TTL_SECONDS = 60.0


class Workbench:
    """The open workspace, the thread that uses it, the queue's snapshot and the real-time checker."""

    def __init__(
        self,
        open_workspace: Callable[[], Workspace],
        *,
        hub_threshold: int,
        kinds: tuple[str, ...],
        policy: Policy | None = None,
        config: WorkspaceConfig | None = None,
    ):
        self.open_workspace = open_workspace
        self.hub_threshold = hub_threshold
        self.kinds = kinds
        self.policy = policy or Policy.default()
        self.config = config or WorkspaceConfig()
        self.checker: Checker | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fraudgraph-workspace")
        self.ws: Workspace | None = None
        self.snapshot: data.QueueSnapshot | None = None
        self.snapshot_at = 0.0

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(workspace, ...)`` (in the workspace thread)."""
        if self.ws is None:
            self.ws = self.open_workspace()
        return fn(self.ws, *args, **kwargs)

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(self.call, fn, *args, **kwargs))

    def queue_snapshot(self, ws: Workspace) -> tuple[data.QueueSnapshot, bool]:
        """The queue's snapshot, and whether it is older than ``QUEUE_TTL_SECONDS`` (the caller then
        schedules ``refresh_queue`` after its answer, so changes made elsewhere show soon)."""
        if self.snapshot is None:
            self.snapshot = data.QueueSnapshot.read(ws)
            self.snapshot_at = time.monotonic()
        return self.snapshot, time.monotonic() - self.snapshot_at > QUEUE_TTL_SECONDS

    def refresh_queue(self, ws: Workspace, account_ids: list[str] | None = None) -> None:
        """Bring the snapshot up to date: for ``account_ids`` (changed here), or for everything."""
        if self.snapshot is None:
            return
        self.snapshot = self.snapshot.refreshed(ws, account_ids)
        if account_ids is None:
            self.snapshot_at = time.monotonic()

    def check(self, ws: Workspace, event: dict[str, Any], *, apply: bool, actor: str) -> dict[str, Any]:
        """``fraudgraph check`` for one event, through the app's one ``Checker`` (made on first use;
        the workspace thread is the only one that uses it, so setting its actor per call is safe)."""
        if self.checker is None:
            from fraudgraph.app.privacy import check_secret

            # A pseudonymized workspace: events are pseudonymized with the operator's key.
            self.checker = Checker(ws, policy=self.policy, config=self.config, secret=check_secret(ws))
        self.checker.actor = actor
        try:
            return self.checker.check(event, apply=apply)
        finally:
            self.checker.actor = "check"

    def close(self) -> None:
        def shut(_ws: Workspace) -> None:
            _ws.close()

        if self.ws is not None:
            self.executor.submit(shut, self.ws).result()
            self.ws = None
        self.executor.shutdown(wait=True)


def query_url(path: str, params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    return path + "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def analyst_of(request: Request) -> str:
    return request.cookies.get(ANALYST_COOKIE, "")


def export_bytes(G: Any, fmt: str) -> bytes:
    """One export of the subgraph ``G`` in ``fmt``, as the file ``outputs.export`` writes, with its
    identifiers masked (as the CLI's export without ``--reveal``)."""
    from fraudgraph.outputs.export import export_graph
    from fraudgraph.outputs.shown import shown_graph

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        export_graph(shown_graph(G, MASKED), path, fmt)
        return path.read_bytes()


def report_bytes(ws: Workspace, ring_id: str, hub_threshold: int) -> bytes:
    """The ring's case report (HTML, self-contained), as ``outputs.report`` writes it, masked."""
    from fraudgraph.app.investigate import case_report_inputs
    from fraudgraph.outputs.report import write_report
    from fraudgraph.outputs.shown import shown_report_inputs

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"case-{ring_id}.html"
        inputs = case_report_inputs(ws, ring_id, hub_threshold=hub_threshold)
        write_report(path, **shown_report_inputs(inputs, MASKED))
        return path.read_bytes()
