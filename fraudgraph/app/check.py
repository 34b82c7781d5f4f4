"""Real-time check: one event (an application, a change to an account, a payment) against the last
sweep's rings, scores and hubs, through the workspace's identifier index, in milliseconds.

Nothing is recomputed: the event's identifiers are validated and keyed by the loader's rules
(``ingest.contract.validate_records``), looked up in one ``Workspace.check_lookup``, and the
policy's tiers decide (``[realtime]`` in the policy says how a tie to a ring maps to an action).
With ``apply`` the event is loaded exactly as ``load`` would merge it, and the decision is
recorded with an audit entry, and with the customer's notice when it restricts or suspends the
account (as a sweep's would, in the policy's words); without it nothing is written.

>>> with SqliteWorkspace("bank.db") as ws:                        # doctest: +SKIP
...     check(ws, {"account": {"account_id": "A9", "created_at": "2026-11-01"},
...                "links": [{"kind": "card", "value": "4000 0012 3456 7899"}]})["action"]
'suspend'
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from fraudgraph.app.analyst import action_notices
from fraudgraph.decisions.policy import SEVERITY, Policy, plan_changes
from fraudgraph.errors import FraudGraphError, InputError, Problem
from fraudgraph.ingest.contract import REQUIRED_COLUMNS, TABLE_COLUMNS, Dataset, validate_records
from fraudgraph.ingest.normalize import canonical_key
from fraudgraph.model.config import WorkspaceConfig
from fraudgraph.model.frames import (
    ACCOUNT_STATUSES,
    ACTIONS,
    COUNTERPARTY_KINDS,
    IDENTIFIER_KINDS,
    LABELS,
    TRANSACTION_COLUMNS,
    TRANSACTION_STATUSES,
)
from fraudgraph.model.limits import InputLimits
from fraudgraph.model.masking import MASKED, Shower, pseudonym, pseudonymize_links
from fraudgraph.model.values import is_missing, utc_now
from fraudgraph.workspace.base import AUDIT_COLUMNS, CheckLookup, Workspace

HELD = ("review", "restrict", "suspend")  # actions that stop an application until someone decides
_TABLE_FIELD = {"accounts": "account", "links": "links", "transactions": "transactions"}
_FLAGGED_SHOWN = 20  # flagged accounts listed per answer; the count says how many there were


class EventError(FraudGraphError):
    """A check event broke the data contract or its shape; the message names the field."""

    def __init__(self, message: str, *, account_id: str | None = None) -> None:
        super().__init__(message)
        self.account_id = account_id


@dataclass
class _Event:
    """One event as parsed: the account's id and fields, its links and transactions (JSON objects)."""

    account_id: str
    account: dict[str, Any]
    links: list[dict[str, Any]]
    transactions: list[dict[str, Any]]


@dataclass
class _Ring:
    """What ties the event's account to one ring."""

    ring_id: str
    kinds: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    money: bool = False
    member: bool = False


def _severity(action: str) -> int:
    return SEVERITY.get(action, 0)


def _lower(a: str, b: str) -> str:
    return a if _severity(a) <= _severity(b) else b


def _higher(a: str, b: str) -> str:
    return a if _severity(a) >= _severity(b) else b


