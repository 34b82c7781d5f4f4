"""The workbench's request handlers: each page and its ``/api/`` twin read the same ``web.data``
answer; the page renders it through a template, the API returns it as JSON."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jinja2 import Environment
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fraudgraph.app.check import EventError
from fraudgraph.app.investigate import record_reveal
from fraudgraph.errors import FraudGraphError, NotFoundError
from fraudgraph.model.masking import REVEALED
from fraudgraph.model.values import jsonable
from fraudgraph.web import actions, data, graph
from fraudgraph.web.actions import ForbiddenError
from fraudgraph.web.workbench import (
    ANALYST_COOKIE,
    EXPORT_FORMATS,
    Workbench,
    analyst_of,
    export_bytes,
    query_url,
    report_bytes,
)

COOKIE_AGE = 180 * 24 * 3600
ACTION_FIELDS = ("action", "note", "analyst", "expected", "back")


class ServerTiming:
    """Adds ``Server-Timing: app;dur=<ms>`` to every response: the time the server spent on it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message.setdefault("headers", []).append((b"server-timing", f"app;dur={ms:.1f}".encode()))
            await send(message)

        await self.app(scope, receive, timed)


def queue_args(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "view": q.get("view") or "accounts",
        "sort": q.get("sort") or "score",
        "descending": (q.get("order") or "desc") != "asc",
        "action": q.get("action") or None,
        "trigger": q.get("trigger") or None,
        "ring": q.get("ring") or None,
        "proposal": (q.get("proposal") or "") not in ("", "0", "no"),
        "offset": q.get("offset") or 0,
        "limit": q.get("limit") or data.PAGE_SIZE,
    }


