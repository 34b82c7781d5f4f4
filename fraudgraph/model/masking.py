"""How an identifier is shown: masked (the default), revealed on purpose, or pseudonymized.

Identifiers are personal data. Every place that shows one to a person (the command line, the
workbench, exports, case reports, ``check`` answers) passes it through a :class:`Shower`, so
the same value reads the same way everywhere:

- ``mask`` (default): enough to recognise and compare, not enough to use. A card keeps its last
  four digits, an email its first letter and domain, a phone its last three digits, an IP its
  network half, an address its street words (house and flat numbers hidden). Two different
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
from dataclasses import dataclass
from typing import Any

from fraudgraph.model.values import is_missing

MODES = ("mask", "reveal", "pseudonymize")
KEY_ENV = "FRAUDGRAPH_PSEUDONYM_KEY"
HIDDEN = "*"

_DIGIT = re.compile(r"\d")
_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


class MaskingError(ValueError):
    """A masking mode that cannot be used as asked (unknown mode, pseudonyms without a key)."""


def _tail(text: str, keep: int) -> str:
    """Digits and letters hidden but the last ``keep``; separators kept so the shape reads."""
    chars = [c for c in text if c.isalnum()]
    if len(chars) <= keep:
        return HIDDEN * max(len(chars), 1)
    return HIDDEN * 4 + "".join(chars[-keep:])


def _email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return _other(value)
    return f"{local[0]}{HIDDEN * 3}@{domain}"


def _phone(value: str) -> str:
    digits = "".join(_DIGIT.findall(value))
    if len(digits) <= 3:
        return HIDDEN * 3
    prefix = "+" if value.strip().startswith("+") else ""
    return f"{prefix}{HIDDEN * 3}{digits[-3:]}"


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
    "national_id": lambda v: _tail(v, 2),
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


def tag(kind: str, key: Any, secret: bytes = b"fraudgraph") -> str:
    """A short stable tag for one identifier (from its canonical key): masked views use it to tell
    two values that mask alike apart. Four hex digits: a hint, not a pseudonym."""
    digest = hmac.new(secret, f"{kind}\x1f{key}".encode(), hashlib.sha256).hexdigest()
    return digest[:4]


def pseudonym(kind: str, key: Any, secret: bytes) -> str:
    """``kind:`` and 16 hex digits of HMAC-SHA-256(secret, kind + canonical key)."""
    digest = hmac.new(secret, f"{kind}\x1f{key}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:16]}"


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

    def show_tagged(self, kind: str, value: Any, key: Any = None) -> str:
        """Like ``show``, with the short tag after a masked value (``**** 1111 ·3fa2``)."""
        shown = self.show(kind, value, key)
        if self.mode != "mask" or not shown:
            return shown
        basis = value if key is None or is_missing(key) else key
        return f"{shown} ·{tag(kind, basis)}"


MASKED = Shower()
REVEALED = Shower("reveal")
