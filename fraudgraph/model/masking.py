"""How an identifier is shown: masked (the default), revealed on purpose, or pseudonymized.

Identifiers are personal data. Every place that shows one to a person (the command line, the
workbench, exports, case reports, ``check`` answers) passes it through a :class:`Shower`, so
the same value reads the same way everywhere:

- ``mask`` (default): enough to recognise and compare, not enough to use. A card, bank account,
  phone or national id keeps its last four digits (``•••• 4242``, ``•••-••-6789``), an email its
  first letter and domain (``r•••@outlook.com``), an IP its network half, an address its street
  words (house and flat numbers hidden). Two different
  values can mask alike (two cards ending 1111), so masked views also carry a short stable tag
  derived from the identifier's canonical key, which tells them apart without revealing either.
- ``reveal``: the raw spelling, for an investigator who asked for it (and is audited).
- ``pseudonymize``: ``kind:hex`` from HMAC-SHA-256 under a key the operator keeps
  (``FRAUDGRAPH_PSEUDONYM_KEY``), so a file can leave the team and still be joined on the
  pseudonym by whoever holds the key, and by nobody else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fraudgraph.model.values import is_missing

MODES = ("mask", "reveal", "pseudonymize")
KEY_ENV = "FRAUDGRAPH_PSEUDONYM_KEY"
HIDDEN = "•"
NO_IDENTITY = "(no identity)"  # what a pseudonymized workspace stores for a value without a key

_DIGIT = re.compile(r"\d")
_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
# Spellings a text may carry that no evidence names (a ring's top reason quoted in an account's):
# e-mail addresses and IPv4 addresses are unmistakable, so they are masked wherever they appear.
_LOOSE_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_LOOSE_IPV4 = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])")
# Evidence fields that list keys of one kind without naming it (NEW_SHARED_PAYOUT's bank accounts).
_KEY_LISTS = {"bank_accounts": "bank_account"}


class MaskingError(ValueError):
    """A masking mode that cannot be used as asked (unknown mode, pseudonyms without a key)."""


def _tail(text: str, keep: int) -> str:
    """Digits and letters hidden but the last ``keep`` (``•••• 4242``)."""
    chars = [c for c in text if c.isalnum()]
    if len(chars) <= keep:
        return HIDDEN * max(len(chars), 1)
    return f"{HIDDEN * 4} {''.join(chars[-keep:])}"


def _national_id(value: str) -> str:
    """The last four digits in the shape people know (``•••-••-6789``)."""
    chars = [c for c in value if c.isalnum()]
    if len(chars) <= 4:
        return HIDDEN * max(len(chars), 1)
    return f"{HIDDEN * 3}-{HIDDEN * 2}-{''.join(chars[-4:])}"


def _email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return _other(value)
    return f"{local[0]}{HIDDEN * 3}@{domain}"


def _phone(value: str) -> str:
    digits = "".join(_DIGIT.findall(value))
    if len(digits) <= 4:
        return HIDDEN * 4
    return f"{HIDDEN * 4} {digits[-4:]}"


def _ip(value: str) -> str:
    m = _IPV4.match(value.strip())
    if m:
        return f"{m.group(1)}.{m.group(2)}.x.x"
    if ":" in value:
        groups = value.strip().split(":")
        return ":".join(groups[:2]) + ":…"
    return _other(value)


def _address(value: str) -> str:
    words = value.split()
    shown = [_DIGIT.sub(HIDDEN, w) for w in words]
    return " ".join(shown) if shown else HIDDEN * 3


def _device(value: str) -> str:
    v = value.strip()
    if len(v) <= 6:
        return HIDDEN * len(v)
    return f"{v[:4]}…{v[-2:]}"


def _other(value: str) -> str:
    v = value.strip()
    if len(v) <= 2:
        return HIDDEN * 3
    return f"{v[:2]}{HIDDEN * 3}"


_MASKERS = {
    "card": lambda v: _tail(v, 4),
    "bank_account": lambda v: _tail(v, 4),
    "national_id": _national_id,
    "email": _email,
    "phone": _phone,
    "ip": _ip,
    "address": _address,
    "device": _device,
}


def mask(kind: str, value: Any) -> str:
    """``value`` (an identifier of ``kind``) masked for display; missing values show as ''."""
    if is_missing(value):
        return ""
    text = str(value)
    return _MASKERS.get(kind, _other)(text)


def _keyed_digest(secret: bytes, kind: str, key: Any) -> str:
    """HMAC-SHA-256 (hex) of one identifier: its kind and canonical key under ``secret``."""
    return hmac.new(secret, f"{kind}\x1f{key}".encode(), hashlib.sha256).hexdigest()


def tag(kind: str, key: Any, secret: bytes = b"fraudgraph") -> str:
    """A short stable tag for one identifier (from its canonical key): masked views use it to tell
    two values that mask alike apart. Two hex digits: a hint, not a pseudonym. The secret is public,
    so a longer tag next to the last four digits would let anyone recover a card or national id by
    trying the hundred thousand numbers that end alike; 256 tags leave hundreds of candidates."""
    return _keyed_digest(secret, kind, key)[:2]


def pseudonym(kind: str, key: Any, secret: bytes) -> str:
    """``kind:`` and 16 hex digits of HMAC-SHA-256(secret, kind + canonical key)."""
    return f"{kind}:{_keyed_digest(secret, kind, key)[:16]}"


def pseudonym_key(environ: dict[str, str] | None = None) -> bytes:
    """The operator's pseudonymization key from ``FRAUDGRAPH_PSEUDONYM_KEY`` (at least 16 chars)."""
    env = os.environ if environ is None else environ
    key = env.get(KEY_ENV, "")
    if len(key) < 16:
        raise MaskingError(
            f"pseudonyms need a secret key of at least 16 characters in {KEY_ENV}"
            + (" (it is shorter)" if key else " (it is not set)")
        )
    return key.encode()