async def action_fields(request: Request) -> dict[str, str]:
    """The fields of an action, from a form (pages) or a JSON body (API)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        if not isinstance(body, dict):
            raise FraudGraphError("the request body must be a JSON object with action, note, analyst, expected")
        return {k: str(body.get(k) or "") for k in ACTION_FIELDS}
    form: FormData = await request.form()
    return {k: str(form.get(k) or "") for k in ACTION_FIELDS}


class Pages:
    """Handlers bound to one workbench and its templates."""

    def __init__(self, wb: Workbench, env: Environment):
        self.wb = wb
        self.env = env

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        values = {
            "analyst": analyst_of(request),
            "request_path": request.url.path,
            "done": request.query_params.get("done"),
        }
        html = self.env.get_template(name).render(**{**values, **context})
        return HTMLResponse(html, status_code=status)

    # -- reading -------------------------------------------------------------------------
    async def queue_data(self, request: Request) -> tuple[dict[str, Any], BackgroundTask | None]:
        """The queue's answer, and a refresh of its snapshot to run after the response when it is old."""
        args = queue_args(request)

        def read(ws):
            snapshot, stale = self.wb.queue_snapshot(ws)
            return data.queue(ws, snapshot=snapshot, **args), stale

        answer, stale = await self.wb.run(read)
        return answer, (BackgroundTask(self.wb.run, self.wb.refresh_queue) if stale else None)

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/queue", status_code=302)

    async def queue(self, request: Request) -> Response:
        answer, refresh = await self.queue_data(request)
        params = {k: v for k, v in request.query_params.items() if k != "offset"}
        response = self.page(request, "queue.html", q=answer, params=params, url=query_url, view=answer["view"])
        response.background = refresh
        return response

    async def api_queue(self, request: Request) -> Response:
        answer, refresh = await self.queue_data(request)
        return JSONResponse(answer, background=refresh)

    async def ring(self, request: Request) -> Response:
        ring_id = request.path_params["ring_id"]
        answer = await self.wb.run(data.ring, ring_id)
        picture = graph.layout(answer)
        return self.page(request, "ring.html", r=answer, g=picture, formats=list(EXPORT_FORMATS))

    async def api_ring(self, request: Request) -> Response:
        return JSONResponse(await self.wb.run(data.ring, request.path_params["ring_id"]))

    async def ring_svg(self, request: Request) -> Response:
        answer = await self.wb.run(data.ring, request.path_params["ring_id"])
        svg = self.env.get_template("graph.svg").render(g=graph.layout(answer), standalone=True)
        return Response(svg, media_type="image/svg+xml")

    async def ring_export(self, request: Request) -> Response:
        from fraudgraph.app.investigate import subgraph

        ring_id, fmt = request.path_params["ring_id"], request.path_params["fmt"]
        if fmt not in EXPORT_FORMATS:
            raise NotFoundError(f"no export format {fmt!r}: expected one of {', '.join(EXPORT_FORMATS)}")

        def build(ws):
            return export_bytes(subgraph(ws, ring=ring_id, hub_threshold=self.wb.hub_threshold), fmt)

        body = await self.wb.run(build)
        name = f"ring-{ring_id}.{fmt}"
        return Response(body, media_type=EXPORT_FORMATS[fmt], headers=attachment(name))

    async def ring_report(self, request: Request) -> Response:
        ring_id = request.path_params["ring_id"]
        body = await self.wb.run(report_bytes, ring_id, self.wb.hub_threshold)
        return Response(body, media_type="text/html; charset=utf-8", headers=attachment(f"case-{ring_id}.html"))

    async def account(self, request: Request) -> Response:
        answer = await self.wb.run(data.account, request.path_params["account_id"], hub_threshold=self.wb.hub_threshold)
        return self.page(request, "account.html", a=answer)

    async def api_account(self, request: Request) -> Response:
        answer = await self.wb.run(data.account, request.path_params["account_id"], hub_threshold=self.wb.hub_threshold)
        return JSONResponse(answer)

    async def search_data(self, request: Request) -> dict[str, Any]:
        return await self.wb.run(data.search, request.query_params.get("q", ""), kinds=self.wb.kinds)

    async def search(self, request: Request) -> Response:
        answer = await self.search_data(request)
        only = len(answer["accounts"]) + len(answer["rings"]) == 1 and not answer["identifiers"]
        if only and request.query_params.get("go") != "0":  # an exact id goes straight to its page
            target = (
                f"/accounts/{answer['accounts'][0]['account_id']}"
                if answer["accounts"]
                else f"/rings/{answer['rings'][0]['ring_id']}"
            )
            return RedirectResponse(target, status_code=302)
        return self.page(request, "search.html", s=answer)

    async def api_search(self, request: Request) -> Response:
        return JSONResponse(await self.search_data(request))

    async def sweeps(self, request: Request) -> Response:
        return self.page(request, "sweeps.html", sweeps=await self.wb.run(data.sweeps))

    async def api_sweeps(self, request: Request) -> Response:
        return JSONResponse(await self.wb.run(data.sweeps))

    # -- previews and actions --------------------------------------------------------------
    async def api_ring_preview(self, request: Request) -> Response:
        action = request.query_params.get("action", "")

        def run(ws):
            ids = data.require_ring(ws, request.path_params["ring_id"])
            return actions.preview(ws, ids, action, policy=self.wb.policy)

        return JSONResponse(await self.wb.run(run))

    async def api_account_preview(self, request: Request) -> Response:
        action = request.query_params.get("action", "")
        account_id = request.path_params["account_id"]
        return JSONResponse(
            await self.wb.run(lambda ws: actions.preview(ws, [account_id], action, policy=self.wb.policy))
        )

    async def apply(self, request: Request, ids_of) -> tuple[dict[str, Any], dict[str, str]]:
        check_origin(request)
        fields = await action_fields(request)

        def run(ws):
            ids = ids_of(ws)
            try:
                return actions.act(
                    ws,
                    ids,
                    fields["action"],
                    note=fields["note"],
                    actor=fields["analyst"],
                    expected=fields["expected"],
                    policy=self.wb.policy,
                )
            finally:  # the queue shows the change at once
                self.wb.refresh_queue(ws, ids)

        return await self.wb.run(run), fields

    async def ring_action(self, request: Request) -> Response:
        ring_id = request.path_params["ring_id"]
        result, fields = await self.apply(request, lambda ws: data.require_ring(ws, ring_id))
        return done(f"/rings/{ring_id}", result, fields)

    async def account_action(self, request: Request) -> Response:
        account_id = request.path_params["account_id"]
        result, fields = await self.apply(request, lambda ws: [account_id])
        return done(f"/accounts/{account_id}", result, fields)

    async def api_ring_action(self, request: Request) -> Response:
        ring_id = request.path_params["ring_id"]
        result, _ = await self.apply(request, lambda ws: data.require_ring(ws, ring_id))
        return JSONResponse(result)

    async def api_account_action(self, request: Request) -> Response:
        account_id = request.path_params["account_id"]
        result, _ = await self.apply(request, lambda ws: [account_id])
        return JSONResponse(result)

    # -- identifiers in full, on purpose --------------------------------------------------------
    async def reveal_fields(self, request: Request) -> str:
        """The analyst who asked to see identifiers in full (refused without a name)."""
        check_origin(request)
        fields = await action_fields(request)
        return actions.check_analyst(fields["analyst"])

    async def account_revealed(self, request: Request) -> tuple[dict[str, Any], str]:
        account_id = request.path_params["account_id"]
        actor = await self.reveal_fields(request)

        def run(ws):
            if ws.accounts([account_id]).empty:  # before any audit row is written
                raise NotFoundError(f"no account {account_id!r} in the workspace")
            n = record_reveal(ws, [account_id], actor=actor, command=f"workbench account page {account_id}")
            answer = data.account(ws, account_id, hub_threshold=self.wb.hub_threshold, shower=REVEALED)
            return {**answer, "revealed": {"by": actor, "audit_entries": n}}

        return await self.wb.run(run), actor

    async def ring_revealed(self, request: Request) -> tuple[dict[str, Any], str]:
        ring_id = request.path_params["ring_id"]
        actor = await self.reveal_fields(request)

        def run(ws):
            ids = data.require_ring(ws, ring_id)
            n = record_reveal(ws, ids, actor=actor, command=f"workbench ring page {ring_id}")
            return {**data.ring(ws, ring_id, shower=REVEALED), "revealed": {"by": actor, "audit_entries": n}}

        return await self.wb.run(run), actor

    async def account_reveal(self, request: Request) -> Response:
        answer, actor = await self.account_revealed(request)
        page = self.page(request, "account.html", a=answer, revealed=answer["revealed"], analyst=actor)
        return remember(page, actor)

    async def ring_reveal(self, request: Request) -> Response:
        answer, actor = await self.ring_revealed(request)
        page = self.page(
            request,
            "ring.html",
            r=answer,
            g=graph.layout(answer),
            formats=list(EXPORT_FORMATS),
            revealed=answer["revealed"],
            analyst=actor,
        )
        return remember(page, actor)

    async def api_account_reveal(self, request: Request) -> Response:
        return JSONResponse((await self.account_revealed(request))[0])

    async def api_ring_reveal(self, request: Request) -> Response:
        return JSONResponse((await self.ring_revealed(request))[0])

    # -- the real-time check -------------------------------------------------------------------
    async def api_check(self, request: Request) -> Response:
        """``fraudgraph check`` over HTTP: a JSON event in, the answer out (masked identifiers);
        ``"apply": true`` records it, by ``"analyst"``."""
        check_origin(request)
        event, apply, actor = check_fields(await request.body())

        def run(ws):
            answer = self.wb.check(ws, event, apply=apply, actor=actor or "check")
            if apply:  # the queue shows what it recorded at once
                self.wb.refresh_queue(ws, [answer["account_id"]])
            return answer

        return JSONResponse(jsonable(await self.wb.run(run)))