def _text(value: Any, where: str, account_id: str | None) -> str:
    """One JSON value as the text a CSV cell would hold ("" for null)."""
    if value is None:
        return ""
    if isinstance(value, (bool, dict, list)):
        raise EventError(
            f"{where}: expected a plain value (text, number or date), got {json.dumps(value)}", account_id=account_id
        )
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_event(event: str | bytes | dict[str, Any]) -> _Event:
    """The event's shape: an object with an ``account`` object holding ``account_id``, and optional
    ``links`` and ``transactions`` arrays of objects. Raises ``EventError`` naming the field."""
    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event)
        except ValueError as e:
            raise EventError(f"event: not valid JSON ({e})") from None
    if not isinstance(event, dict):
        raise EventError(f"event: expected a JSON object, got {type(event).__name__}")
    unknown = sorted(set(event) - {"account", "links", "transactions"})
    account = event.get("account")
    if not isinstance(account, dict):
        raise EventError("account: expected an object with at least account_id")
    account_id = account.get("account_id")
    if not isinstance(account_id, str) or not account_id.strip():
        raise EventError("account.account_id: expected a non-empty text id")
    if unknown:
        raise EventError(
            f"event: unknown field(s) {', '.join(unknown)} (expected account, links, transactions)",
            account_id=account_id,
        )
    lists = {}
    for name in ("links", "transactions"):
        rows = event.get(name) or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise EventError(f"{name}: expected an array of objects", account_id=account_id)
        lists[name] = rows
    return _Event(account_id, account, lists["links"], lists["transactions"])


def _frame(rows: list[dict[str, Any]], table: str, defaults: dict[str, Any], account_id: str) -> pd.DataFrame:
    """Rows of one table as text columns, as the loader reads a CSV file."""
    columns = list(dict.fromkeys([*defaults, *(c for r in rows for c in r)]))
    data = {
        c: [_text(r.get(c, defaults.get(c)), f"{_TABLE_FIELD[table]}[{i}].{c}", account_id) for i, r in enumerate(rows)]
        for c in columns
    }
    return pd.DataFrame(data, columns=columns, dtype=object)


def _field(problem: Problem) -> str:
    """Where a problem of ``validate_records`` is, as a field of the event."""
    table = _TABLE_FIELD.get(problem.file, problem.file)
    where = table if table == "account" or problem.line is None else f"{table}[{problem.line}]"
    return f"{where}.{problem.column}" if problem.column else where


def _event_error(error: InputError, account_id: str) -> EventError:
    parts = [f"{_field(p)}: {p.message}" for p in error.problems]
    return EventError("; ".join(parts), account_id=account_id)


# -- the plain-value fast path -------------------------------------------------------------------
# ``validate_records`` costs ~10 ms of pandas calls per event whatever its size. Most events hold
# only plainly valid values: printable ids and identifier values within the length limits, ISO
# dates within the date limits, JSON numbers within the money limits, exact enumeration values.
# Those events are built here without pandas (keys still come from ``normalize``); any other
# value, valid or not, goes through ``validate_records``, which alone rejects events and words
# the errors. tests/test_check.py checks both paths build the same frames.
_ISO = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:\d\d)?)?")
_ACCOUNT_FIELDS = {"account_id", "created_at", "credit_limit", "balance", "overdue_days", "status", "label"}


def _plain_id(v: Any, limit: int) -> bool:
    return isinstance(v, str) and 0 < len(v) <= limit and v.isprintable() and bool(v.strip())


def _plain_date(v: Any, bounds: tuple[pd.Timestamp, pd.Timestamp]) -> datetime | None:
    """A naive UTC datetime for a plainly valid ISO date within ``bounds``, else None."""
    if not isinstance(v, str) or not _ISO.fullmatch(v):
        return None
    try:
        t = datetime.fromisoformat(v)
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t if bounds[0] <= t <= bounds[1] else None


def _plain_money(v: Any, limits: InputLimits, minimum: float | None) -> bool:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= limits.max_money and v == v
    return ok and (minimum is None or v >= minimum)


def _plain_account(account: dict[str, Any], limits: InputLimits, bounds) -> str | None:
    """The status of a plainly valid account row, else None."""
    if set(account) - _ACCOUNT_FIELDS:
        return None  # extra fields become properties: the contract's spelling of them
    money = {c: account.get(c) for c in ("credit_limit", "balance")}
    days = account.get("overdue_days", 0)
    status, label = account.get("status", "active"), account.get("label")
    if _plain_date(account.get("created_at"), bounds) is None:
        return None
    if not all(v is None or _plain_money(v, limits, 0.0 if c == "credit_limit" else None) for c, v in money.items()):
        return None
    if not (isinstance(days, int) and not isinstance(days, bool) and 0 <= days < 2**53):
        return None
    if status not in ACCOUNT_STATUSES or (label is not None and label not in LABELS):
        return None
    return status


