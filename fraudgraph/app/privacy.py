"""Keyed pseudonymization at load (``load --pseudonymize``): the workspace stores only
HMAC-SHA-256 pseudonyms of identifier keys, never a raw spelling or a canonical key.

Detection works unchanged: equal keys give equal pseudonyms. What is lost: the raw spellings an
investigator reads, finding an account by a phone number typed in, and exports that another team
can join on real values. Whoever holds the key (``FRAUDGRAPH_PSEUDONYM_KEY``) can still check a new
event against the workspace (``check`` pseudonymizes the event's keys the same way). The
workspace records the key's fingerprint with each load, so a load or a check under another key,
or a plain load into a pseudonymized workspace (and the reverse), is refused: they would match
nothing and split every ring silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraudgraph.errors import FraudGraphError
from fraudgraph.ingest.contract import Dataset
from fraudgraph.model.masking import KEY_ENV, MaskingError, key_fingerprint, pseudonym_key, pseudonymize_links
from fraudgraph.workspace.base import Workspace

MARK = "pseudonymized"
NO_KEY = (
    "This workspace holds identifiers only as keyed pseudonyms: to find accounts by a phone, e-mail, card "
    f"or other identifier typed in, set {KEY_ENV} to the key it was loaded with where this runs "
    "(account and ring ids are found without it)."
)
OTHER_KEY = (
    f"This workspace was pseudonymized under another key than {KEY_ENV} holds: identifiers typed in "
    "cannot be found until it holds the key the workspace was loaded with (account and ring ids are found)."
)


def _fingerprint_of(last_load: dict[str, Any] | None) -> str | None:
    config = (last_load or {}).get("config") or {}
    return config.get(MARK) if isinstance(config, dict) else None


def workspace_fingerprint(ws: Workspace) -> str | None:
    """The pseudonym key fingerprint the workspace's data was loaded under, or None (plain data,
    or nothing loaded yet)."""
    return _fingerprint_of(ws.last_load())


def prepare_load(ws: Workspace, dataset: Dataset, *, pseudonymize: bool, environ: dict[str, str] | None = None) -> None:
    """Pseudonymize ``dataset``'s links in place when asked (and record the key's fingerprint);
    refuse a load that would mix plain and pseudonymized data, or two keys."""
    last_load = ws.last_load()
    stored = _fingerprint_of(last_load)
    if not pseudonymize:
        if stored:
            raise FraudGraphError(
                "this workspace holds pseudonymized identifiers: load with --pseudonymize and the same key"
            )
        return
    secret = pseudonym_key(environ)
    mark = key_fingerprint(secret)
    if stored is None and last_load is not None:
        raise FraudGraphError("this workspace already holds plain identifiers: --pseudonymize needs a new workspace")
    if stored is not None and stored != mark:
        raise FraudGraphError(
            f"this workspace was pseudonymized under another key (fingerprint {stored}, this key {mark})"
        )
    dataset.links = pseudonymize_links(dataset.links, secret)
    config: dict[str, Any] = dict(dataset.config or {})
    config[MARK] = mark
    dataset.config = config


def check_secret(ws: Workspace, environ: dict[str, str] | None = None) -> bytes | None:
    """The key ``check`` must pseudonymize events with (None for a plain workspace); refuses a
    missing key or another key than the workspace's."""
    stored = workspace_fingerprint(ws)
    if stored is None:
        return None
    secret = pseudonym_key(environ)
    if key_fingerprint(secret) != stored:
        raise FraudGraphError(
            f"this workspace was pseudonymized under another key (fingerprint {stored}): "
            "set FRAUDGRAPH_PSEUDONYM_KEY to the key it was loaded with"
        )
    return secret


@dataclass(frozen=True)
class LookupKey:
    """How identifiers an investigator types are looked up in a workspace: ``secret`` pseudonymizes
    them (a pseudonymized workspace, the operator's key at hand; None for plain data), ``notice``
    says in one line why they cannot be found (pseudonymized, and no key or another key)."""

    secret: bytes | None = None
    notice: str | None = None

    @property
    def blind(self) -> bool:
        """Whether typed identifiers cannot be looked up at all (a notice says why)."""
        return self.notice is not None


def lookup_key(ws: Workspace, environ: dict[str, str] | None = None) -> LookupKey:
    """The ``LookupKey`` for searching ``ws`` by typed identifiers: never raises for a missing or
    wrong key (an investigator can still find accounts by id), it says so instead."""
    stored = workspace_fingerprint(ws)
    if stored is None:
        return LookupKey()
    try:
        secret = pseudonym_key(environ)
    except MaskingError:
        return LookupKey(notice=NO_KEY)
    if key_fingerprint(secret) != stored:
        return LookupKey(notice=OTHER_KEY)
    return LookupKey(secret=secret)
