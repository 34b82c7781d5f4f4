"""Workspace configuration (TOML): extra identifier kinds with their weights, and detection tunables.

    [kinds]               # identifier kinds beyond the contract's eight, each with its link weight
    loyalty_card = 0.6

    [detection]           # any field of fraudgraph.model.config.DetectionConfig
    hub_cap = 60

    [limits]              # any field of fraudgraph.model.limits.InputLimits
    max_money = 1e9

The data contract accepts another kind only when the configuration declares it; the sweep then
weighs it like the built-in kinds (by its weight and by rarity).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError

from fraudgraph.errors import FraudGraphError
from fraudgraph.model.frames import IDENTIFIER_KINDS
from fraudgraph.model.limits import InputLimits

# How much one shared identifier of each kind says about two accounts being the same party.
# Strong: hard to share by accident. Medium: families and flatmates share them. Weak: NAT, wifi.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "device": 1.0,
    "card": 1.0,
    "bank_account": 1.0,
    "national_id": 1.2,
    "address": 0.5,
    "phone": 0.6,
    "email": 0.6,
    "ip": 0.25,
}
STRONG_KINDS = frozenset({"device", "card", "bank_account", "national_id"})
# Identifier kinds that name a place or a network many strangers may share (DetectionConfig.place_hub_cap).
PLACE_KINDS = frozenset({"address", "ip"})


@dataclass
class DetectionConfig:
    """Every tunable of a detection sweep, with defaults calibrated on synthetic worlds.

    kind_weights: weight of one shared identifier per kind (before the rarity decay).
    extra_kinds: weights of additional identifier kinds declared by the workspace configuration.
    hub_cap: identifiers shared by more accounts than this never link (they are recorded as hubs).
    place_hub_cap: the same for places and networks (``PLACE_KINDS``: addresses and IPs), where
        strangers gather by design: a parcel locker, a café's Wi-Fi, a carrier's NAT. A crowd
        there glues strangers together long before it reaches ``hub_cap``; a card or a device
        behind that many accounts is evidence, not a place.
    hub_robust_z / hub_min_accounts: an identifier shared by at least ``hub_min_accounts`` accounts
        whose log-count is more than ``hub_robust_z`` robust standard deviations above the typical
        shared identifier of its kind is also a hub (a kiosk tablet, a carrier NAT address).
    rarity_scale: the rarity decay is ``1 / (1 + log(n / 2) / rarity_scale)`` for an identifier
        shared by ``n`` accounts: 1 for a pair, 0.5 at ``n = 2 * e**rarity_scale``.
    link_threshold: two accounts are linked when the summed weight of what they share reaches it.
        The default lets any shared identifier that is not a hub link (even an IP): a bust-out
        may share nothing stronger, and scoring, not linking, decides what is suspicious.
    max_community_size: connected components above this size are refined by community detection
        (families and rings are small; a bigger component is usually groups bridged by a weak link).
    resolution: Leiden CPM resolution: a group stays together when its link weight beats this
        per pair of members.
    community_per_component: run Leiden on each component above ``max_community_size`` on its
        own (seeded alike) instead of in one call over all of them. One call shares its random
        numbers between components, so a change anywhere can move the cut of any of them; alone,
        a component's cut depends on its own links only, and a sweep after a delta reuses the
        cuts of the components it did not touch. On by default (measured: quality equal or
        slightly better on held-out seeds of both generators, and the rings stage ~6x faster at
        a million accounts); ``false`` keeps the one-call cut of earlier versions.
    pass_through_min_payers / pass_through_min_forward: an account paid by at least this many
        distinct accounts that passes at least this share of what it received on to other
        accounts is a pass-through (a mule); its transfers to accounts link it to the payees.
        Mule networks share few identifiers but funnel money to the same collectors; ordinary
        payers (rent, friends) do not link, so a landlord does not glue its tenants together.
    money_weight: projected weight of a pass-through transfer between two accounts.
    burst_days: a link first seen this many days before ``as_of`` or later is "recent".
    opened_together_days: window for the "opened together" synchrony feature.
    spend_burst_ratio: merchant spending within one week of at least this share of the credit
        line is a spending burst (the "bust" of a bust-out).
    severe_overdue_days: days past due from which an account is seriously delinquent (90 DPD).
    sync_days: a member's first use of a shared identifier within this many days of the ring's
        median first use of it counts as "linked together".
    pagerank_alpha / pagerank_tol / pagerank_max_iter: proximity to confirmed fraud.
    isolation_estimators: trees of the IsolationForest over ring features.
    """

    kind_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    extra_kinds: dict[str, float] = field(default_factory=dict)
    hub_cap: int = 40
    place_hub_cap: int = 25
    hub_robust_z: float = 5.0
    hub_min_accounts: int = 30
    rarity_scale: float = 2.0
    link_threshold: float = 0.1
    max_community_size: int = 3
    resolution: float = 0.03
    community_per_component: bool = True
    pass_through_min_payers: int = 3
    pass_through_min_forward: float = 0.5
    money_weight: float = 1.0
    burst_days: float = 30.0
    opened_together_days: float = 21.0
    sync_days: float = 7.0
    spend_burst_ratio: float = 0.2
    severe_overdue_days: int = 90
    pagerank_alpha: float = 0.85
    pagerank_tol: float = 1e-9
    pagerank_max_iter: int = 200
    isolation_estimators: int = 100

    def weight_of(self, kind: str) -> float:
        """The base weight of an identifier kind; ValueError for a kind nobody declared."""
        if kind in self.extra_kinds:
            return float(self.extra_kinds[kind])
        if kind in self.kind_weights:
            return float(self.kind_weights[kind])
        known = ", ".join(sorted({*self.kind_weights, *self.extra_kinds}))
        raise ValueError(
            f"identifier kind {kind!r} has no weight: expected one of {known}, "
            "or declare it in DetectionConfig.extra_kinds"
        )


_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ConfigError(FraudGraphError):
    """The workspace configuration file is invalid."""


@dataclass(frozen=True)
class WorkspaceConfig:
    extra_kinds: dict[str, float] = field(default_factory=dict)
    detection: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    limits: InputLimits = field(default_factory=InputLimits)
    text: str | None = None  # the file as read, so a workspace can remember it

    def remembered(self) -> dict[str, str] | None:
        """What a load records of this configuration (its path and text); None for the defaults."""
        if self.text is None:
            return None
        return {"path": str(Path(self.source).resolve()) if self.source else "", "text": self.text}

    def detection_config(self):
        """The ``DetectionConfig`` these settings describe (defaults for what they leave out)."""
        return DetectionConfig(**{**self.detection, "extra_kinds": dict(self.extra_kinds)})


def _line_of(text: str, key: str) -> int | None:
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line) or re.match(rf"^\s*\[\s*{re.escape(key)}\s*\]", line):
            return i
    return None


def _kind_name(name: str) -> str:
    if not _KIND_NAME.match(name):
        raise ValueError("a kind name is lower-case letters, digits and _")
    if name in IDENTIFIER_KINDS:
        raise ValueError("is a built-in kind; set its weight with [detection] kind_weights")
    return name


def _kind_weight(weight: Any) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < float(weight) <= 10:
        raise ValueError(f"weight {weight!r} must be a number in (0, 10]")
    return float(weight)


class _ConfigFile(BaseModel):
    """The file's top level: three optional tables, nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kinds: dict[Annotated[str, AfterValidator(_kind_name)], Annotated[float, BeforeValidator(_kind_weight)]] = {}
    detection: dict[str, Any] = {}
    limits: dict[str, Any] = {}