# (kind, canonical key, raw spellings) of one identifier a text may quote.
IdentifierRef = tuple[str, str, list[str]]


def identifier_refs(value: Any) -> list[IdentifierRef]:
    """Every identifier reason evidence (or any nest of dicts and lists) names, as IdentifierRefs."""
    found: list[IdentifierRef] = []

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for x in v:
                walk(x)
            return
        if not isinstance(v, dict):
            return
        kind = v.get("kind")
        key = v.get("key", v.get("value"))
        if isinstance(kind, str) and isinstance(key, str):
            spellings = v.get("values")
            listed = spellings if isinstance(spellings, list) else []
            found.append((kind, key, [s for s in listed if isinstance(s, str)]))
        for name, x in v.items():
            if name in _KEY_LISTS and isinstance(x, list):
                found.extend((_KEY_LISTS[name], k, []) for k in x if isinstance(k, str))
            else:
                walk(x)

    walk(value)
    return found


@dataclass(frozen=True)
class Shower:
    """Shows identifiers one way (``mode``) everywhere; ``secret`` is the pseudonym key."""

    mode: str = "mask"
    secret: bytes | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise MaskingError(f"unknown identifier display {self.mode!r}: expected one of {', '.join(MODES)}")
        if self.mode == "pseudonymize" and not self.secret:
            raise MaskingError("pseudonymize needs a key (see pseudonym_key)")

    @classmethod
    def from_flags(cls, *, reveal: bool = False, pseudonymize: bool = False) -> Shower:
        if reveal and pseudonymize:
            raise MaskingError("--reveal and --pseudonymize cannot be used together")
        if pseudonymize:
            return cls("pseudonymize", pseudonym_key())
        return cls("reveal" if reveal else "mask")

    @property
    def reveals(self) -> bool:
        return self.mode == "reveal"

    def show(self, kind: str, value: Any, key: Any = None) -> str:
        """How ``value`` (raw spelling; ``key`` its canonical key if known) is shown in this mode."""
        if is_missing(value):
            return ""
        if self.mode == "reveal":
            return str(value)
        basis = value if key is None or is_missing(key) else key
        if self.mode == "pseudonymize":
            assert self.secret is not None
            return pseudonym(kind, basis, self.secret)
        return mask(kind, value)

    def key(self, kind: str, key: Any) -> str:
        """A canonical key as a key column shows it: tagged when masked, so two keys never look alike."""
        return self.show_tagged(kind, key, key)

    def values(self, kind: str, values: Any, key: Any = None) -> list[str]:
        """Raw spellings shown in this mode (one pseudonym for all of them when pseudonymized)."""
        if not isinstance(values, (list, tuple)):
            return []
        shown = [self.show(kind, v, key) for v in values if not is_missing(v)]
        return list(dict.fromkeys(shown))

    def text(self, text: Any, refs: Sequence[IdentifierRef] = ()) -> Any:
        """``text`` with every spelling of the identifiers ``refs`` names (kind, key, raw spellings)
        shown in this mode, and any e-mail or IPv4 address it quotes from elsewhere masked too."""
        if self.reveals or not isinstance(text, str) or not text:
            return text
        return self._text_masker(refs)(text)

    def _text_masker(self, refs: Sequence[IdentifierRef]) -> Callable[[str], str]:
        """One compiled substitution for many texts that may quote the identifiers ``refs`` names."""
        swaps: dict[str, str] = {}
        for kind, key, spellings in refs:
            for spelling in [key, *spellings]:
                if isinstance(spelling, str) and len(spelling.strip()) >= 3:
                    swaps.setdefault(spelling.casefold(), self.show(kind, spelling, key))
        pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(swaps, key=len, reverse=True)), re.IGNORECASE)
            if swaps
            else None
        )

        def masked(text: str) -> str:
            if pattern is not None:
                text = pattern.sub(lambda m: swaps[m.group(0).casefold()], text)
            text = _LOOSE_EMAIL.sub(lambda m: self.show("email", m.group(0), m.group(0).casefold()), text)
            return _LOOSE_IPV4.sub(lambda m: self.show("ip", m.group(0)), text)

        return masked

    def evidence(self, value: Any) -> Any:
        """A copy of reason evidence with every identifier it names (``kind`` + ``key``/``value``/
        ``values``, and lists of keys such as ``bank_accounts``) shown in this mode."""
        if self.reveals:
            return value
        if isinstance(value, list):
            return [self.evidence(v) for v in value]
        if not isinstance(value, dict):
            return value
        kind = value.get("kind")
        out: dict[str, Any] = {}
        for name, v in value.items():
            if isinstance(kind, str) and name == "key" and isinstance(v, str):
                out[name] = self.key(kind, v)
            elif isinstance(kind, str) and name == "value" and isinstance(v, str):
                out[name] = self.show(kind, v, value.get("key"))
            elif isinstance(kind, str) and name == "values":
                out[name] = self.values(kind, v, value.get("key"))
            elif name in _KEY_LISTS and isinstance(v, list):
                out[name] = [self.key(_KEY_LISTS[name], k) for k in v]
            else:
                out[name] = self.evidence(v)
        return out

    def reasons(self, reasons: Any, refs: Sequence[IdentifierRef] = ()) -> Any:
        """Stored reasons (code, text, evidence) as shown: texts and evidence in this mode. The
        identifiers a reason's own evidence names are known without ``refs``; ``refs`` adds those
        of the view around it (a ring's identifiers for a text quoting the ring's top reason)."""
        if self.reveals or not isinstance(reasons, list):
            return reasons
        masked = self._text_masker([*refs, *identifier_refs(reasons)])
        out = []
        for r in reasons:
            if isinstance(r, dict):
                text = r.get("text")
                r = {
                    **r,
                    "text": masked(text) if isinstance(text, str) and text else text,
                    "evidence": self.evidence(r.get("evidence")),
                }
            out.append(r)
        return out

    def show_tagged(self, kind: str, value: Any, key: Any = None) -> str:
        """Like ``show``, with the short tag after a masked value (``•••• 1111 ·3f``)."""
        shown = self.show(kind, value, key)
        if self.mode != "mask" or not shown:
            return shown
        basis = value if key is None or is_missing(key) else key
        return f"{shown} ·{tag(kind, basis)}"


