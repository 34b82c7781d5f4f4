"""The Neo4j workspace's locks: a ``(:Lock {name: 'sweep'})`` node (one sweep at a time; a
batched load holds ``(:Lock {name: 'load'})``) taken with a conditional MERGE/SET, renewed by a
heartbeat thread while held, and taken over once expired, so a crashed holder never blocks the
next one for longer than the lock's time to live."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fraudgraph.errors import LockedError, WorkspaceError
from fraudgraph.model.values import utc_now as _now

log = logging.getLogger("fraudgraph")

LOCK_NAME = "sweep"
# run_query(name, /, *, write=False, **params) -> rows: the workspace's named-query runner.
RunQuery = Callable[..., list[dict[str, Any]]]


def native(v: Any) -> Any:
    """A driver temporal value as a naive UTC Python datetime (anything else as it is)."""
    if v is None:
        return None
    to_native = getattr(v, "to_native", None)
    if to_native is not None:
        v = to_native()
    if isinstance(v, datetime) and v.tzinfo is not None:
        v = v.astimezone(UTC).replace(tzinfo=None)
    return v


@contextmanager
def node_lock(
    run_query: RunQuery, owner: str, *, ttl: float, location: str, name: str = LOCK_NAME, what: str = "sweep"
) -> Iterator[None]:
    """Hold the ``(:Lock {name: name})`` node: taken with a conditional MERGE/SET, renewed by
    a heartbeat while held, taken over once expired (a crashed holder never blocks forever).
    ``what`` names the holder's kind of work in messages ("sweep", "batched load")."""
    token = uuid.uuid4().hex
    holder = f"{owner}, pid {os.getpid()} on {socket.gethostname()}"
    got = _acquire(run_query, token, holder, ttl, name)
    if not got["acquired"]:
        since = native(got.get("since"))
        until = native(got.get("expires_at"))
        when = f", since {since.isoformat(timespec='seconds')}" if isinstance(since, datetime) else ""
        expiry = (
            f"; its lock expires at {until.isoformat(timespec='seconds')} UTC" if isinstance(until, datetime) else ""
        )
        raise LockedError(
            f"another {what} is running on {location} ({got['owner'] or 'unknown holder'}{when}){expiry}; "
            "try again later"
        )
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(run_query, token, stop, ttl, location, name),
        name="fraudgraph-lock-heartbeat",
        daemon=True,
    )
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=10)
        try:
            run_query("write/lock_release", write=True, name=name, token=token)
        except WorkspaceError as e:  # the lock then expires on its own
            log.warning("could not release the %s lock on %s: %s", name, location, e)


def _acquire(
    run_query: RunQuery, token: str, holder: str, ttl: float, name: str = LOCK_NAME, attempts: int = 3
) -> dict[str, Any]:
    """Run write/lock_acquire; returns its row (acquired, owner, since, expires_at)."""
    import neo4j.exceptions as nx

    attempt = 1
    while True:
        now = _now()
        try:
            rows = run_query(
                "write/lock_acquire",
                write=True,
                name=name,
                owner=holder,
                token=token,
                now=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        except WorkspaceError as e:
            # Two first-ever sweeps can both try to create the lock node; Neo4j serializes
            # the MERGE, servers with optimistic locking (ArcadeDB) reject the second one.
            # Trying again finds the node the winner created.
            if isinstance(e.__cause__, nx.ConstraintError) and attempt < attempts:
                time.sleep(0.05 * attempt)
                attempt += 1
                continue
            raise
        return rows[0] if rows else {"acquired": False, "owner": None, "since": None, "expires_at": None}


def _heartbeat(
    run_query: RunQuery, token: str, stop: threading.Event, ttl: float, location: str, name: str = LOCK_NAME
) -> None:
    while not stop.wait(ttl / 3):
        try:
            rows = run_query(
                "write/lock_renew",
                write=True,
                name=name,
                token=token,
                expires_at=_now() + timedelta(seconds=ttl),
            )
            if not rows or not rows[0]["renewed"]:
                log.warning("the %s lock on %s expired and was taken by another process", name, location)
                return
        except WorkspaceError as e:
            log.warning("could not renew the %s lock on %s: %s", name, location, e)