def _plain_links(event: _Event, kinds: set[str], limits: InputLimits, bounds) -> list[tuple] | None:
    """(kind, value, key) of plainly valid links, else None."""
    rows, seen = [], set()
    for link in event.links:
        kind, value, first_seen = link.get("kind"), link.get("value"), link.get("first_seen")
        if set(link) - {"account_id", "kind", "value", "first_seen"} or kind not in kinds:
            return None
        if not _plain_id(value, limits.max_value_length) or (kind, value) in seen:
            return None  # a repeated observation is merged by the contract
        if first_seen is not None and _plain_date(first_seen, bounds) is None:
            return None
        seen.add((kind, value))
        rows.append((kind, value, _key(kind, value)))
    return rows


@lru_cache(maxsize=1 << 16)
def _key(kind: str, value: str) -> str | None:
    """``normalize.canonical_key``, remembered: a stream meets the same devices and addresses often."""
    return canonical_key(kind, value)


@dataclass
class _Checked:
    """A valid event: its (kind, value, key) links and account status; the frames when built."""

    links: list[tuple]
    status: str | None
    dataset: Dataset | None = None

    @classmethod
    def of(cls, dataset: Dataset) -> _Checked:
        links = list(zip(dataset.links["kind"], dataset.links["value"], dataset.links["key"]))
        status = dataset.accounts["status"].iloc[0] if len(dataset.accounts) else None
        return cls(links, status, dataset)


def _pseudonymized(checked: _Checked, secret: bytes) -> _Checked:
    """The event's identifiers as a pseudonymized workspace stores them (keys and values alike)."""
    links = []
    for kind, _, key in checked.links:
        shown = pseudonym(kind, key, secret) if key is not None else None
        links.append((kind, shown, shown))
    dataset = checked.dataset
    if dataset is not None:
        dataset.links = pseudonymize_links(dataset.links, secret)
    return _Checked(links, checked.status, dataset)


def _plain_transactions(event: _Event, stored: set[str], limits: InputLimits, bounds) -> bool:
    """Whether every transaction is plainly valid, its accounts the event's own or stored ones."""
    known = stored | {event.account_id}
    seen: set[str] = set()
    for t in event.transactions:
        payer, counterparty, kind = (
            t.get("account_id", event.account_id),
            t.get("counterparty"),
            t.get("counterparty_kind"),
        )
        if set(t) - set(TRANSACTION_COLUMNS) or t.get("txn_id") in seen:
            return False
        seen.add(str(t.get("txn_id")))
        ids = (t.get("txn_id"), payer, counterparty)
        if not all(_plain_id(v, limits.max_id_length) for v in ids) or payer not in known:
            return False
        if kind not in COUNTERPARTY_KINDS or (kind == "account" and counterparty not in known):
            return False
        if not _plain_money(t.get("amount"), limits, None) or not t["amount"] > 0:
            return False
        if _plain_date(t.get("timestamp"), bounds) is None or t.get("status", "settled") not in TRANSACTION_STATUSES:
            return False
    return True


def _plainly_valid(
    event: _Event, own: dict | None, stored: set[str], kinds: set[str], limits: InputLimits
) -> _Checked | None:
    """The event's links and status when every value is plainly valid (see above); None to ask
    the contract."""
    if not _plain_id(event.account_id, limits.max_id_length):
        return None
    low, high = limits.date_range()
    bounds = (low.to_pydatetime(), high.to_pydatetime())
    if own is None:
        status = _plain_account(event.account, limits, bounds)
        if status is None:
            return None
    elif set(event.account) == {"account_id"}:
        status = None
    else:
        return None  # a change of an existing account's fields: merged with its stored row
    links = _plain_links(event, kinds, limits, bounds)
    if links is None or not _plain_transactions(event, stored, limits, bounds):
        return None
    return _Checked(links, status)