MASKED = Shower()
REVEALED = Shower("reveal")


def key_fingerprint(secret: bytes) -> str:
    """A short public fingerprint of a pseudonym key: a workspace records it, so a later load or
    check under another key is refused instead of silently matching nothing."""
    return hmac.new(secret, b"fraudgraph key fingerprint", hashlib.sha256).hexdigest()[:12]


def pseudonymize_links(links: Any, secret: bytes) -> Any:
    """``links`` (a frame with kind, value, key) with key and value both replaced by the keyed
    pseudonym of the canonical key (``pseudonym``); rows with no key (values that carry no
    identity) keep no value. Equal keys stay equal, so detection is unchanged; the raw spelling
    is not kept. One HMAC per distinct (kind, key)."""
    out = links.copy()
    has_key = out["key"].notna().to_numpy()
    pairs = list(zip(out["kind"].to_numpy()[has_key], out["key"].to_numpy()[has_key]))
    memo: dict[tuple[Any, Any], str] = {}
    shown = [memo.setdefault(p, pseudonym(p[0], p[1], secret)) for p in pairs]
    key = out["key"].astype(object).to_numpy().copy()
    key[has_key] = shown
    out["key"] = key
    value = out["value"].astype(object).to_numpy().copy()
    value[has_key] = shown
    value[~has_key] = NO_IDENTITY
    out["value"] = value
    return out