# The settings tables are validated against the dataclasses the code uses, so a new setting is
# one new field, with its type, in one place.
# (Lax mode, as strict mode would want dataclass instances; booleans, which lax mode would take
# as 0 and 1, are refused before: no setting is a boolean.)
DetectionConfig.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
InputLimits.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
_DETECTION = TypeAdapter(DetectionConfig)
_LIMITS = TypeAdapter(InputLimits)
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")


def _config_error(path: Path, text: str, error: ValidationError, section: str, allowed: list[str]) -> ConfigError:
    """The first problem pydantic found, as ``file:line: dotted.key: message``."""
    first = error.errors()[0]
    parts = [str(x) for x in first["loc"] if x != "[key]"]
    if not parts:  # a check across fields (__post_init__): name the setting its message names
        parts = [k for k in allowed if k in str(first["msg"])][:1]
    key = ".".join([section, *parts] if section else parts) or section
    if first["type"] in _UNKNOWN:
        where = "section or key" if not section else "setting"
        message = f"unknown {where} (expected {', '.join(allowed)})"
    elif first["type"] == "value_error":
        message = str(first["msg"]).removeprefix("Value error, ")
    else:
        message = f"{first['msg']} (got {first['input']!r})"
    line = _line_of(text, key.rsplit(".", 1)[-1])
    return ConfigError(f"{path}{':' + str(line) if line else ''}: {key}: {message}")


def _numbers_are_numbers(table: dict[str, Any], fields: dict[str, Any], path: Path, text: str, section: str) -> None:
    """A number setting must be written as a TOML number: not a boolean (lax validation would take
    it as 0 or 1) and not a string (it would parse "60")."""
    for key, value in table.items():
        if fields.get(key) in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            line = _line_of(text, key)
            raise ConfigError(f"{path}{':' + str(line) if line else ''}: {section}.{key}: {value!r} is not a number")


def load_config(path: str | Path | None) -> WorkspaceConfig:
    """Read and validate a configuration file; ``None`` gives the defaults.

    Validation is pydantic's (chosen over msgspec for field validators and error locations that
    map back to TOML keys and lines); every error reads ``file:line: dotted.key: message``.
    """
    if path is None:
        return WorkspaceConfig()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {p} does not exist") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    return config_from_text(text, p)


def config_from_text(text: str, p: Path) -> WorkspaceConfig:
    """A configuration from its TOML ``text`` (as read from ``p``, or as a workspace remembers it)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    try:
        top = _ConfigFile.model_validate(data)
    except ValidationError as e:
        raise _config_error(p, text, e, "", ["[kinds]", "[detection]", "[limits]"]) from None
    detection_keys = sorted(f.name for f in dataclasses.fields(DetectionConfig) if f.name != "extra_kinds")
    if "extra_kinds" in top.detection:
        raise ConfigError(f"{p}: detection.extra_kinds: declare extra kinds in [kinds]")
    _numbers_are_numbers(
        top.detection, {f.name: f.type for f in dataclasses.fields(DetectionConfig)}, p, text, "detection"
    )
    _numbers_are_numbers(top.limits, {f.name: f.type for f in dataclasses.fields(InputLimits)}, p, text, "limits")
    try:
        _DETECTION.validate_python(top.detection)
    except ValidationError as e:
        raise _config_error(p, text, e, "detection", detection_keys) from None
    limits_keys = sorted(f.name for f in dataclasses.fields(InputLimits))
    try:
        limits = _LIMITS.validate_python(top.limits)
    except ValidationError as e:
        raise _config_error(p, text, e, "limits", limits_keys) from None
    return WorkspaceConfig(
        extra_kinds=dict(top.kinds), detection=dict(top.detection), source=str(p), limits=limits, text=text
    )