def check_fields(body: bytes) -> tuple[dict[str, Any], bool, str]:
    """The event of a ``POST /api/check`` body, its ``apply`` flag and its ``analyst`` (required
    to apply). Raises ``EventError`` / ``FraudGraphError`` naming the field."""
    try:
        event = json.loads(body or b"null")
    except ValueError as e:
        raise EventError(f"event: not valid JSON ({e})") from None
    if not isinstance(event, dict):
        raise EventError("event: expected a JSON object with account, links, transactions (and apply, analyst)")
    apply = event.pop("apply", False)
    analyst = event.pop("analyst", None)
    if not isinstance(apply, bool):
        raise FraudGraphError(f"apply: expected true or false, got {json.dumps(apply)}", setting="apply")
    if analyst is not None and not isinstance(analyst, str):
        raise FraudGraphError("analyst: expected the analyst's name as text", setting="analyst")
    actor = (analyst or "").strip()
    if apply:
        actor = actions.check_analyst(actor)
    return event, apply, actor


def remember(response: Response, analyst: str) -> Response:
    """The response, with the analyst's name remembered for the next form."""
    response.set_cookie(ANALYST_COOKIE, analyst.strip(), max_age=COOKIE_AGE, httponly=True, samesite="strict")
    return response


def check_origin(request: Request) -> None:
    """Refuse an action posted from a page of another site (the browser names it in Origin)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise ForbiddenError(f"actions are taken from the workbench's own pages, not from {origin}")


def attachment(name: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


def done(path: str, result: dict[str, Any], fields: dict[str, str]) -> Response:
    """After a form action: back to the page (a GET, so a reload does not post again), saying what
    happened, with the analyst's name remembered."""
    said = f"{actions.ACTIONS[result['action']]}: {len(result['applied'])} account(s) changed"
    if result["skipped"]:
        said += f", {len(result['skipped'])} unchanged ({result['skipped'][0]['reason']})"
    back = fields.get("back") or ""
    if back.startswith("/queue") and not back.startswith("//"):  # accepted from the queue: back there
        base, _, query = back.partition("?")
        params = {k: v for k, v in parse_qsl(query) if k != "done"}
        return remember(RedirectResponse(query_url(base, params, done=said), status_code=303), fields["analyst"])
    return remember(RedirectResponse(query_url(path, {}, done=said), status_code=303), fields["analyst"])