@dataclass
class Checker:
    """Checks events against one open workspace; keep it for a stream (one workspace, one policy)."""

    ws: Workspace
    policy: Policy = field(default_factory=Policy.default)
    config: WorkspaceConfig = field(default_factory=WorkspaceConfig)
    shower: Shower = MASKED
    actor: str = "check"
    strict: bool = False  # True: every event through validate_records (no plain-value fast path)
    secret: bytes | None = None  # the pseudonym key of a pseudonymized workspace (app.privacy)

    def __post_init__(self) -> None:
        self.kinds = set(IDENTIFIER_KINDS) | set(self.config.extra_kinds)
        rings = self.policy.data["rings"]
        self.weak_kinds = set(rings["weak_kinds"])
        self.tiers = self.policy.tier_thresholds("tiers")
        self.hub_cap = self.config.detection_config().hub_cap
        self.exempt_accounts = set(self.policy.exempt_accounts)
        self.exempt_identifiers = {(e.kind, e.value) for e in self.policy.exempt_identifiers} | {
            (e.kind, canonical_key(e.kind, e.value)) for e in self.policy.exempt_identifiers
        }

    # -- one event -----------------------------------------------------------------------------
    def check(self, event: str | bytes | dict[str, Any], *, apply: bool = False) -> dict[str, Any]:
        """The answer to one event (its keys: see the module function ``check``); raises
        ``EventError`` for a bad event, naming the field."""
        started = time.perf_counter()
        parsed = parse_event(event)
        counterparties = self._counterparties(parsed)
        known = self.ws.check_lookup([], [parsed.account_id, *counterparties], limit=self.hub_cap)
        own = next((a for a in known.accounts if a["account_id"] == parsed.account_id), None)
        checked = self._validated(parsed, own, {a["account_id"] for a in known.accounts}, full=apply)
        if self.secret is not None:
            checked = _pseudonymized(checked, self.secret)
        pairs = [(k, v) for k, _, v in checked.links if v is not None and (k, v) not in self.exempt_identifiers]
        found = self.ws.check_lookup(list(dict.fromkeys(pairs)), [], limit=self.hub_cap)
        answer, event_action = self._decide(parsed, checked, own, known, found)
        if checked.dataset is not None and apply:
            self._record(parsed, checked.dataset, own, answer, event_action)
        answer["applied"] = apply
        answer["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def check_lines(self, lines: Iterable[str], *, apply: bool = False) -> Iterator[dict[str, Any]]:
        """One answer per line: an answer, or ``{"line", "account_id", "error"}`` for a bad event."""
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield self.check(line, apply=apply)
            except EventError as e:
                yield {"line": number, "account_id": e.account_id, "error": str(e)}

    # -- validation ----------------------------------------------------------------------------
    def _counterparties(self, event: _Event) -> list[str]:
        """Accounts the event's transactions name besides its own account."""
        ids = []
        for t in event.transactions:
            if t.get("counterparty_kind") == "account":
                ids += [str(t.get("account_id") or event.account_id), str(t.get("counterparty") or "")]
        return [a for a in dict.fromkeys(ids) if a and a != event.account_id]

    def _account_row(self, event: _Event, own: dict | None) -> dict[str, Any] | None:
        """The account row to validate and load: the event's fields, over the stored ones for an
        existing account; None when an existing account's event carries only its id."""
        given = {k: v for k, v in event.account.items() if k != "account_id"}
        if own is None:
            return dict(event.account)
        if not given:
            return None
        stored = self.ws.accounts([event.account_id]).iloc[0].to_dict()
        row: dict[str, Any] = json.loads(stored.get("properties") or "{}")  # extra columns, as loaded
        for c in TABLE_COLUMNS["accounts"]:
            v = stored.get(c)
            row[c] = None if is_missing(v) else (pd.Timestamp(v).isoformat() if c == "created_at" else v)
        row.update(given)
        return {"account_id": event.account_id, **{k: v for k, v in row.items() if k != "account_id"}}

    def _validated(self, event: _Event, own: dict | None, stored: set[str], *, full: bool) -> _Checked:
        """The event checked by the contract's rules; ``full``: with the frames a load needs."""
        aid = event.account_id
        for i, link in enumerate(event.links):
            if link.get("account_id", aid) != aid:
                raise EventError(
                    f"links[{i}].account_id: {link['account_id']!r} is not the event's account {aid!r}", account_id=aid
                )
        for i, t in enumerate(event.transactions):
            if aid not in (t.get("account_id", aid), t.get("counterparty")):
                raise EventError(
                    f"transactions[{i}]: neither account_id nor counterparty is the event's account {aid!r}",
                    account_id=aid,
                )
        fast = None if self.strict or full else _plainly_valid(event, own, stored, self.kinds, self.config.limits)
        if fast is not None:
            return fast
        records = {}
        row = self._account_row(event, own)
        if row is not None:
            records["accounts"] = _frame([row], "accounts", {"account_id": aid, "created_at": None}, aid)
        records["links"] = _frame(event.links, "links", {"account_id": aid, "kind": "", "value": ""}, aid)
        if event.transactions:
            required = dict.fromkeys(REQUIRED_COLUMNS["transactions"]) | {"account_id": aid}
            records["transactions"] = _frame(event.transactions, "transactions", required, aid)
        try:
            dataset = validate_records(
                records,
                known_accounts=sorted(stored),
                extra_kinds=self.config.extra_kinds,
                limits=self.config.limits,
            )
        except InputError as e:
            raise _event_error(e, aid) from None
        return _Checked.of(dataset)

    # -- deciding ------------------------------------------------------------------------------
    def _tier(self, score: float) -> str:
        """The policy's score tier reached by ``score`` (``>=`` a threshold)."""
        action = "none"
        for name, threshold in self.tiers:
            if score >= threshold:
                action = name
        return action

    def _ties(self, event: _Event, own: dict | None, known: CheckLookup, found: CheckLookup):
        """Rings and lone flagged accounts the event touches, and how; plus the shared identifiers."""
        aid = event.account_id
        rings: dict[str, _Ring] = {}
        lone: dict[str, dict] = {}
        if own is not None and own["ring_id"] is not None:
            rings[own["ring_id"]] = _Ring(own["ring_id"], member=True)
        by_pair: dict[tuple[str, str], list[dict]] = {}
        for a in found.accounts:
            if a["account_id"] != aid:
                by_pair.setdefault((a["kind"], a["key"]), []).append(a)
        for a in (a for accounts in by_pair.values() for a in accounts):
            if a["ring_id"] is not None:
                tie = rings.setdefault(a["ring_id"], _Ring(a["ring_id"]))
                tie.kinds.add(a["kind"])
                tie.accounts.add(a["account_id"])
            elif a["action"] != "none":
                lone.setdefault(a["account_id"], {**a, "kinds": set()})["kinds"].add(a["kind"])
        for a in known.accounts:  # accounts the event pays or is paid by
            if a["account_id"] == aid:
                continue
            if a["ring_id"] is not None:
                tie = rings.setdefault(a["ring_id"], _Ring(a["ring_id"]))
                tie.money = True
                tie.accounts.add(a["account_id"])
            elif a["action"] != "none":
                lone.setdefault(a["account_id"], {**a, "kinds": set()})["kinds"].add("payment")
        return rings, lone, by_pair

    def _shared(self, links: list[tuple], found: CheckLookup, by_pair: dict) -> list[dict[str, Any]]:
        """The event's identifiers that other accounts use (or that are hubs), shown per the shower."""
        info = {(i["kind"], i["key"]): i for i in found.identifiers}
        out = []
        for kind, value, key in links:
            ident = info.get((kind, key))
            others = by_pair.get((kind, key), [])
            hub = self._hub_reason(ident)
            if ident is None or (not others and hub is None):
                continue
            out.append(
                {
                    "kind": kind,
                    "value": self.shower.show_tagged(kind, value, key),
                    "n_accounts": ident["n_accounts"],
                    "hub": hub is not None,
                    "rings": sorted({a["ring_id"] for a in others if a["ring_id"] is not None}),
                    "flagged_accounts": sum(a["action"] != "none" for a in others),
                }
            )
        return out

    def _hub_reason(self, ident: dict | None) -> str | None:
        if ident is None:
            return None
        if ident["hub_reason"]:
            return ident["hub_reason"]
        if ident["n_accounts"] > self.hub_cap:
            return f"shared by more than {self.hub_cap} accounts (hub cap)"
        return None

    def _ring_proposal(self, tie: _Ring, ring: dict) -> tuple[str, str, str]:
        """(action, tie strength, plain words) for one ring the event touches, by the policy."""
        rules = self.policy.data["rings"]
        tier = self._tier(ring["score"])
        strong = tie.money or any(k not in self.weak_kinds for k in tie.kinds)
        what = f"ring {ring['ring_id']} (score {ring['score']:.2f}, {ring['size']} accounts, {ring['action']} now)"
        via = " and ".join(sorted(tie.kinds) + (["payments"] if tie.money else [])) or "membership"
        if tie.member:
            return "none", "member", f"the account is a member of {what}"
        if strong:
            action = _lower(_higher(tier, ring["action"]), self.policy.data["realtime"]["strong_tie_cap"])
            text = f"shares {via} with {len(tie.accounts)} member(s) of {what}: a strong tie joins the ring"
        else:
            action = _lower(tier, rules["weak_only_cap"])
            text = f"shares only weak identifiers ({via}) with {len(tie.accounts)} member(s) of {what}"
        codes = ring.get("codes") or []
        strong_code = any(
            c == p or (p.endswith("*") and c.startswith(p[:-1])) for c in codes for p in rules["strong_codes"]
        )
        if ring["size"] + 1 < rules["min_size"] and not strong_code:
            action = _lower(action, rules["small_ring_cap"])
        return action, "strong" if strong else "weak", f"{text}; action {action}"

    def _proposals(self, ties: dict[str, _Ring], lone: dict[str, dict], rings: dict[str, dict]):
        """What each ring and lone flagged account touched proposes: (rings shown, reasons, best
        proposal as {action, trigger, score})."""
        reasons: list[dict[str, str]] = []
        best: dict[str, Any] = {"action": "none", "trigger": "none", "score": 0.0}

        def propose(action: str, trigger: str, score: float) -> None:
            if _severity(action) > _severity(best["action"]):
                best.update(action=action, trigger=trigger, score=score)

        shown = []
        for ring_id, tie in sorted(ties.items()):
            ring = rings.get(ring_id)
            if ring is None:
                continue
            proposal, strength, text = self._ring_proposal(tie, ring)
            via = sorted(tie.kinds) + (["payment"] if tie.money else [])
            shown.append(
                {
                    **{k: ring[k] for k in ("ring_id", "size", "score", "action")},
                    "tie": strength,
                    "via": via,
                    "proposes": proposal,
                }
            )
            if proposal != "none" or ring["action"] != "none" or strength == "member":
                code = "RING_MEMBER" if strength == "member" else f"RING_{strength.upper()}_TIE"
                reasons.append({"code": code, "text": text})
            propose(proposal, "fraud_ring", ring["score"])
        cap = self.policy.data["rings"]["small_ring_cap"]
        for a in lone.values():
            proposal = _lower(a["action"], cap)
            text = (
                f"shares {' and '.join(sorted(a['kinds']))} with account {a['account_id']}, {a['action']} now "
                f"(outside any ring; two accounts are not a ring: {proposal} at most)"
            )
            reasons.append({"code": "FLAGGED_ACCOUNT_TIE", "text": text})
            propose(proposal, "account_risk", a["score"])
        return shown, reasons, best

    def _decide(self, event: _Event, checked: _Checked, own: dict | None, known: CheckLookup, found: CheckLookup):
        """The answer (without applied and elapsed_ms) and the action the event itself calls for."""
        ties, lone, by_pair = self._ties(event, own, known, found)
        rings_out, reasons, best = self._proposals(ties, lone, {r["ring_id"]: r for r in [*known.rings, *found.rings]})
        shared = self._shared(checked.links, found, by_pair)
        info = {(i["kind"], i["key"]): i for i in found.identifiers}
        for kind, value, key in checked.links:
            hub = self._hub_reason(info.get((kind, key)))
            if hub is not None:
                reasons.append(
                    {
                        "code": "HUB_ONLY",
                        "text": f"{kind} {self.shower.show_tagged(kind, value, key)} is a hub ({hub}): it links nobody",
                    }
                )
        event_action = best["action"]
        if event.account_id in self.exempt_accounts and event_action != "none":
            reasons.append(
                {
                    "code": "EXEMPT_ACCOUNT",
                    "text": f"the policy exempts this account from ring-based actions (would be {event_action})",
                }
            )
            best.update(action="none", trigger="none", score=0.0)
            event_action = "none"
        if own is not None and own["action"] != "none":
            reasons.append(
                {
                    "code": "CURRENT_ACTION",
                    "text": f"the account is already under {own['action']} (trigger {own['trigger']})",
                }
            )
            if _severity(own["action"]) >= _severity(best["action"]):
                best.update(action=own["action"], trigger=own["trigger"], score=own["score"])
        status = checked.status or (own or {}).get("status")
        if status == "closed" and best["action"] != "none":
            reasons.append({"code": "CLOSED", "text": "the account is closed: closed accounts are never acted on"})
            best.update(action="none", trigger="none")
            event_action = "none"
        return {
            "account_id": event.account_id,
            "new_account": own is None,
            "action": best["action"],
            "held": best["action"] in HELD,
            "trigger": best["trigger"],
            "score": round(float(best["score"]), 4),
            "rings": rings_out,
            "accounts": self._flagged(event.account_id, known, found, ties),
            "shared": shared,
            "reasons": reasons,
        }, event_action

    def _flagged(self, account_id: str, known: CheckLookup, found: CheckLookup, ties: dict) -> list[dict[str, Any]]:
        """Flagged accounts the event touches (through an identifier or a payment), most severe first."""
        seen: dict[str, dict[str, Any]] = {}
        for a in [*found.accounts, *known.accounts]:
            if a["account_id"] == account_id or a["action"] == "none":
                continue
            row = seen.setdefault(
                a["account_id"], {k: a[k] for k in ("account_id", "action", "ring_id", "score")} | {"via": []}
            )
            row["via"] = sorted({*row["via"], a["kind"] or "payment"})
        rows = sorted(seen.values(), key=lambda r: (-_severity(r["action"]), -r["score"], r["account_id"]))
        return rows[:_FLAGGED_SHOWN]

    # -- recording -------------------------------------------------------------------------------
    def _record(
        self, event: _Event, dataset: Dataset, own: dict | None, answer: dict[str, Any], event_action: str
    ) -> None:
        """Load the event as ``load`` merges it, then record the decision and an audit entry.

        An event that calls for more than the account's action in force changes its state as a
        sweep would (``plan_changes``: status, credit limit; never a manual state), not manual,
        so the next sweep takes over, and writes the customer's notice when that restricts or
        suspends the account (``check-<n>:<account>``, in the same transaction); otherwise the
        audit entry records the check alone."""
        aid = event.account_id
        before = self.ws.accounts([aid])
        self.ws.load(dataset)
        at = utc_now()
        account = self.ws.accounts([aid])
        current = self.ws.account_state([aid])
        state, audit = current.iloc[0:0], pd.DataFrame(columns=AUDIT_COLUMNS)
        notices = None
        previous = current["action"].iloc[0] if len(current) else "none"
        if _severity(event_action) > _severity(previous):
            decision = pd.DataFrame([self._decision_row(aid, answer, event_action, account)])
            changes = plan_changes(
                current, decision, self.policy, sweep_id="check", actor=self.actor, at=at, accounts=account
            )
            state, audit = changes.state.assign(sweep_id=None), changes.audit.assign(sweep_id=None)
            notices = action_notices(
                self.ws,
                audit,
                self.policy,
                made_by="check",
                at=at,
                trigger=answer["trigger"],
                reasons=_tie_kinds(answer, event_action),
                account=account.iloc[0].to_dict() if len(account) else None,
            )
        if audit.empty:
            row = current if len(current) else account
            limits = current if len(current) else account
            new_limit = limits["credit_limit"].iloc[0]
            old_limit = new_limit if len(current) else (before["credit_limit"].iloc[0] if len(before) else None)
            status = row["status"].iloc[0]
            audit = pd.DataFrame(
                [
                    {
                        "at": at.isoformat(timespec="seconds"),
                        "actor": self.actor,
                        "account_id": aid,
                        "event": "check",
                        "previous_action": previous,
                        "new_action": previous,
                        "previous_status": status,
                        "new_status": status,
                        "previous_limit": old_limit,
                        "new_limit": new_limit,
                        "score": answer["score"],
                        "reasons": json.dumps(answer["reasons"], ensure_ascii=False),
                        "policy_hash": self.policy.hash,
                    }
                ],
                columns=AUDIT_COLUMNS,
            )
        audit["note"] = f"real-time check ({'new account' if own is None else 'account change'}): {answer['action']}"
        self.ws.apply_manual(state=state, audit=audit, notices=notices)

    def _decision_row(self, aid: str, answer: dict[str, Any], action: str, account: pd.DataFrame) -> dict[str, Any]:
        """The event's decision as ``policy.evaluate`` would write it, for ``plan_changes``."""
        evidence = json.dumps(
            [answer["rings"], answer["accounts"], sorted(r["code"] for r in answer["reasons"])],
            sort_keys=True,
            default=str,
        )
        return {
            "account_id": aid,
            "action": action,
            "trigger": answer["trigger"],
            "score": answer["score"],
            "ring_id": None,
            "reasons": answer["reasons"],
            "credit_limit": account["credit_limit"].iloc[0],
            "evidence": hashlib.sha256(evidence.encode()).hexdigest()[:16],
        }


def _tie_kinds(answer: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The kinds of identifier that tie the account to the rings that call for ``action``, as
    reason evidence a notice names (by kind only: "payment details", never a value or a ring)."""
    kinds = sorted({k for r in answer["rings"] if r["proposes"] == action for k in r["via"]})
    return [{"evidence": {"kind": kind}} for kind in kinds]


def check(
    ws: Workspace,
    event: str | bytes | dict[str, Any],
    *,
    policy: Policy | None = None,
    config: WorkspaceConfig | None = None,
    shower: Shower = MASKED,
    apply: bool = False,
) -> dict[str, Any]:
    """Check one event against the workspace's last sweep (see ``Checker.check``).

    Returns account_id, action (none | monitor | review | restrict | suspend), held (the action
    stops an application: review or worse), trigger, score, rings (each with its tie: strong,
    weak or member), accounts (flagged accounts touched), shared (identifiers, masked by
    ``shower``), reasons ({code, text}), applied and elapsed_ms. Raises ``EventError``.
    """
    checker = Checker(ws, policy=policy or Policy.default(), config=config or WorkspaceConfig(), shower=shower)
    return checker.check(event, apply=apply)


__all__ = ["HELD", "ACTIONS", "Checker", "EventError", "check", "parse_event"]
